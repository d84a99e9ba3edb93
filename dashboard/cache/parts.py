"""Many small entries at once: the per-owner parts the team view is rebuilt
from (docs/cache.md, "The team view from parts").

A part is an ordinary entry (``dash:part:u<id>:date=…``, stored with its
scope's token, overwritten when recomputed), but the team view needs one per
lead owner, so they are fetched together: one round trip for the tokens, one
for the entries, one ``set_many`` for those computed. No locks: a part is
one owner's slice, cheap to compute twice, and two computations under the
same tokens store the same value.
"""

import time
from contextlib import suppress

from django.core.cache import cache

from crm.db_routers import use_primary
from dashboard.cache.errors import CacheUnavailable, cache_call
from dashboard.cache.stats import hit_stats
from dashboard.cache.store import _MISSING, _current, _superseded
from dashboard.cache.versions import KEY_PREFIX, family_timeouts, read_versions

PART_FAMILY = "part"
# Which days' team views were rebuilt lately ({ISO day: unix time}), so that a
# write can refresh its owners' parts for them (refresh_parts).
TEAM_DAYS_KEY = f"{KEY_PREFIX}:teamdays"


def fetch_parts(parts, compute_many, *, bypass=frozenset()):
    """({part.key: value}, computed): every Part's value, from the cache when
    current, else computed on the primary, all missing ones in one call of
    `compute_many` (a list of parts -> {part.key: value}), and stored;
    `computed` counts those computed. A part whose scope is in `bypass` is
    computed and neither read nor stored. Raises CacheUnavailable when the
    cache cannot be read (the caller then computes without parts)."""
    cached = [part for part in parts if part.scope not in bypass]
    versions = read_versions({part.scope for part in cached}) if cached else {}
    found = cache_call("read", cache.get_many, [part.key for part in cached]) if cached else {}
    values, missing = {}, []
    for part in parts:
        value = _MISSING
        if part.scope not in bypass:
            value = _current(found.get(part.key), part.tokens(versions))
        if value is _MISSING:
            missing.append(part)
        else:
            values[part.key] = value
    if missing:
        # Stored with tokens read before computing: on the primary (store.py).
        with use_primary():
            computed = compute_many(missing)
        values.update(computed)
        to_store = {}
        for part in missing:
            if part.scope in bypass:
                continue
            entry, tokens = found.get(part.key), part.tokens(versions)
            if not _superseded(entry, tokens):
                to_store[part.key] = (tokens, computed[part.key])
        # Computed all the same if it fails: the next rebuild computes them again.
        store_parts(to_store)
    hit_stats.count([PART_FAMILY] * (len(parts) - len(missing)), "hit")
    hit_stats.count([PART_FAMILY] * len(missing), "miss")
    return values, len(missing)


def store_parts(entries):
    """Store {key: (tokens, value)} of parts, one round trip; best effort."""
    if entries:
        with suppress(CacheUnavailable):
            cache_call("write", cache.set_many, entries, family_timeouts()[PART_FAMILY])


def remember_team_day(day, *, now=None):
    """Note that the team view of `day` (ISO) was rebuilt: writes refresh their
    owners' parts for the days noted within the last team timeout. A hint:
    best effort, one read and (at most every tenth of the timeout) one write."""
    now = time.time() if now is None else now
    timeout = family_timeouts()["team"]
    try:
        noted = cache_call("read", cache.get, TEAM_DAYS_KEY) or {}
        if now - noted.get(day, 0) < timeout / 10:
            return
        noted = {d: t for d, t in noted.items() if now - t < timeout}
        noted[day] = now
        cache_call("write", cache.set, TEAM_DAYS_KEY, noted, timeout)
    except CacheUnavailable:
        pass


def recent_team_days(*, now=None):
    """The ISO days whose team view was rebuilt within the last team timeout."""
    now = time.time() if now is None else now
    timeout = family_timeouts()["team"]
    noted = cache_call("read", cache.get, TEAM_DAYS_KEY) or {}
    return sorted(d for d, t in noted.items() if now - t < timeout)
