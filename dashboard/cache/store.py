"""Get or compute: `fetch` returns parts from the cache or computes them once
(across processes) and stores them."""

import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable

from django.core.cache import cache

from crm.db_routers import use_primary
from dashboard.cache.breaker import CacheUnavailable, breaker
from dashboard.cache.bypass import bypass_active
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
    """One cacheable piece of the dashboard: `compute()` builds it from the
    database; `family`, `scope` and `params` name it."""

    family: str
    scope: str
    params: dict
    compute: Callable[..., Any]
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
    computed (once per key across processes, see the package docstring) and
    stored. Never raises because of the cache: without it, everything is
    computed from the database.
    """
    if bypass if bypass is not None else bypass_active():
        return Fetched({p.family: p.compute() for p in parts}, "bypass")
    try:
        versions = read_versions({scope for p in parts for scope in p.scopes})
        keys = {p.family: build_key(p.family, p.scope, p.params,
                                    *(versions[scope] for scope in p.scopes)) for p in parts}
        found = breaker.call("read", cache.get_many, list(keys.values()))
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
    hit_stats.count(hits, "hit")
    hit_stats.count(misses, "miss")
    if not inside_computation:
        # A request's lookup: a hit when everything it asked for was cached.
        hit_stats.count([REQUESTS], "miss" if misses else "hit")
    if misses:
        hit_stats.warn_if_hit_rate_low()
    outcome = "hit" if not misses else ("miss" if not hits else "partial")
    return Fetched(values, outcome)


_MISSING = object()

# True while a part computes (in `_compute_once`): the parts it fetches in
# turn are computed without locks of their own and stored in one round trip
# per timeout (`_store_together`).
_computing = ContextVar("dashboard_cache_computing", default=False)


def _compute_once(part, key):
    lock_key = f"{key}:lock"
    try:
        locked = breaker.call("lock", cache.add, lock_key, 1, lock_policy.seconds)
    except CacheUnavailable:
        return part.compute()
    if not locked:
        value = _wait_for(key)
        if value is not _MISSING:
            return value
        # The holder is slow or gone: compute, and store too (same key, same
        # token, so the value is as current as the holder's would be).
    try:
        # Stored under a token read before this point: only the primary is
        # sure to hold every write that bumped it (package docstring).
        computing = _computing.set(True)
        try:
            with use_primary():
                value = part.compute()
        finally:
            _computing.reset(computing)
        try:
            breaker.call("write", cache.set, key, value, family_timeouts()[part.family])
        except CacheUnavailable:
            pass
    finally:
        if locked:
            try:
                breaker.call("unlock", cache.delete, lock_key)
            except CacheUnavailable:
                pass
    return value


def _wait_for(key):
    """The value another process is computing, or _MISSING if it takes too long."""
    deadline = time.monotonic() + lock_policy.wait_seconds
    while time.monotonic() < deadline:
        time.sleep(lock_policy.poll_seconds)
        try:
            value = breaker.call("read", cache.get, key, _MISSING)
        except CacheUnavailable:
            return _MISSING
        if value is not _MISSING:
            return value
    return _MISSING


def _store_together(entries):
    """Store {key: (family, value)} with one set_many per timeout."""
    timeouts, by_timeout = family_timeouts(), {}
    for key, (family, value) in entries.items():
        by_timeout.setdefault(timeouts[family], {})[key] = value
    for timeout, values in by_timeout.items():
        try:
            breaker.call("write", cache.set_many, values, timeout)
        except CacheUnavailable:
            return
