"""The dashboard's cache: key building, get-or-compute, invalidation, hit counting.

Key scheme
----------
Every entry key embeds a *version token* of its scope, read before the value
is computed::

    dash:<family>:<scope>:<params>:v<token>[:v<token of a scope it also shows>]

    scope "team"    -> token stored at dash:ver:team     (the whole team's view)
    scope "u<id>"   -> token stored at dash:ver:user:<id> (one user's view)
    scope "users"   -> token stored at dash:ver:users     (the active-user list)

A committed write bumps the tokens of what it touched (its owners' and the
team's) with one atomic INCR each. A request that read the database before the
bump stores its result under the old token, which nobody reads again: the
classic read/write/store race cannot serve stale data. Tokens never expire;
a missing token is recreated from the clock (time_ns), never reused.

Failed invalidation
-------------------
If a bump fails (Redis unreachable), entries under the old token could be
served once Redis is back. The writer then records a *bypass* in the database
(``CacheBypass``: until now + the longest entry timeout + a margin). Every dashboard read
checks that row (one primary-key lookup) and, while it is active, neither
reads nor stores entries. By the time it ends, every entry stored before the
failure has expired, so none can be served.

Read replicas
-------------
The dashboard view runs ``fetch`` inside ``crm.db_routers.use_replica()``, yet
every value this module *stores* is computed on the primary (``use_primary``
in ``_compute_once``); replicas serve only values that are not stored (cache
down, bypass active, lock unavailable). Why: the version tokens are read
before computing. A write commits on the primary, then bumps its tokens; a
request that reads the new token and computes on a replica that has not yet
replayed the commit would store the old numbers under the *new* token, and
they would be served until the next write or the timeout. On the primary,
a token read after the bump means the commit is visible. Values served once
and thrown away may lag by the replica's delay, like any replica read (and a
user who has just written reads from the primary: read-your-writes).

Misses, outages, monitoring
---------------------------
Concurrent misses on one key compute once: the first takes a short lock
(cache ``add``), the others poll for the value and compute themselves if the
holder is slow. Parts fetched while another part computes (the page's
sections, inside the whole page) ride on that part's lock: they are computed
without locks of their own and stored together, one round trip per timeout.
If the cache is unreachable the dashboard computes from the database; a
per-process breaker skips the cache for a few seconds after an error and a
warning is logged once per interval. Hits and misses are counted per family
in time buckets (``cache_stats``), gathered in the process and flushed to the
cache at most once a second. The hit rate shown is that of the lookups
requests make themselves, not of the sections looked up while a page is
rebuilt.
"""

import logging
import threading
import time
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from crm.db_routers import use_primary

logger = logging.getLogger(__name__)

KEY_PREFIX = "dash"
TEAM_SCOPE = "team"
USERS_SCOPE = "users"

LOCK_SECONDS = 10  # a crashed holder blocks nobody for longer than this
LOCK_WAIT_SECONDS = 2.0  # then a waiter computes the value itself
LOCK_POLL_SECONDS = 0.05
BREAKER_SECONDS = 5.0  # skip the cache this long after an error
OUTAGE_LOG_INTERVAL = 60.0
BYPASS_MARGIN_SECONDS = 60
STATS_WINDOW_SECONDS = 300
HIT_RATE_WARNING = 0.70
HIT_RATE_MIN_LOOKUPS = 20


def family_timeouts():
    return {
        "day": settings.DASHBOARD_DAY_METRICS_TTL,
        "due": settings.DASHBOARD_DAY_METRICS_TTL,
        # Whole responses. A family whose stored value changes shape takes a
        # new name ("page" held a dict of sections before "html" held the
        # whole page), so entries written by the previous release are never read.
        "html": settings.DASHBOARD_DAY_METRICS_TTL,
        "json": settings.DASHBOARD_DAY_METRICS_TTL,
        "team": settings.DASHBOARD_TEAM_PERFORMANCE_TTL,
        "charts": settings.DASHBOARD_TEAM_PERFORMANCE_TTL,
        "users": settings.DASHBOARD_TEAM_PERFORMANCE_TTL,
    }


def longest_timeout():
    return max(family_timeouts().values())


# --- errors and the per-process breaker -------------------------------------

def _cache_errors():
    errors = [ConnectionError, TimeoutError, OSError]
    try:
        from redis.exceptions import RedisError

        errors.append(RedisError)
    except ImportError:  # pragma: no cover - redis is a pinned dependency
        pass
    try:
        from django_redis.exceptions import ConnectionInterrupted

        errors.append(ConnectionInterrupted)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


CACHE_ERRORS = _cache_errors()


class _Breaker:
    def __init__(self):
        self.open_until = 0.0
        self.last_logged = 0.0

    def is_open(self):
        return time.monotonic() < self.open_until

    def trip(self, exc, action):
        now = time.monotonic()
        self.open_until = now + BREAKER_SECONDS
        if now - self.last_logged >= OUTAGE_LOG_INTERVAL:
            self.last_logged = now
            logger.warning(
                "Dashboard cache unavailable during %s (%s: %s); serving from the database.",
                action, type(exc).__name__, exc,
            )

    def reset(self):
        self.open_until = 0.0
        self.last_logged = 0.0


breaker = _Breaker()


class CacheUnavailable(Exception):
    pass


def _call(action, func, *args, **kwargs):
    """Run a cache operation; raise CacheUnavailable instead of a backend error."""
    if breaker.is_open():
        raise CacheUnavailable(action)
    try:
        return func(*args, **kwargs)
    except CACHE_ERRORS as exc:
        breaker.trip(exc, action)
        raise CacheUnavailable(action) from exc


# --- keys and versions ------------------------------------------------------

def user_scope(user_id):
    return TEAM_SCOPE if user_id is None else f"u{int(user_id)}"


def _version_key(scope):
    if scope in (TEAM_SCOPE, USERS_SCOPE):
        return f"{KEY_PREFIX}:ver:{scope}"
    return f"{KEY_PREFIX}:ver:user:{scope[1:]}"


def _fresh_token():
    # Larger than any token handed out before (increments are tiny next to
    # the nanoseconds that pass), so a recreated token never matches old keys.
    return time.time_ns()


def _read_versions(scopes):
    keys = {scope: _version_key(scope) for scope in scopes}
    found = _call("version read", cache.get_many, list(keys.values()))
    versions = {}
    for scope, key in keys.items():
        token = found.get(key)
        if token is None:
            # add() keeps a token another process created meanwhile.
            _call("version create", cache.add, key, _fresh_token(), None)
            token = _call("version read", cache.get, key)
            if token is None:
                raise CacheUnavailable("version create")
        versions[scope] = token
    return versions


def build_key(family, scope, params, token, *also_tokens):
    """The entry key for a selector family, its scope, its arguments and the
    scope's version token (then the tokens of the scopes it also depends on)."""
    rendered = ":".join(f"{name}={params[name]}" for name in sorted(params))
    tokens = "".join(f":v{t}" for t in (token, *also_tokens))
    return f"{KEY_PREFIX}:{family}:{scope}:{rendered}{tokens}"


# --- the bypass after a failed invalidation ---------------------------------

def _active_bypass():
    from dashboard.models import CacheBypass

    return CacheBypass.objects.filter(pk=CacheBypass.SINGLETON, until__gt=timezone.now())


def bypass_active():
    # On the primary: a replica could still miss a bypass recorded just now.
    with use_primary():
        return _active_bypass().exists()


def _record_bypass():
    from dashboard.models import CacheBypass

    # The margin covers a request that read the database just before the
    # write and stores its value just after this moment.
    until = timezone.now() + timedelta(seconds=longest_timeout() + BYPASS_MARGIN_SECONDS)
    CacheBypass.objects.update_or_create(pk=CacheBypass.SINGLETON, defaults={"until": until})
    logger.error(
        "Dashboard cache invalidation failed; dashboard entries bypassed until %s.",
        until.isoformat(),
    )


# --- get or compute ---------------------------------------------------------

@dataclass
class Part:
    """One cacheable piece of the dashboard: `compute()` builds it from the
    database; `family`, `scope` and `params` name it."""

    family: str
    scope: str
    params: dict
    compute: Callable[[], Any]
    # Scopes whose data the value also shows (a manager's page lists the
    # active users): a bump of any of them retires the entry too.
    also: tuple = ()

    @property
    def scopes(self):
        return (self.scope, *self.also)


@dataclass
class Fetched:
    values: dict  # family -> value
    outcome: str  # "hit", "miss", "partial", "bypass" or "down"


def fetch(parts, *, bypass=None):
    """Return every part's value, from the cache when it holds a current one.

    `bypass`: the result of `bypass_active()` if the caller already checked
    it in this request (one query saved); None checks it here.

    One round trip reads the version tokens, one the entries; misses are
    computed (once per key across processes, see the module docstring) and
    stored. Never raises because of the cache: without it, everything is
    computed from the database.
    """
    if bypass if bypass is not None else bypass_active():
        return Fetched({p.family: p.compute() for p in parts}, "bypass")
    try:
        versions = _read_versions({scope for p in parts for scope in p.scopes})
        keys = {p.family: build_key(p.family, p.scope, p.params,
                                    *(versions[scope] for scope in p.scopes)) for p in parts}
        found = _call("read", cache.get_many, list(keys.values()))
    except CacheUnavailable:
        return Fetched({p.family: p.compute() for p in parts}, "down")

    # Inside another part's computation (a page's sections), that part's
    # lock already keeps concurrent requests from repeating the work.
    inside_computation = _computing.get()
    values, hits, misses = {}, [], []
    for part in parts:
        key = keys[part.family]
        if key in found:
            values[part.family] = found[key]
            hits.append(part.family)
        else:
            values[part.family] = part.compute() if inside_computation else _compute_once(part, key)
            misses.append(part.family)
    if inside_computation and misses:
        _store_together({keys[family]: (family, values[family]) for family in misses})
    _count(hits, "hit")
    _count(misses, "miss")
    if not inside_computation:
        # A request's lookup: a hit when everything it asked for was cached.
        _count([REQUESTS], "miss" if misses else "hit")
    if misses:
        _maybe_warn_hit_rate()
    outcome = "hit" if not misses else ("miss" if not hits else "partial")
    return Fetched(values, outcome)


def _compute_once(part, key):
    timeout = family_timeouts()[part.family]
    lock_key = f"{key}:lock"
    try:
        locked = _call("lock", cache.add, lock_key, 1, LOCK_SECONDS)
    except CacheUnavailable:
        return part.compute()
    if not locked:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(LOCK_POLL_SECONDS)
            try:
                value = _call("read", cache.get, key, _MISSING)
            except CacheUnavailable:
                break
            if value is not _MISSING:
                return value
        # The holder is slow or gone: compute, and store too (same key, same
        # token, so the value is as current as the holder's would be).
    try:
        # Stored under a token read before this point: only the primary is
        # sure to hold every write that bumped it (module docstring).
        computing = _computing.set(True)
        try:
            with use_primary():
                value = part.compute()
        finally:
            _computing.reset(computing)
        try:
            _call("write", cache.set, key, value, timeout)
        except CacheUnavailable:
            pass
    finally:
        if locked:
            try:
                _call("unlock", cache.delete, lock_key)
            except CacheUnavailable:
                pass
    return value


_MISSING = object()

# True while a part computes (in `_compute_once`): the parts it fetches in
# turn are computed without locks of their own and stored in one round trip
# per timeout (`_store_together`).
_computing = ContextVar("dashboard_cache_computing", default=False)


def _store_together(entries):
    """Store {key: (family, value)} with one set_many per timeout."""
    timeouts, by_timeout = family_timeouts(), {}
    for key, (family, value) in entries.items():
        by_timeout.setdefault(timeouts[family], {})[key] = value
    for timeout, values in by_timeout.items():
        try:
            _call("write", cache.set_many, values, timeout)
        except CacheUnavailable:
            return


# --- invalidation -----------------------------------------------------------

def invalidate_dashboard(*, user_ids=(), team=True, users_list=False):
    """Make the next dashboard read recompute what a committed write changed.

    `user_ids`: the owners whose leads (or snapshots) changed; `team`: the
    team-wide view (every lead write changes it); `users_list`: the active-user
    list (user accounts changed). O(1) per scope, whatever the number of rows.
    Call it after commit (``transaction.on_commit``).
    """
    scopes = [user_scope(uid) for uid in sorted({int(u) for u in user_ids if u is not None})]
    if team:
        scopes.append(TEAM_SCOPE)
    if users_list:
        scopes.append(USERS_SCOPE)
    failed = False
    for scope in scopes:
        key = _version_key(scope)
        # Always attempted, even while the breaker is open: a bump that could
        # have succeeded must not become a bypass.
        try:
            try:
                cache.incr(key)
            except ValueError:
                # No token yet (or evicted): nothing can be cached under a
                # token that does not exist; a fresh one retires any other.
                cache.set(key, _fresh_token(), None)
        except CACHE_ERRORS as exc:
            breaker.trip(exc, "invalidation")
            failed = True
    if failed:
        try:
            _record_bypass()
        except DatabaseError:
            # Neither the bump nor the bypass took: these owners' entries may
            # be served stale until their timeout. Say whose.
            logger.exception(
                "Dashboard cache invalidation failed and the bypass could not be recorded; "
                "entries for owners %s (team=%s, users list=%s) may be stale for up to %d s.",
                sorted(int(u) for u in user_ids if u is not None), team, users_list,
                longest_timeout(),
            )
    return not failed


# --- hit counting and monitoring --------------------------------------------

# The hit rate that matters is the requests': how often what a request asked
# for (a whole page, a JSON document, the user list) came from the cache alone.
# Per family, every lookup counts, the sections looked up while a whole page
# is rebuilt included.
REQUESTS = "requests"


def _bucket(offset=0):
    return int(time.time() // STATS_WINDOW_SECONDS) - offset


def _stats_key(family, outcome, bucket):
    return f"{KEY_PREFIX}:stats:{family}:{outcome}:{bucket}"


# Counting costs no round trip per request: counts gather in the process
# and reach the cache at most once a second (and before any read of them).
STATS_FLUSH_SECONDS = 1.0
_pending_counts = Counter()
_pending_lock = threading.Lock()
_last_flush = [0.0]


def _count(families, outcome):
    if not families:
        return
    bucket = _bucket()
    with _pending_lock:
        for family in families:
            _pending_counts[(family, outcome, bucket)] += 1
        due = time.monotonic() - _last_flush[0] >= STATS_FLUSH_SECONDS
    if due:
        flush_stats()


def discard_pending_stats():
    """Forget counts not yet flushed (tests start each case from zero)."""
    with _pending_lock:
        _pending_counts.clear()


def flush_stats():
    """Add this process's gathered hit/miss counts to the shared counters."""
    with _pending_lock:
        pending = dict(_pending_counts)
        _pending_counts.clear()
        _last_flush[0] = time.monotonic()
    for (family, outcome, bucket), n in pending.items():
        key = _stats_key(family, outcome, bucket)
        try:
            try:
                _call("stats", cache.incr, key, n)
            except ValueError:
                if not _call("stats", cache.add, key, n, STATS_WINDOW_SECONDS * 3):
                    _call("stats", cache.incr, key, n)
        except CacheUnavailable:
            return  # counts are best effort: an outage drops them


def cache_stats(*, window_offset=0):
    """Hits, misses and hit rate per family, and for the requests' own lookups
    ("total": a lookup is a hit when everything it asked for was cached), for one stats
    window (0 = the current one, 1 = the one before). Rate is None when
    nothing was looked up."""
    flush_stats()
    bucket = _bucket(window_offset)
    families = sorted(family_timeouts())
    keys = [_stats_key(f, o, bucket) for f in (*families, REQUESTS) for o in ("hit", "miss")]
    try:
        found = _call("stats", cache.get_many, keys)
    except CacheUnavailable:
        found = {}

    def counted(family):
        hits = int(found.get(_stats_key(family, "hit", bucket), 0))
        misses = int(found.get(_stats_key(family, "miss", bucket), 0))
        return {"hits": hits, "misses": misses, "hit_rate": _rate(hits, misses)}

    return {
        "window_seconds": STATS_WINDOW_SECONDS,
        "window_start": bucket * STATS_WINDOW_SECONDS,
        "families": [{"family": family, **counted(family)} for family in families],
        "total": counted(REQUESTS),
    }


def _rate(hits, misses):
    lookups = hits + misses
    return None if lookups == 0 else round(hits / lookups, 4)


_last_rate_check = {"bucket": None}


def _maybe_warn_hit_rate():
    """Once per window per process, warn if the last full window's hit rate
    fell below the guide's 70 %."""
    bucket = _bucket()
    if _last_rate_check["bucket"] == bucket:
        return
    _last_rate_check["bucket"] = bucket
    total = cache_stats(window_offset=1)["total"]
    lookups = total["hits"] + total["misses"]
    if lookups >= HIT_RATE_MIN_LOOKUPS and total["hit_rate"] < HIT_RATE_WARNING:
        logger.warning(
            "Dashboard cache hit rate %.1f %% over the last %d s (%d lookups) is below %d %%.",
            100 * total["hit_rate"], STATS_WINDOW_SECONDS, lookups, int(100 * HIT_RATE_WARNING),
        )
