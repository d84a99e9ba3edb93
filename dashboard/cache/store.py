"""Get or compute: `fetch` returns parts from the cache or computes them once
(across processes) and stores them."""

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.cache import cache

from crm.db_routers import use_primary
from dashboard.cache.bypass import bypassed_scopes
from dashboard.cache.errors import CacheUnavailable, cache_call
from dashboard.cache.stats import REQUESTS, hit_stats
from dashboard.cache.versions import build_key, family_timeouts, lock_key, read_versions


@dataclass
class LockPolicy:
    """How concurrent misses on one key wait for the one computing it."""

    seconds: float = 10  # a crashed holder blocks nobody for longer than this
    wait_seconds: float = 2.0  # then a waiter computes the value itself
    poll_seconds: float = 0.05


lock_policy = LockPolicy()


@dataclass
class Part:
    """One cacheable piece of the dashboard, named by `family`, `scope` and
    `params`, built from the database by `compute`.

    A part built from other parts lists them as `sections`: its `compute`
    then takes their values, {family: value}. They are fetched only while it
    is built, under its lock, so they need none of their own: missing ones
    are computed and stored together, with one round trip per timeout.
    """

    family: str
    scope: str
    params: dict
    compute: Callable[..., Any]
    # Scopes whose data the value also shows (a manager's page lists the
    # active users): a bump of any of them retires the entry too.
    also: tuple = ()
    sections: tuple = ()

    @property
    def scopes(self):
        return (self.scope, *self.also)

    @cached_property
    def key(self):
        # Built once: a fetch looks each part's key up several times.
        return build_key(self.family, self.scope, self.params)

    def tokens(self, versions):
        """The version tokens this part's value is computed under, stored with it."""
        return tuple(versions[scope] for scope in self.scopes)


@dataclass
class Fetched:
    values: dict  # family -> value
    outcome: str  # "hit", "miss", "partial", "bypass" or "down"


def fetch(parts, *, bypass=None):
    """Return every part's value, from the cache when it holds a current one.

    `bypass`: the scopes bypassed after a failed invalidation, if the caller
    already has them (`bypassed_scopes()`, loaded with the user: one query
    saved); None reads them here. A part showing a bypassed scope is computed
    from the database, neither read nor stored.

    One round trip reads the version tokens (the sections' too), one the
    entries; an entry is current when the tokens stored with it are the ones
    just read. Misses are computed once per key and tokens across processes
    and stored. Never raises because of the cache: without it, everything is
    computed from the database. Each call counts as one request lookup.
    """
    bypassed = bypass if bypass is not None else bypassed_scopes()
    if not _scopes(parts).isdisjoint(bypassed):
        return Fetched({part.family: _compute(part) for part in parts}, "bypass")
    try:
        versions = read_versions(_scopes(parts))
        found = cache_call("read", cache.get_many, [part.key for part in parts])
    except CacheUnavailable:
        return Fetched({part.family: _compute(part) for part in parts}, "down")

    values, hits, misses = {}, [], []
    for part in parts:
        entry = found.get(part.key)
        value = _current(entry, part.tokens(versions))
        if value is not _MISSING:
            values[part.family] = value
            hits.append(part.family)
        else:
            values[part.family] = _compute_once(part, versions, entry)
            misses.append(part.family)
    hit_stats.count(hits, "hit")
    hit_stats.count(misses, "miss")
    # A request's lookup: a hit when everything it asked for was cached.
    hit_stats.count([REQUESTS], "miss" if misses else "hit")
    if misses:
        hit_stats.warn_if_hit_rate_low()
    outcome = "hit" if not misses else ("miss" if not hits else "partial")
    return Fetched(values, outcome)


def _scopes(parts):
    scopes = set()
    for part in parts:
        scopes.update(part.scopes)
        scopes.update(_scopes(part.sections))
    return scopes


_MISSING = object()


def _current(entry, tokens):
    """The value of a stored entry if it was computed under `tokens`, else _MISSING."""
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == tokens:
        return entry[1]
    return _MISSING


def _superseded(entry, tokens):
    """Whether the stored entry was computed under newer tokens than `tokens`
    (a request that read them before a bump found the value stored after it):
    then it is kept. Tokens only grow (versions.py), and were an older value
    stored anyway, it would be a miss, never served: hits need equal tokens."""
    stored = entry[0] if isinstance(entry, tuple) and len(entry) == 2 else None
    return (isinstance(stored, tuple) and len(stored) == len(tokens) and stored != tokens
            and all(new >= old for new, old in zip(stored, tokens, strict=True)))


def _compute(part):
    """The part's value without the cache (it is down, or bypassed)."""
    if not part.sections:
        return part.compute()
    return part.compute({section.family: _compute(section) for section in part.sections})


def _compute_once(part, versions, entry):
    """Compute a missing part once across processes and store it with its
    tokens; `entry` is what the read found under its key (stale, or None)."""
    key, tokens = part.key, part.tokens(versions)
    lock = lock_key(key, tokens)
    try:
        locked = cache_call("lock", cache.add, lock, 1, lock_policy.seconds)
    except CacheUnavailable:
        return _compute(part)
    if not locked:
        value = _wait_for(key, tokens)
        if value is not _MISSING:
            return value
        # The holder is slow or gone: compute, and store too (same key, same
        # tokens, so the value is as current as the holder's would be).
    try:
        # Stored with tokens read before this point: only the primary is
        # sure to hold every write that bumped them (package docstring).
        with use_primary():
            value = _build(part, versions)
        if not _superseded(entry, tokens):
            with suppress(CacheUnavailable):
                cache_call("write", cache.set, key, (tokens, value),
                           family_timeouts()[part.family])
    finally:
        if locked:
            with suppress(CacheUnavailable):
                cache_call("unlock", cache.delete, lock)
    return value


def _wait_for(key, tokens):
    """The value another process is computing under `tokens`, or _MISSING if it
    takes too long."""
    deadline = time.monotonic() + lock_policy.wait_seconds
    while time.monotonic() < deadline:
        time.sleep(lock_policy.poll_seconds)
        try:
            value = _current(cache_call("read", cache.get, key), tokens)
        except CacheUnavailable:
            return _MISSING
        if value is not _MISSING:
            return value
    return _MISSING


def _build(part, versions):
    """The part's value, computed under its lock; its sections fetched with
    the version tokens read for it."""
    if not part.sections:
        return part.compute()
    return part.compute(_fetch_sections(part.sections, versions))


def _fetch_sections(sections, versions):
    try:
        found = cache_call("read", cache.get_many, [section.key for section in sections])
    except CacheUnavailable:
        return {section.family: _compute(section) for section in sections}
    values, hits, misses, to_store = {}, [], [], {}
    for section in sections:
        entry, tokens = found.get(section.key), section.tokens(versions)
        value = _current(entry, tokens)
        if value is not _MISSING:
            values[section.family] = value
            hits.append(section.family)
            continue
        values[section.family] = _build(section, versions)
        misses.append(section.family)
        if not _superseded(entry, tokens):
            to_store[section.key] = (section.family, (tokens, values[section.family]))
    _store_together(to_store)
    # Counted per family only: the request's lookup is the part they build.
    hit_stats.count(hits, "hit")
    hit_stats.count(misses, "miss")
    return values


def _store_together(entries):
    """Store {key: (family, entry)} with one set_many per timeout."""
    timeouts, by_timeout = family_timeouts(), {}
    for key, (family, entry) in entries.items():
        by_timeout.setdefault(timeouts[family], {})[key] = entry
    for timeout, stored in by_timeout.items():
        try:
            cache_call("write", cache.set_many, stored, timeout)
        except CacheUnavailable:
            return
