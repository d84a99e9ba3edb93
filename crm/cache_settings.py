"""Cache settings for Redis: one place for the client options, shared by
crm/settings.py, the test settings and tests that point a cache at a dead port."""

from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry


def redis_cache_settings(location, *, ignore_exceptions, sentinels=()):
    """One django-redis cache on `location` (a redis:// URL; with `sentinels`,
    redis://<master name>/<db>)."""
    # A dead Redis must not make every request slow: short timeouts and no
    # client-side retries (for the sentinels too).
    timeouts = {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25}
    options = {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        **timeouts,
        "CONNECTION_POOL_KWARGS": {"retry": Retry(NoBackoff(), 0)},
        "IGNORE_EXCEPTIONS": ignore_exceptions,
    }
    if sentinels:
        options.update({
            "CLIENT_CLASS": "django_redis.client.SentinelClient",
            "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
            "SENTINELS": list(sentinels),
            "SENTINEL_KWARGS": {
                **{name.lower(): value for name, value in timeouts.items()},
                "retry": Retry(NoBackoff(), 0),
            },
        })
        # Given one URL as a string, SentinelClient would send reads to
        # replicas. The dashboard cache must read its own writes (version
        # tokens, locks), so a one-item list: master only.
        location = [location]
    return {
        # django-redis's RedisCache with a per-process breaker (crm/cache_backend.py).
        "BACKEND": "crm.cache_backend.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": "crm",
        "OPTIONS": options,
    }


def redis_caches(location, *, sentinels=()):
    """The project's cache aliases on one Redis (sessions live in the database)."""
    return {
        # The dashboard cache raises on errors: the dashboard must know when
        # an invalidation failed (and handles every error itself).
        "default": redis_cache_settings(location, ignore_exceptions=False, sentinels=sentinels),
    }


def redis_database(location, number):
    """`location` with its database number replaced by `number`."""
    parts = urlsplit(location)
    return urlunsplit((parts.scheme, parts.netloc, f"/{number}", parts.query, parts.fragment))


def sentinel_addresses(items):
    """REDIS_SENTINELS' "host:port" items as (host, port) pairs; IPv6 hosts in brackets."""
    addresses = []
    for item in items:
        host, _, port = item.rpartition(":")
        host = host.strip("[]")
        if not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
            raise ImproperlyConfigured(
                f"REDIS_SENTINELS must be comma-separated host:port pairs; got {item!r}."
            )
        addresses.append((host, int(port)))
    return addresses
