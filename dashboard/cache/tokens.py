"""Where the version tokens live: in the cache when it is shared (Redis), in
the database when it is per process (local memory, the embedded default).

Local memory is per process: a token bumped there by a management command
(``snapshot_followups``, compaction, an import) would never reach the
server's cache. So without Redis the tokens live in ``dashboard_cacheversion``
(``CacheVersion``) in the project's database, which every process shares,
and only the entries stay in local memory, validated by the tokens read
from the table. ``settings.DASHBOARD_VERSION_TOKENS`` says which ("cache" or
"database"; crm/settings.py picks by whether Redis is configured).

A bump is one ``INSERT … ON CONFLICT (scope) DO UPDATE SET version =
version + 1`` for all its scopes: the database increments the row itself,
so concurrent bumps from threads or processes are never lost (Django's
database and file caches' ``incr`` is a read then a write, which can lose
one and serve a stale page). A read is one SELECT and writes nothing: a
scope without a row has token 0 until its first bump inserts one from the
clock.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from dashboard.cache.errors import (
    CACHE_ERRORS,
    CacheUnavailable,
    attempted_even_if_open,
    cache_call,
)
from dashboard.models import CacheVersion

NEVER_BUMPED = 0

# {scope: token} of the whole table while tokens_read_once() is in force.
_read_once = ContextVar("dashboard_tokens_read_once", default=None)


def tokens_in_database():
    return settings.DASHBOARD_VERSION_TOKENS == "database"


def read_tokens(keys, fresh_token):
    """{scope: token} for {scope: cache key}. Raises CacheUnavailable."""
    if tokens_in_database():
        return _read_table(list(keys))
    return _read_cache(keys, fresh_token)


def bump_tokens(keys, fresh_token):
    """Bump every scope's token ({scope: cache key}); return (failed scopes, cause)."""
    if not keys:
        return [], None
    if tokens_in_database():
        try:
            _bump_table(list(keys), fresh_token)
        except DatabaseError as exc:
            return list(keys), exc
        return [], None
    bump_counters = getattr(cache, "bump_counters", None)
    if bump_counters is not None:
        # Redis: every scope in one round trip, so a hung Redis costs a write
        # one timeout, not one per scope.
        with attempted_even_if_open(cache):
            try:
                errors = bump_counters(list(keys.values()), fresh_token)
            except CACHE_ERRORS as exc:
                errors = dict.fromkeys(keys.values(), exc)
        failed = [scope for scope, key in keys.items() if key in errors]
        return failed, next(iter(errors.values()), None)
    failed, cause = [], None
    # Attempted even while the cache backend's breaker is open (unless it
    # opened on a timeout): a bump that could have succeeded must not become
    # a bypass.
    with attempted_even_if_open(cache):
        for scope, key in keys.items():
            try:
                try:
                    cache.incr(key)
                except ValueError:
                    # No token yet (or evicted): nothing can be cached under a
                    # token that does not exist; a fresh one retires any other.
                    cache.set(key, fresh_token(), None)
            except CACHE_ERRORS as exc:
                failed.append(scope)
                cause = exc
    return failed, cause


def _read_cache(keys, fresh_token):
    found = cache_call("version read", cache.get_many, list(keys.values()))
    versions = {}
    for scope, key in keys.items():
        token = found.get(key)
        if token is None:
            # add() keeps a token another process created meanwhile.
            cache_call("version create", cache.add, key, fresh_token(), None)
            token = cache_call("version read", cache.get, key)
            if token is None:
                raise CacheUnavailable("version create")
        versions[scope] = token
    return versions


def _rows():
    # Always the primary (a replica may not have replayed the bump yet).
    return CacheVersion.objects.using(DEFAULT_DB_ALIAS)


@contextmanager
def tokens_read_once():
    """Within it (one dashboard request), the database's tokens are read at
    most once, the whole table (a row per user ever bumped, plus two): a
    manager's page looks up the user list for its query string, then the
    page, which would otherwise cost a statement each. Reusing tokens read
    earlier in the request is safe: they were still read before anything the
    request computes. Does nothing when the tokens live in the cache."""
    reset = _read_once.set({} if tokens_in_database() else None)
    try:
        yield
    finally:
        _read_once.reset(reset)


def _read_table(scopes):
    remembered = _read_once.get()
    try:
        if remembered is None:
            versions = dict(_rows().filter(scope__in=scopes).values_list("scope", "version"))
        else:
            if not remembered:
                remembered.update(_rows().values_list("scope", "version"))
                remembered[None] = NEVER_BUMPED  # read, even if the table is empty
            versions = remembered
    except DatabaseError as exc:
        raise CacheUnavailable("version read") from exc
    # A scope never bumped has no row (a read writes nothing): token 0. Its
    # first bump inserts a token from the clock, larger than 0 and than any
    # token handed out before; rows are never deleted.
    return {scope: versions.get(scope, NEVER_BUMPED) for scope in scopes}


def _bump_table(scopes, fresh_token):
    scopes = sorted(set(scopes))
    table = connections[DEFAULT_DB_ALIAS].ops.quote_name(CacheVersion._meta.db_table)
    rows = ", ".join(["(%s, %s)"] * len(scopes))
    params = [value for scope in scopes for value in (scope, fresh_token())]
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, version) VALUES {rows} "
            f"ON CONFLICT (scope) DO UPDATE SET version = {table}.version + 1",
            params,
        )
