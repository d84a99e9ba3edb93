import logging
import threading
import time
from datetime import timedelta

import pytest
from django.core.cache import cache as default_cache
from django.utils import timezone

from crm.cache_backend import breakers
from dashboard.cache import (
    REQUESTS,
    TEAM_SCOPE,
    USERS_SCOPE,
    HitStats,
    Part,
    active_bypasses,
    build_key,
    cache_stats,
    family_timeouts,
    fetch,
    hit_stats,
    invalidate_dashboard,
    lock_key,
    lock_policy,
    longest_timeout,
    read_versions,
    user_scope,
)
from dashboard.models import CacheBypass

pytestmark = pytest.mark.django_db

DAY = "2026-11-28"


class Counter:
    """A compute function that returns the number of times it ran."""

    def __init__(self, value=None):
        self.calls = 0
        self.value = value

    def __call__(self):
        self.calls += 1
        return self.value if self.value is not None else self.calls


class Clock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def part(compute, *, family="day", user_id=None, sections=(), **params):
    return Part(family=family, scope=user_scope(user_id), params={"date": DAY, **params},
                compute=compute, sections=tuple(sections))


def test_fetch_miss_then_hit():
    compute = Counter()
    first = fetch([part(compute)])
    second = fetch([part(compute)])
    assert (first.values, first.outcome) == ({"day": 1}, "miss")
    assert (second.values, second.outcome) == ({"day": 1}, "hit")
    assert compute.calls == 1


def test_fetch_keys_differ_by_params_and_scope():
    compute = Counter()
    fetch([part(compute)])
    fetch([part(compute, page=2)])
    fetch([part(compute, user_id=7)])
    assert compute.calls == 3


def test_sections_ride_on_the_lock_of_the_part_they_build(monkeypatch):
    day, team = Counter("day value"), Counter("team value")
    inner = [part(day), part(team, family="team")]

    def page(sections):
        return sections

    locks, writes = [], []
    real_add, real_set_many = default_cache.add, default_cache.set_many
    monkeypatch.setattr(default_cache, "add", lambda key, *a, **k: (
        locks.append(key), real_add(key, *a, **k))[1])
    monkeypatch.setattr(default_cache, "set_many", lambda values, timeout, *a, **k: (
        writes.append((sorted(values), timeout)), real_set_many(values, timeout, *a, **k))[1])

    outer = fetch([part(page, family="html", sections=inner)])
    assert outer.values["html"] == {"day": "day value", "team": "team value"}
    # One lock, the outer part's; the sections stored in one round trip per timeout.
    assert [key.split(":")[1] for key in locks if ":lock:" in key] == ["html"]
    assert [(len(keys), timeout) for keys, timeout in writes] == [
        (1, family_timeouts()["day"]), (1, family_timeouts()["team"])]
    # Stored: a later request for the sections alone finds them.
    again = fetch(inner)
    assert again.outcome == "hit" and (day.calls, team.calls) == (1, 1)


def test_invalidate_team_recomputes_team_and_keeps_other_users():
    team, user_a, user_b = Counter(), Counter(), Counter()
    for compute, uid in ((team, None), (user_a, 1), (user_b, 2)):
        fetch([part(compute, user_id=uid)])
    assert invalidate_dashboard(user_ids={1}) is True
    for compute, uid in ((team, None), (user_a, 1), (user_b, 2)):
        fetch([part(compute, user_id=uid)])
    assert (team.calls, user_a.calls, user_b.calls) == (2, 2, 1)


def test_invalidation_with_no_version_yet_still_retires_entries():
    # A bump of a missing token creates a fresh one; nothing cached before
    # can match it.
    invalidate_dashboard(user_ids={5})
    compute = Counter()
    fetch([part(compute, user_id=5)])
    default_cache.delete("dash:ver:user:5")  # evicted
    invalidate_dashboard(user_ids={5})
    fetch([part(compute, user_id=5)])
    assert compute.calls == 2


def test_race_value_read_before_a_write_is_never_served():
    """Request R reads the database, a write commits and invalidates, then R
    stores what it read: the next request must not get R's value."""
    state = {"leads": 10}

    def compute_racing_with_a_write():
        seen = state["leads"]  # R reads
        state["leads"] = 11  # a write commits...
        invalidate_dashboard(user_ids=set())  # ...and invalidates
        return seen  # then R stores the old number

    first = fetch([part(compute_racing_with_a_write)])
    second = fetch([part(lambda: state["leads"])])
    assert first.values["day"] == 10
    assert (second.values["day"], second.outcome) == (11, "miss")


def test_concurrent_misses_compute_once():
    calls = []

    def slow_compute():
        calls.append(1)
        time.sleep(0.3)
        return 42

    results = []
    # bypass given: the threads need no database connection of their own.
    threads = [threading.Thread(
        target=lambda: results.append(fetch([part(slow_compute)], bypass=frozenset())))
        for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert [r.values["day"] for r in results] == [42] * 5
    assert len(calls) == 1


def test_waiter_computes_itself_when_the_lock_holder_is_gone(monkeypatch):
    monkeypatch.setattr(lock_policy, "wait_seconds", 0.1)
    compute = Counter(7)
    versions = read_versions({"team"})
    key = build_key("day", "team", {"date": DAY})
    default_cache.add(lock_key(key, (versions["team"],)), 1, 60)  # a holder that died
    result = fetch([part(compute)])
    assert (result.values["day"], compute.calls) == (7, 1)


def redis_went_away(*args, **kwargs):
    raise ConnectionError("redis went away")


def test_failed_invalidation_bypasses_the_cache_until_old_entries_expired(
    monkeypatch, caplog, tokens_in_the_cache
):
    compute = Counter()
    fetch([part(compute)])
    monkeypatch.setattr(default_cache, "incr", redis_went_away)
    monkeypatch.setattr(default_cache, "bump_counters", redis_went_away, raising=False)
    monkeypatch.setattr(default_cache, "set", redis_went_away)
    with caplog.at_level(logging.ERROR, logger="dashboard.cache"):
        assert invalidate_dashboard(user_ids={1}) is False
    monkeypatch.undo()  # Redis is back, holding the old entry
    breakers.reset()

    after = fetch([part(compute)])
    assert (after.outcome, compute.calls) == ("bypass", 2)
    bypasses = {bypass.scope: bypass.until for bypass in CacheBypass.objects.all()}
    assert sorted(bypasses) == ["team", "u1"]  # the scopes whose bump failed
    assert min(bypasses.values()) - timezone.now() >= timedelta(seconds=longest_timeout())
    assert "invalidation failed" in caplog.text

    # By the time the bypass ends, the entries stored before the failure have
    # expired (the assertion above); stand in for that, then the cache is
    # used again: computed once, then served.
    CacheBypass.objects.update(until=timezone.now() - timedelta(seconds=1))
    default_cache.clear()
    assert [fetch([part(compute)]).outcome for _ in range(2)] == ["miss", "hit"]
    assert compute.calls == 3


def test_failed_invalidation_without_a_database_logs_the_owners(
    monkeypatch, caplog, tokens_in_the_cache
):
    from django.db import OperationalError

    def database_went_away(*args, **kwargs):
        raise OperationalError("database went away")

    monkeypatch.setattr(default_cache, "incr", redis_went_away)

    monkeypatch.setattr(default_cache, "bump_counters", redis_went_away, raising=False)
    monkeypatch.setattr(default_cache, "set", redis_went_away)
    monkeypatch.setattr(CacheBypass.objects, "update_or_create", database_went_away)
    with caplog.at_level(logging.ERROR, logger="dashboard.cache"):
        assert invalidate_dashboard(user_ids={7, 3}) is False
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "bypass could not be recorded" in errors[0].getMessage()
    assert "owners [3, 7]" in errors[0].getMessage()


def test_unreachable_redis_serves_from_the_database_quickly(make_redis_unreachable, caplog):
    make_redis_unreachable()
    compute = Counter()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="crm.cache_backend"):
        results = [fetch([part(compute)]) for _ in range(5)]
        assert invalidate_dashboard(user_ids={1}) is False
    elapsed = time.monotonic() - started
    assert [r.outcome for r in results] == ["down"] * 5
    assert compute.calls == 5
    assert elapsed < 5.0  # five tries against a closed port, not five timeouts
    # Logged once for the interval, not once per request.
    assert caplog.text.count("unavailable during") == 1


@pytest.mark.usefixtures("one_stats_window")
def test_hits_and_misses_are_counted_per_family():
    day, team = Counter(), Counter()
    fetch([part(day), part(team, family="team")])
    fetch([part(day), part(team, family="team")])
    fetch([part(day)])
    rows = {row["family"]: row for row in cache_stats()["families"]}
    assert (rows["day"]["hits"], rows["day"]["misses"], rows["day"]["hit_rate"]) == (2, 1, 0.6667)
    assert (rows["team"]["hits"], rows["team"]["misses"]) == (1, 1)
    # Three requests: the first computed, the other two were answered from the cache.
    assert cache_stats()["total"] == {"hits": 2, "misses": 1, "hit_rate": 0.6667}


@pytest.mark.usefixtures("one_stats_window")
def test_sections_looked_up_while_a_page_is_rebuilt_are_not_requests():
    sections = [part(Counter()), part(Counter(), family="team")]
    fetch([part(lambda values: values, family="html", sections=sections)])  # rebuilds both
    fetch([part(Counter(), family="html")])  # the page, from the cache
    fetch(sections)  # a request for the sections alone, also cached
    rows = {row["family"]: (row["hits"], row["misses"]) for row in cache_stats()["families"]}
    assert (rows["html"], rows["day"], rows["team"]) == ((1, 1), (1, 1), (1, 1))
    assert cache_stats()["total"] == {"hits": 2, "misses": 1, "hit_rate": 0.6667}


def _warning_for_last_window(caplog, monkeypatch, *, hits, misses):
    clock = Clock(1000 * hit_stats.window_seconds)
    monkeypatch.setattr(hit_stats, "clock", clock)
    hit_stats.count([REQUESTS] * hits, "hit")
    hit_stats.count([REQUESTS] * misses, "miss")
    hit_stats.flush()
    clock.now += hit_stats.window_seconds  # those counts are now the last full window
    with caplog.at_level(logging.WARNING, logger="dashboard.cache"):
        hit_stats.warn_if_hit_rate_low()
    return caplog.text


def test_low_hit_rate_in_the_last_window_logs_a_warning(caplog, monkeypatch):
    assert "hit rate 25.0 %" in _warning_for_last_window(caplog, monkeypatch, hits=10, misses=30)


def test_good_hit_rate_logs_nothing(caplog, monkeypatch):
    assert _warning_for_last_window(caplog, monkeypatch, hits=90, misses=10) == ""


def test_counts_reach_the_shared_cache_once_the_flush_interval_passed(monkeypatch):
    wall, monotonic = Clock(1000 * hit_stats.window_seconds), Clock(100.0)
    monkeypatch.setattr(hit_stats, "clock", wall)
    monkeypatch.setattr(hit_stats, "monotonic", monotonic)
    # Another process sees only what reached the shared counters.
    elsewhere = HitStats(clock=wall)

    def day_counts():
        row = next(r for r in elsewhere.read()["families"] if r["family"] == "day")
        return row["hits"], row["misses"]

    # The first miss flushes, and so does the window's hit-rate check it runs.
    fetch([part(Counter(), family="team")])
    fetch([part(Counter())])
    assert day_counts() == (0, 0)  # gathered in the process
    monotonic.now += hit_stats.flush_seconds
    fetch([part(Counter())])
    assert day_counts() == (1, 1)


# --- read replicas ------------------------------------------------------------

def _where():
    """A compute that answers where it would read: "primary" or the replica alias."""
    from crm.db_routers import reading_from_replica

    return reading_from_replica() or "primary"


def test_values_the_cache_stores_are_computed_on_the_primary():
    # A replica that lags behind a commit whose version bump this request
    # already saw would store old numbers under the new token.
    from crm.db_routers import use_replica

    with use_replica():
        first = fetch([part(_where)], bypass=frozenset())
    second = fetch([part(_where)], bypass=frozenset())
    assert (first.outcome, first.values) == ("miss", {"day": "primary"})
    assert (second.outcome, second.values) == ("hit", {"day": "primary"})


def test_values_served_without_storing_may_come_from_a_replica(make_redis_unreachable):
    from crm.db_routers import use_replica

    with use_replica():
        bypassed = fetch([part(_where)], bypass={TEAM_SCOPE})
        make_redis_unreachable()
        down = fetch([part(_where)], bypass=frozenset())
    assert (bypassed.outcome, bypassed.values) == ("bypass", {"day": "replica1"})
    assert (down.outcome, down.values) == ("down", {"day": "replica1"})


# --- versionless keys -----------------------------------------------------------

def _entry_keys(server, family):
    return sorted(key.decode() for key in server.admin.keys(f"*dash:{family}:*")
                  if b":lock:" not in key)


def test_writes_overwrite_a_scopes_entry_instead_of_multiplying_it(use_private_redis):
    team, asha = Counter(), Counter()
    for _ in range(10):
        fetch([part(team)])
        fetch([part(asha, user_id=1)])
        assert invalidate_dashboard(user_ids={1}) is True
    assert (team.calls, asha.calls) == (10, 10)  # every write retired both
    assert _entry_keys(use_private_redis, "day") == [
        f"crm:1:dash:day:team:date={DAY}", f"crm:1:dash:day:u1:date={DAY}"]


def test_an_entry_stored_under_other_tokens_is_a_miss():
    compute = Counter()
    fetch([part(compute)])
    invalidate_dashboard(user_ids=set())
    again = fetch([part(compute)])
    assert (again.values, again.outcome) == ({"day": 2}, "miss")
    assert fetch([part(compute)]).outcome == "hit"


def test_a_value_computed_under_older_tokens_keeps_a_newer_stored_one(monkeypatch):
    """Request R reads the tokens; before it reads the entry, a write bumps them
    and another request stores the new value. R's value (computed under the
    old tokens) must not replace it: the next request finds the new one."""
    state = {"leads": 10}
    real_get_many = default_cache.get_many

    def get_many_after_a_write(keys, *args, **kwargs):
        if any(":day:" in key for key in keys) and state["leads"] == 10:
            state["leads"] = 11
            invalidate_dashboard(user_ids=set())
            assert fetch([part(lambda: state["leads"])]).outcome == "miss"  # stores 11
        return real_get_many(keys, *args, **kwargs)

    monkeypatch.setattr(default_cache, "get_many", get_many_after_a_write)
    racing = fetch([part(lambda: state["leads"])])
    assert racing.outcome == "miss"  # found the newer entry, not under its own tokens
    later = fetch([part(Counter())])
    assert (later.values, later.outcome) == ({"day": 11}, "hit")


# --- the backend's breaker --------------------------------------------------------

def test_a_frozen_redis_costs_the_dashboard_one_timeout_per_window(
    use_private_redis, redis_attempts, monkeypatch
):
    clock = Clock(1000.0)
    monkeypatch.setattr(default_cache.breaker, "clock", clock)
    compute = Counter()
    fetch([part(compute)], bypass=frozenset())  # stored; a pooled connection
    redis_attempts.count = 0
    use_private_redis.freeze()
    results = [fetch([part(compute)], bypass=frozenset()) for _ in range(5)]
    assert [r.outcome for r in results] == ["down"] * 5
    assert redis_attempts.count == 1  # the first version read; the rest skipped Redis
    clock.now += default_cache.breaker.seconds
    use_private_redis.thaw()
    assert fetch([part(compute)], bypass=frozenset()).outcome == "hit"


def test_a_bump_while_the_breaker_is_open_is_attempted(use_private_redis):
    compute = Counter()
    fetch([part(compute, user_id=1)])
    default_cache.breaker.trip(ConnectionError("a moment ago"), "test")
    assert fetch([part(compute, user_id=1)]).outcome == "down"  # reads skip Redis
    # Redis answers: a bump that can succeed must not become a bypass.
    assert invalidate_dashboard(user_ids={1}) is True
    assert CacheBypass.objects.count() == 0
    breakers.reset()
    assert fetch([part(compute, user_id=1)]).outcome == "miss"  # the bump retired it


def test_a_write_on_a_frozen_redis_costs_one_timeout_for_all_its_scopes(
    use_private_redis, monkeypatch
):
    import redis

    runs = {"count": 0}
    real = redis.client.Pipeline.execute

    def execute(pipeline, *args, **kwargs):
        runs["count"] += 1
        return real(pipeline, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    compute = Counter()
    fetch([part(compute, user_id=1)])  # stored; a pooled connection
    use_private_redis.freeze()
    assert invalidate_dashboard(user_ids={1, 2}) is False
    assert runs["count"] == 1  # u1, u2 and the team in one round trip
    assert sorted(scope for scope, _ in active_bypasses()) == ["team", "u1", "u2"]

    # The breaker opened on that timeout: the next write skips Redis for the
    # window (another timeout would most likely be paid) and bypasses its
    # scopes, as a failed bump does.
    assert invalidate_dashboard(user_ids={3}) is False
    assert runs["count"] == 1
    assert sorted(scope for scope, _ in active_bypasses()) == ["team", "u1", "u2", "u3"]
    use_private_redis.thaw()
    breakers.reset()
    assert fetch([part(compute, user_id=1)]).outcome == "bypass"  # never the old entry


def test_a_bump_refused_for_one_owner_bypasses_that_owner_only(settings, private_redis):
    from crm.cache_settings import redis_caches

    settings.CACHES = redis_caches(private_redis.url())
    settings.DASHBOARD_VERSION_TOKENS = "cache"
    before = read_versions(["team", "u1", "u2"])
    # This client may write every token but user 1's.
    private_redis.admin.acl_setuser(
        "app", enabled=True, passwords=["+secret"], commands=["+@all"],
        keys=["%R~*", "~crm:1:dash:ver:team", "~crm:1:dash:ver:user:2"])
    try:
        settings.CACHES = redis_caches(private_redis.url(user="app:secret"))
        assert invalidate_dashboard(user_ids={1, 2}) is False
        after = read_versions(["team", "u1", "u2"])
    finally:
        private_redis.admin.acl_deluser("app")
    # u2's and the team's bumps took: they stay cached (the team view is
    # computed from the database, never from u1's entries).
    assert [scope for scope, _ in active_bypasses()] == ["u1"]
    assert (after["team"], after["u1"], after["u2"]) == (
        before["team"] + 1, before["u1"], before["u2"] + 1)


# --- per-scope bypass -----------------------------------------------------------

def test_failed_bump_bypasses_only_the_scopes_it_concerns(monkeypatch, tokens_in_the_cache):
    computes = {uid: Counter() for uid in (None, 1, 2)}
    for uid, compute in computes.items():
        fetch([part(compute, user_id=uid)])
    with monkeypatch.context() as outage:
        outage.setattr(default_cache, "incr", redis_went_away)
        outage.setattr(default_cache, "bump_counters", redis_went_away, raising=False)
        outage.setattr(default_cache, "set", redis_went_away)
        assert invalidate_dashboard(user_ids={1}) is False  # user 1 and the team
    outcomes = {uid: fetch([part(compute, user_id=uid)]).outcome
                for uid, compute in computes.items()}
    assert outcomes == {None: "bypass", 1: "bypass", 2: "hit"}
    assert sorted(scope for scope, _ in active_bypasses()) == ["team", "u1"]


def test_a_part_showing_a_bypassed_scope_is_bypassed():
    compute = Counter()
    page = Part(family="html", scope="u2", params={"date": DAY}, compute=compute,
                also=(USERS_SCOPE,))
    fetch([page])
    assert fetch([page], bypass={USERS_SCOPE}).outcome == "bypass"
    assert fetch([page], bypass={"u3", TEAM_SCOPE}).outcome == "hit"
