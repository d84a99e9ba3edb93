"""The Redis cache backend's breaker, against a private redis-server frozen
with SIGSTOP (connections are accepted, nothing answers: every call would wait
for the socket timeout)."""

import pytest
import redis
from django.core.cache import caches

from crm.cache_backend import BreakerOpen, MemoryPolicy, breakers, memory_policy

pytestmark = pytest.mark.django_db


class Clock:
    """A monotonic clock that stands still until a test moves it."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def _outcome(call):
    try:
        return ("answered", call())
    except BreakerOpen:
        return ("skipped", None)
    except redis.TimeoutError:
        return ("timed out", None)


@pytest.fixture
def frozen(use_private_redis, monkeypatch, redis_attempts):
    """Both aliases on a warm private Redis, their breakers on a still clock;
    call it to freeze Redis. Returns (freeze, clock, attempts)."""
    clock = Clock(1000.0)
    for alias in ("default", "lenient"):
        caches[alias].set("warm", 1)  # a pooled connection, as in a running process
        monkeypatch.setattr(caches[alias].breaker, "clock", clock)
    redis_attempts.count = 0
    return use_private_redis.freeze, clock, redis_attempts


def test_a_frozen_redis_costs_an_alias_that_raises_one_timeout_per_window(frozen):
    freeze, clock, attempts = frozen
    cache = caches["default"]  # IGNORE_EXCEPTIONS off: errors reach the caller
    freeze()
    outcomes = [_outcome(lambda: cache.get("key")) for _ in range(6)]
    assert [name for name, _ in outcomes] == ["timed out"] + ["skipped"] * 5
    assert attempts.count == 1
    assert (_outcome(lambda: cache.set("key", 1)), attempts.count) == (("skipped", None), 1)

    clock.now += cache.breaker.seconds  # the window has passed: Redis is tried again
    assert [_outcome(lambda: cache.get("key"))[0] for _ in range(3)] == [
        "timed out", "skipped", "skipped"]
    assert attempts.count == 2


def test_a_frozen_redis_costs_an_alias_that_ignores_errors_one_timeout_per_window(
    frozen, use_private_redis
):
    freeze, clock, attempts = frozen
    cache = caches["lenient"]  # IGNORE_EXCEPTIONS on: a miss instead of an error
    freeze()
    assert [cache.get("key", "miss") for _ in range(6)] == ["miss"] * 6
    assert cache.get_many(["a", "b"]) == {}
    assert attempts.count == 1

    clock.now += cache.breaker.seconds
    use_private_redis.thaw()
    assert cache.get("warm") == 1
    assert attempts.count == 2


def test_each_alias_has_its_own_breaker(frozen):
    freeze, _, attempts = frozen
    freeze()
    assert _outcome(lambda: caches["default"].get("key"))[0] == "timed out"
    assert caches["lenient"].get("key", "miss") == "miss"  # tried: its breaker was closed
    assert attempts.count == 2
    assert caches["default"].breaker is not caches["lenient"].breaker


def test_always_attempt_tries_redis_after_a_refused_connection(use_private_redis,
                                                                redis_attempts):
    cache = caches["default"]
    cache.set("warm", 1)
    redis_attempts.count = 0
    # Refused or reset: answered at once, so trying again costs nothing.
    cache.breaker.trip(ConnectionRefusedError("a moment ago"), "test")
    assert _outcome(lambda: cache.incr("warm"))[0] == "skipped"
    with cache.always_attempt():
        assert cache.incr("warm") == 2
    assert redis_attempts.count == 1
    assert cache.breaker.is_open()  # other calls wait for the window


def test_always_attempt_skips_redis_that_timed_out_for_the_window(frozen, use_private_redis):
    freeze, clock, attempts = frozen
    cache = caches["default"]
    freeze()
    assert _outcome(lambda: cache.get("key"))[0] == "timed out"
    use_private_redis.thaw()  # would answer now; the breaker cannot know
    with cache.always_attempt():
        # A hung Redis most likely hangs again: one timeout per window, writes included.
        assert _outcome(lambda: cache.incr("warm"))[0] == "skipped"
        assert set(cache.bump_counters(["warm"], lambda: 1)) == {"warm"}
    assert attempts.count == 1
    clock.now += cache.breaker.seconds
    with cache.always_attempt():
        assert cache.incr("warm") == 2


# --- counters in one round trip ----------------------------------------------


class PipelineRuns:
    """Counts pipelines sent to Redis: one round trip each."""

    def __init__(self, monkeypatch):
        self.count = 0
        real = redis.client.Pipeline.execute

        def execute(pipeline, *args, **kwargs):
            self.count += 1
            return real(pipeline, *args, **kwargs)

        monkeypatch.setattr(redis.client.Pipeline, "execute", execute)


def test_bump_counters_increments_and_creates_in_one_round_trip(use_private_redis,
                                                                monkeypatch, redis_attempts):
    cache = caches["default"]
    cache.set("a", 5, None)
    runs, redis_attempts.count = PipelineRuns(monkeypatch), 0
    assert cache.bump_counters(["a", "b", "c"], lambda: 100) == {}
    assert (runs.count, redis_attempts.count) == (1, 0)
    assert cache.get_many(["a", "b", "c"]) == {"a": 6, "b": 101, "c": 101}
    assert cache.ttl("b") is None  # counters never expire


def test_bump_counters_on_a_frozen_redis_costs_one_timeout(frozen, monkeypatch):
    freeze, _, _ = frozen
    cache = caches["default"]
    runs = PipelineRuns(monkeypatch)
    freeze()
    failed = cache.bump_counters(["a", "b", "c"], lambda: 1)
    assert sorted(failed) == ["a", "b", "c"]
    assert all(isinstance(error, redis.TimeoutError) for error in failed.values())
    assert runs.count == 1
    # A write timed out: writes skip Redis for the window, reads may still be answered.
    assert cache.breaker.skips("set") and not cache.breaker.skips("get")
    assert _outcome(lambda: cache.get("key"))[0] == "timed out"  # frozen, not paused
    assert cache.breaker.skips("get")


def test_a_write_pause_keeps_reads_going(use_private_redis, redis_attempts):
    cache = caches["default"]
    cache.set("warm", 1)
    control = use_private_redis.client()
    control.execute_command("CLIENT", "PAUSE", 60000, "WRITE")
    try:
        redis_attempts.count = 0
        assert _outcome(lambda: cache.set("key", 2))[0] == "timed out"
        assert [_outcome(lambda: cache.get("warm")) for _ in range(3)] == [("answered", 1)] * 3
        assert _outcome(lambda: cache.add("key", 2))[0] == "skipped"
        assert set(cache.bump_counters(["warm"], lambda: 1)) == {"warm"}
        assert redis_attempts.count == 4  # the set and the three reads
    finally:
        control.execute_command("CLIENT", "UNPAUSE")


def test_bump_counters_reports_exactly_the_keys_redis_refused(settings, private_redis):
    from crm.cache_settings import redis_caches

    # Writes allowed to a and c only: b's SET and INCR are refused.
    private_redis.admin.acl_setuser("app", enabled=True, passwords=["+secret"],
                                    keys=["%R~*", "~crm:1:a", "~crm:1:c"],
                                    commands=["+@all"])
    try:
        settings.CACHES = redis_caches(private_redis.url(user="app:secret"))
        cache = caches["default"]
        failed = cache.bump_counters(["a", "b", "c"], lambda: 10)
        assert list(failed) == ["b"]
        assert isinstance(failed["b"], redis.exceptions.NoPermissionError)
        assert cache.get_many(["a", "b", "c"]) == {"a": 11, "c": 11}
        assert not cache.breaker.is_open()  # refused, not unreachable
    finally:
        private_redis.admin.acl_deluser("app")


def test_the_breaker_logs_an_outage_once_per_interval(frozen, caplog):
    freeze, clock, _ = frozen
    cache = caches["default"]
    freeze()
    with caplog.at_level("WARNING", logger="crm.cache_backend"):
        for _ in range(3):
            _outcome(lambda: cache.get("key"))
            clock.now += cache.breaker.seconds
    assert caplog.text.count("unavailable during get") == 1


def test_a_refused_write_does_not_open_the_breaker(use_private_redis):
    # A full Redis (noeviction) refuses writes but answers at once: no reason
    # to skip it.
    use_private_redis.admin.config_set("maxmemory", 1)
    cache = caches["default"]
    with pytest.raises(redis.ResponseError):
        cache.set("key", "value")
    assert not cache.breaker.is_open()


def test_breakers_reset_closes_every_breaker(use_private_redis):
    caches["default"].breaker.trip(ConnectionError("test"), "test")
    caches["lenient"].breaker.trip(ConnectionError("test"), "test")
    breakers.reset()
    assert not caches["default"].breaker.is_open()
    assert not caches["lenient"].breaker.is_open()


# --- memory policy ---------------------------------------------------------

@pytest.mark.parametrize("maxmemory, policy, status", [
    (0, "noeviction", "warning"),
    (64 * 2**20, "noeviction", "warning"),
    (0, "volatile-lru", "warning"),
    (64 * 2**20, "volatile-lru", "ok"),
    (64 * 2**20, "volatile-ttl", "ok"),
])
def test_memory_policy_reads_the_server(use_private_redis, maxmemory, policy, status):
    use_private_redis.admin.config_set("maxmemory", maxmemory)
    use_private_redis.admin.config_set("maxmemory-policy", policy)
    read = memory_policy(caches["default"])
    assert (read.maxmemory, read.policy, read.status) == (maxmemory, policy, status)


@pytest.mark.parametrize("refused, expected", [
    (["-info"], (0, "noeviction", "warning")),  # read with CONFIG GET
    (["-info", "-config"], (None, None, "unknown")),
], ids=["info", "info and config"])
def test_memory_policy_when_the_server_refuses_commands(settings, private_redis, refused,
                                                         expected):
    from crm.cache_settings import redis_caches

    private_redis.admin.acl_setuser("app", enabled=True, passwords=["+secret"], keys=["*"],
                                    commands=["+@all", *refused])
    try:
        settings.CACHES = redis_caches(private_redis.url(user="app:secret"))
        read = memory_policy(caches["default"])
        assert (read.maxmemory, read.policy, read.status) == expected
        assert ("NoPermissionError" in read.reason) is (read.status == "unknown")
    finally:
        private_redis.admin.acl_deluser("app")


def test_memory_policy_of_local_memory_is_none(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert memory_policy(caches["default"]) is None


def test_memory_policy_status():
    assert MemoryPolicy(None, None).status == "unknown"
    assert MemoryPolicy(2**20, "allkeys-lru").status == "ok"
