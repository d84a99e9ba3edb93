"""Cache errors and the per-process breaker: after an error, skip the cache
for a few seconds instead of waiting on an unreachable Redis every call."""

import logging
import time

logger = logging.getLogger(__name__)

BREAKER_SECONDS = 5.0  # skip the cache this long after an error
OUTAGE_LOG_INTERVAL = 60.0  # warn once per interval, not once per request


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


class CacheUnavailable(Exception):
    """A cache operation was skipped or failed: the caller serves without the cache."""


class Breaker:
    """This process's view of the cache's health. `clock` is monotonic seconds."""

    def __init__(self, *, clock=time.monotonic):
        self.clock = clock
        self.open_until = 0.0
        self.last_logged = None

    def is_open(self):
        return self.clock() < self.open_until

    def trip(self, exc, action):
        now = self.clock()
        self.open_until = now + BREAKER_SECONDS
        if self.last_logged is None or now - self.last_logged >= OUTAGE_LOG_INTERVAL:
            self.last_logged = now
            logger.warning(
                "Dashboard cache unavailable during %s (%s: %s); serving from the database.",
                action, type(exc).__name__, exc,
            )

    def reset(self):
        self.open_until = 0.0
        self.last_logged = None

    def call(self, action, func, *args, **kwargs):
        """Run a cache operation; raise CacheUnavailable instead of a backend
        error, and without trying while the breaker is open."""
        if self.is_open():
            raise CacheUnavailable(action)
        try:
            return func(*args, **kwargs)
        except CACHE_ERRORS as exc:
            self.trip(exc, action)
            raise CacheUnavailable(action) from exc


breaker = Breaker()
