"""The project's Redis cache backend: django-redis's ``RedisCache`` with a
per-process circuit breaker, used by every alias crm/cache_settings.py builds.

A hung Redis (frozen, paused, a network path that drops packets) answers
nothing, so every call waits for the socket timeout. After a timeout or a
connection error the alias's breaker opens, and for ``BREAKER_SECONDS``
(OPTIONS, default 5) calls skip Redis in this process without touching the
socket: an alias that raises errors (``IGNORE_EXCEPTIONS`` false, the
dashboard's) raises ``BreakerOpen``, a ``redis.ConnectionError``; one that
ignores them returns the miss or default, as django-redis does for any error.
The first call after the window tries Redis again. A hung Redis so costs at
most one timeout per alias per process per window (two when a write times
out first: below); the outage is logged once a minute per alias.

A write that times out opens the breaker for writes only (``READS``): Redis
may be paused for writes alone (``CLIENT PAUSE … WRITE``, as a failover
does) and still answer reads, so cached values go on being served. Under a
full hang the next read times out too and opens it for every call.

``always_attempt()`` lets calls through while the breaker is open, for writes
whose failure costs more elsewhere than a timeout here (the dashboard's
version bumps: a bump that could succeed must not become a bypass), unless
the breaker opened on a *timeout*: a Redis that hung a moment ago most likely
hangs again, and trying would cost another timeout, so even those calls skip
it for the window (a hung Redis costs a process one timeout per window, writes
included). After a refused or reset connection, which fails at once, they
are still tried.

``bump_counters()`` increments several counters in one round trip (a
pipeline), so a write's version bumps cost one timeout, not one per key.

Errors that say nothing about reachability (a full Redis refusing a write, a
wrong type) do not open the breaker: they fail that call only.
"""

import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial

import redis
from django_redis.cache import RedisCache as DjangoRedisCache
from django_redis.exceptions import ConnectionInterrupted

logger = logging.getLogger(__name__)

BREAKER_SECONDS = 5.0
OUTAGE_LOG_INTERVAL = 60.0  # seconds: warn once per interval, not once per call

# What a hung or unreachable Redis raises (socket.timeout is TimeoutError, an OSError).
TRIPPING_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


class BreakerOpen(redis.ConnectionError):
    """Raised instead of trying Redis while the alias's breaker is open."""


_attempt_anyway = ContextVar("attempt_anyway", default=False)


@contextmanager
def always_attempt():
    """Within the block, cache calls try Redis even while a breaker is open
    (a failure still opens it, or keeps it open)."""
    token = _attempt_anyway.set(True)
    try:
        yield
    finally:
        _attempt_anyway.reset(token)


def timed_out(exc):
    """Whether `exc` says Redis did not answer in time (hung), rather than refused."""
    return isinstance(exc, (redis.TimeoutError, TimeoutError))


# Calls that only read. A *write* that timed out while reads may still be
# answered (Redis paused for writes, as a failover's CLIENT PAUSE WRITE does)
# opens the breaker for writes only; a read that timed out, or any refused
# connection, opens it for every call.
READS = frozenset({"get", "get_many", "has_key", "ttl", "pttl", "keys", "iter_keys",
                   "memory policy"})


class Breaker:
    """One cache's health as this process sees it. `clock` is monotonic seconds."""

    def __init__(self, name, *, seconds=BREAKER_SECONDS, clock=time.monotonic):
        self.name = name
        self.seconds = seconds
        self.clock = clock
        self.open_until = None
        self.opened_on_timeout = False
        self.writes_open_until = None
        self.last_logged = None

    def is_open(self):
        """Open for every call."""
        return self.open_until is not None and self.clock() < self.open_until

    def skips(self, action):
        """Whether the call `action` now skips Redis (module docstring)."""
        if self.is_open() and (self.opened_on_timeout or not _attempt_anyway.get()):
            return True
        return (action not in READS and self.writes_open_until is not None
                and self.clock() < self.writes_open_until)

    def trip(self, exc, action):
        now = self.clock()
        if timed_out(exc) and action not in READS:
            self.writes_open_until = now + self.seconds
        else:
            self.open_until = now + self.seconds
            self.opened_on_timeout = timed_out(exc)
        if self.last_logged is None or now - self.last_logged >= OUTAGE_LOG_INTERVAL:
            self.last_logged = now
            logger.warning(
                "Redis cache %s unavailable during %s (%s: %s); skipping it for %s s "
                "in this process.", self.name, action, type(exc).__name__, exc, self.seconds,
            )

    def reset(self):
        self.open_until = None
        self.opened_on_timeout = False
        self.writes_open_until = None
        self.last_logged = None

    def call(self, action, func, *args, **kwargs):
        """func(*args, **kwargs), unless the breaker is open: then django-redis's
        ConnectionInterrupted (caused by BreakerOpen) without trying."""
        if self.skips(action):
            raise ConnectionInterrupted(connection=None) from BreakerOpen(
                f"Redis cache {self.name} skipped after an error (breaker open)")
        try:
            return func(*args, **kwargs)
        except ConnectionInterrupted as exc:
            if isinstance(exc.__cause__, TRIPPING_ERRORS):
                self.trip(exc.__cause__, action)
            raise
        except TRIPPING_ERRORS as exc:  # the client calls django-redis does not wrap
            self.trip(exc, action)
            raise


class Breakers:
    """This process's breakers by name. Django builds a cache object per thread;
    the breaker is shared, so one timeout opens it for every thread."""

    def __init__(self):
        self._by_name = {}
        self._lock = threading.Lock()

    def get(self, name, *, seconds):
        with self._lock:
            if name not in self._by_name:
                self._by_name[name] = Breaker(name, seconds=seconds)
            return self._by_name[name]

    def reset(self):
        """Close every breaker (tests start each case with Redis reachable)."""
        with self._lock:
            for breaker in self._by_name.values():
                breaker.reset()


breakers = Breakers()


class _GuardedClient:
    """The django-redis client as the cache backend calls it: each call
    through the breaker. Every RedisCache method makes exactly one such call."""

    # No round trip: close() only drops connections, make_key builds a string.
    UNGUARDED = frozenset({"close", "make_key", "make_pattern"})

    def __init__(self, client, breaker):
        self._client = client
        self._breaker = breaker

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if name in self.UNGUARDED or not callable(attribute):
            return attribute
        return partial(self._breaker.call, name, attribute)


@dataclass(frozen=True)
class MemoryPolicy:
    """What Redis does when it runs out of memory: `maxmemory` in bytes (0: no
    limit) and its `policy`; None where the server would not say (`reason`)."""

    maxmemory: int | None
    policy: str | None
    reason: str = ""

    @property
    def status(self):
        """One of "ok", "warning" (noeviction, or no maxmemory) and "unknown"."""
        if self.maxmemory is None or self.policy is None:
            return "unknown"
        return "warning" if self.policy == "noeviction" or self.maxmemory == 0 else "ok"


class RedisCache(DjangoRedisCache):
    """django-redis's cache, each call through the alias's breaker (module docstring)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        options = params.get("OPTIONS", {})
        # One breaker per alias: the project's aliases differ in location,
        # key prefix or error style (an alias may ignore errors; the dashboard raises).
        name = f"{server}|{params.get('KEY_PREFIX', '')}|{self._ignore_exceptions}"
        self.breaker = breakers.get(name, seconds=options.get("BREAKER_SECONDS", BREAKER_SECONDS))
        self._guarded = None

    @property
    def client(self):
        if self._guarded is None:
            self._guarded = _GuardedClient(super().client, self.breaker)
        return self._guarded

    always_attempt = staticmethod(always_attempt)

    def bump_counters(self, keys, initial):
        """Increment the counters at `keys` (cache keys, no timeout) in one
        round trip: a pipeline of ``SET key initial() NX`` and ``INCR key``
        per key, so a missing counter starts above `initial()`. Returns
        {key: error} for the keys whose increment failed: every key when Redis
        did not answer (or the breaker skipped it; it may have applied some),
        those Redis refused (e.g. out of memory under noeviction) otherwise.
        Never raises for Redis errors."""
        keys = list(keys)
        if not keys:
            return {}
        try:
            client = self.client.get_client(write=True)
            pipeline = client.pipeline(transaction=False)
            for key in keys:
                raw = self.client.make_key(key)
                pipeline.set(raw, initial(), nx=True)
                pipeline.incr(raw)
            results = self.breaker.call("bump", pipeline.execute, raise_on_error=False)
        except (redis.RedisError, ConnectionInterrupted, OSError) as exc:
            return dict.fromkeys(keys, exc)
        failed = {}
        for index, key in enumerate(keys):
            errors = [r for r in results[2 * index:2 * index + 2] if isinstance(r, Exception)]
            if errors:
                failed[key] = errors[0]
        return failed

    def memory_policy(self):
        """The server's MemoryPolicy, from INFO memory, else CONFIG GET (either
        may be refused, e.g. by a managed service); never raises."""
        try:
            server = self.client.get_client(write=True)
            try:
                info = self.breaker.call("memory policy", server.info, "memory")
                return MemoryPolicy(int(info["maxmemory"]), str(info["maxmemory_policy"]))
            except (redis.ResponseError, KeyError):
                config = self.breaker.call("memory policy", server.config_get, "maxmemory*")
                return MemoryPolicy(int(config["maxmemory"]), str(config["maxmemory-policy"]))
        except (redis.RedisError, ConnectionInterrupted, KeyError, ValueError) as exc:
            return MemoryPolicy(None, None, reason=f"{type(exc).__name__}: {exc}")


def memory_policy(cache):
    """`cache`'s MemoryPolicy, or None for a cache that is not this Redis backend
    (local memory is per process and culls by count; a missing dashboard
    version token is recreated, never reused)."""
    read = getattr(cache, "memory_policy", None)
    return read() if read is not None else None
