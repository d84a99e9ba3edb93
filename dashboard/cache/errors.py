"""Cache errors as the dashboard sees them: any backend error becomes
CacheUnavailable, and the dashboard serves from the database.

The breaker that stops a hung Redis from costing a timeout per call is the
cache backend's (crm/cache_backend.py, one per alias, for every use of Redis);
the dashboard has none of its own. Local memory, the fallback, has none.
"""

from contextlib import nullcontext


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


def cache_call(action, func, *args, **kwargs):
    """Run a cache operation; raise CacheUnavailable instead of a backend error
    (the backend raises at once, without trying, while its breaker is open)."""
    try:
        return func(*args, **kwargs)
    except CACHE_ERRORS as exc:
        raise CacheUnavailable(action) from exc


def attempted_even_if_open(cache):
    """A context in which `cache`'s calls try Redis even while its breaker is open."""
    always_attempt = getattr(cache, "always_attempt", None)
    return always_attempt() if always_attempt is not None else nullcontext()
