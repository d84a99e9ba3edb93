"""The dashboard's cache: version tokens, get-or-compute, invalidation, hit counts.

The guarantees and how to operate the cache are in docs/cache.md; the facts
the code relies on are here.

Keys and versions (versions.py)
    ``dash:<family>:<scope>:<params>``, with scopes ``team``, ``u<id>`` (one
    user's view) and ``users`` (the active-user list), each with a version
    token at ``dash:ver:...``. The key holds no version: an entry stores the
    tokens it was computed under with its value, ``(tokens, value)``, and a
    read whose tokens differ from the ones just read is a miss. Tokens are read
    before a value is computed; a committed write bumps the tokens of what it
    touched (invalidation.py, one INCR each), so a value computed before the
    write carries tokens nobody reads again. A scope's entry is overwritten
    when recomputed: memory follows what is shown, not how often it changes.
    Tokens never expire; a missing one is recreated from the clock, never
    reused, and tokens only grow.

Where the tokens live (tokens.py)
    In the cache with Redis. Without it the entries are in local memory, per
    process, so the tokens are rows of ``dashboard_cacheversion`` in the
    database every process shares: a command's write retires the server's
    entries. A bump is one atomic ``UPDATE … version + 1`` (an upsert); a read
    one SELECT (a scope never bumped: token 0), at most once per request.

Failed invalidation (bypass.py)
    If a scope's bump fails, its entries under the old token could be served
    once Redis is back, so the writer records a CacheBypass row for that scope
    (until the longest timeout plus a margin has passed). While it is active,
    reads of a part showing that scope neither read nor store entries; by the
    time it ends, every entry stored before the failure has expired. Other
    scopes keep their cache.

Replicas
    Every value that is *stored* is computed on the primary (``use_primary``
    in store.py): a replica that has not replayed a commit whose bump this
    request already read would store old numbers under the new token. Values
    served without storing (bypass, cache down, lock given up) may come from
    a replica.

Misses and outages (store.py, errors.py, stats.py)
    Concurrent misses on one key and tokens compute once: the first takes a
    short lock (``cache.add``), the others poll, then compute themselves if
    the holder is slow. A part built from *sections* (the page from the
    selector families) fetches them only while it is built, under its own
    lock: they take no locks of their own and are stored together. When the
    cache errors, the dashboard computes from the database; the breaker that
    skips a hung Redis is the cache backend's (crm/cache_backend.py). Hits
    and misses are counted per family and per request lookup (a part's
    sections are not requests), flushed to the cache at most once a second.

The one call chain (the page; data.json is the same with "json" and no charts)::

    views.index
      views._fetch(Part("html", sections=(due, day, team, charts[, users])))
        within crm.db_routers.use_replica() and selectors.shared_queries()
        store.fetch: bypassed scopes (loaded with the user), read_versions, get_many
          hit:  stored tokens == tokens read -> page_slots.personalise
          miss: lock -> use_primary() -> the sections (one get_many; each miss
                from its selector, stored together) -> views._render_page
                -> page_slots.render_with_slots -> set (tokens, page), unlock

Two context variables still steer it from outside: the replica choice
(crm.db_routers: use_replica, overruled by use_primary while a value to be
stored is computed) and selectors.shared_queries (each lead aggregate runs
once per request).
"""

from dashboard.cache.bypass import BYPASS_MARGIN_SECONDS, active_bypasses, bypassed_scopes
from dashboard.cache.errors import CACHE_ERRORS, CacheUnavailable
from dashboard.cache.invalidation import invalidate_dashboard
from dashboard.cache.stats import (
    HIT_RATE_WARNING,
    REQUESTS,
    STATS_WINDOW_SECONDS,
    HitStats,
    cache_stats,
    hit_stats,
    view_rows,
)
from dashboard.cache.store import Fetched, LockPolicy, Part, fetch, lock_policy
from dashboard.cache.tokens import tokens_read_once
from dashboard.cache.versions import (
    KEY_PREFIX,
    TEAM_SCOPE,
    USERS_SCOPE,
    build_key,
    family_timeouts,
    lock_key,
    longest_timeout,
    read_versions,
    user_scope,
)

__all__ = [
    "BYPASS_MARGIN_SECONDS",
    "CACHE_ERRORS",
    "HIT_RATE_WARNING",
    "KEY_PREFIX",
    "REQUESTS",
    "STATS_WINDOW_SECONDS",
    "TEAM_SCOPE",
    "USERS_SCOPE",
    "CacheUnavailable",
    "Fetched",
    "HitStats",
    "LockPolicy",
    "Part",
    "active_bypasses",
    "build_key",
    "bypassed_scopes",
    "cache_stats",
    "family_timeouts",
    "fetch",
    "hit_stats",
    "invalidate_dashboard",
    "lock_key",
    "lock_policy",
    "longest_timeout",
    "read_versions",
    "tokens_read_once",
    "user_scope",
    "view_rows",
]
