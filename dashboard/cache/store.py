"""Get or compute: `fetch` returns parts from the cache or computes them once
(across processes) and stores them."""

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from crm.db_routers import use_primary
from dashboard.cache.bypass import bypass_active
from dashboard.cache.errors import CacheUnavailable, cache_call
from dashboard.cache.stats import REQUESTS, hit_stats
from dashboard.cache.versions import build_key, family_timeouts, read_versions


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


@dataclass
class Fetched:
    values: dict  # family -> value
    outcome: str  # "hit", "miss", "partial", "bypass" or "down"


def fetch(parts, *, bypass=None):
    """Return every part's value, from the cache when it holds a current one.

    `bypass`: the result of `bypass_active()` if the caller already checked
    it in this request (one query saved); None checks it here.

    One round trip reads the version tokens (the sections' too), one the
    entries; misses are computed once per key across processes and stored.
    Never raises because of the cache: without it, everything is computed
    from the database. Each call counts as one request lookup in the stats.
    """
    if bypass if bypass is not None else bypass_active():
        return Fetched({part.family: _compute(part) for part in parts}, "bypass")
    try:
        versions = read_versions(_scopes(parts))
        keys = _keys(parts, versions)
        found = cache_call("read", cache.get_many, list(keys.values()))
    except CacheUnavailable:
        return Fetched({part.family: _compute(part) for part in parts}, "down")

    values, hits, misses = {}, [], []
    for part in parts:
        key = keys[part.family]
        if key in found:
            values[part.family] = found[key]
            hits.append(part.family)
        else:
            values[part.family] = _compute_once(part, key, versions)
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


def _keys(parts, versions):
    return {
        part.family: build_key(part.family, part.scope, part.params,
                               *(versions[scope] for scope in part.scopes))
        for part in parts
    }


def _compute(part):
    """The part's value without the cache (it is down, or bypassed)."""
    if not part.sections:
        return part.compute()
    return part.compute({section.family: _compute(section) for section in part.sections})


_MISSING = object()


def _compute_once(part, key, versions):
    lock_key = f"{key}:lock"
    try:
        locked = cache_call("lock", cache.add, lock_key, 1, lock_policy.seconds)
    except CacheUnavailable:
        return _compute(part)
    if not locked:
        value = _wait_for(key)
        if value is not _MISSING:
            return value
        # The holder is slow or gone: compute, and store too (same key, same
        # token, so the value is as current as the holder's would be).
    try:
        # Stored under a token read before this point: only the primary is
        # sure to hold every write that bumped it (package docstring).
        with use_primary():
            value = _build(part, versions)
        with suppress(CacheUnavailable):
            cache_call("write", cache.set, key, value, family_timeouts()[part.family])
    finally:
        if locked:
            with suppress(CacheUnavailable):
                cache_call("unlock", cache.delete, lock_key)
    return value


def _wait_for(key):
    """The value another process is computing, or _MISSING if it takes too long."""
    deadline = time.monotonic() + lock_policy.wait_seconds
    while time.monotonic() < deadline:
        time.sleep(lock_policy.poll_seconds)
        try:
            value = cache_call("read", cache.get, key, _MISSING)
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
    keys = _keys(sections, versions)
    try:
        found = cache_call("read", cache.get_many, list(keys.values()))
    except CacheUnavailable:
        return {section.family: _compute(section) for section in sections}
    values, hits, misses = {}, [], []
    for section in sections:
        key = keys[section.family]
        if key in found:
            values[section.family] = found[key]
            hits.append(section.family)
        else:
            values[section.family] = _build(section, versions)
            misses.append(section.family)
    _store_together({keys[family]: (family, values[family]) for family in misses})
    # Counted per family only: the request's lookup is the part they build.
    hit_stats.count(hits, "hit")
    hit_stats.count(misses, "miss")
    return values


def _store_together(entries):
    """Store {key: (family, value)} with one set_many per timeout."""
    timeouts, by_timeout = family_timeouts(), {}
    for key, (family, value) in entries.items():
        by_timeout.setdefault(timeouts[family], {})[key] = value
    for timeout, values in by_timeout.items():
        try:
            cache_call("write", cache.set_many, values, timeout)
        except CacheUnavailable:
            return
