import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches

TEST_SETTINGS_MODULE = "tests.settings"


def pytest_configure(config):
    # pytest-django prefers DJANGO_SETTINGS_MODULE from the environment over
    # setup.cfg. Under crm.settings the suite would flush the Redis database
    # `make run` uses (and lose the other test-only settings): refuse instead.
    if django_settings.SETTINGS_MODULE != TEST_SETTINGS_MODULE:
        raise pytest.UsageError(
            f"The suite runs on {TEST_SETTINGS_MODULE}, not {django_settings.SETTINGS_MODULE}: "
            "unset DJANGO_SETTINGS_MODULE (setup.cfg names the test settings)."
        )


@pytest.fixture(autouse=True)
def _clear_cache():
    from crm.cache_backend import breakers
    from dashboard.cache import hit_stats

    hit_stats.reset()
    breakers.reset()  # an outage simulated by one test must not skip the cache in the next
    for alias in django_settings.CACHES:
        caches[alias].clear()
    yield
    breakers.reset()
    for alias in django_settings.CACHES:
        caches[alias].clear()


@pytest.fixture
def make_redis_unreachable(settings):
    """Call it to point the cache at a port where nothing listens, with the
    project's own Redis options (short timeouts, no retries)."""
    from crm.cache_settings import redis_caches

    def point_at_closed_port():
        settings.CACHES = redis_caches("redis://127.0.0.1:1/0")
        settings.DASHBOARD_VERSION_TOKENS = "cache"

    return point_at_closed_port


class PrivateRedis:
    """A redis-server of the test run's own, on a free loopback port: tests may
    freeze it (SIGSTOP), pause it or reconfigure it, which the shared one must
    never be."""

    def __init__(self, directory):
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("CI"):
                pytest.fail("redis-server is not installed")
            pytest.skip("redis-server is not installed")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.log = directory / "redis.log"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(directory), "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.admin = self.client()
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server did not start: {self.log.read_text()}")
            time.sleep(0.05)

    def _answers(self):
        import redis

        try:
            return self.admin.ping()
        except redis.ConnectionError:
            return False

    def url(self, db=0, *, user=""):
        return f"redis://{user}@127.0.0.1:{self.port}/{db}" if user else (
            f"redis://127.0.0.1:{self.port}/{db}")

    def client(self, **kwargs):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5, **kwargs)

    def freeze(self):
        """SIGSTOP: connections are accepted by the kernel, nothing answers."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)

    def stop(self):
        self.thaw()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def _private_redis_server(tmp_path_factory):
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def private_redis(_private_redis_server):
    """The run's private Redis, emptied, with its default settings back and running."""
    server = _private_redis_server
    server.thaw()
    server.admin.flushall()
    server.admin.config_set("maxmemory", 0)
    server.admin.config_set("maxmemory-policy", "noeviction")
    yield server
    server.thaw()


@pytest.fixture
def use_private_redis(settings, private_redis):
    """Point the project's cache aliases at the private Redis, with the
    project's options, plus `lenient`: an alias that ignores errors, as any
    later Redis alias may (the breaker must serve both kinds)."""
    from crm.cache_settings import redis_cache_settings, redis_caches

    settings.CACHES = {
        **redis_caches(private_redis.url()),
        "lenient": redis_cache_settings(private_redis.url(), ignore_exceptions=True),
    }
    settings.DASHBOARD_VERSION_TOKENS = "cache"
    return private_redis


@pytest.fixture
def tokens_in_the_cache(settings):
    """The dashboard's version tokens in the default cache, as with Redis,
    whatever the run's backend: tests that make the cache fail a bump."""
    settings.DASHBOARD_VERSION_TOKENS = "cache"


class RedisAttempts:
    """Counts the cache operations that reached django-redis's client: each
    one tried Redis (and, with Redis frozen, waited for the socket timeout)."""

    OPERATIONS = ("get", "get_many", "set", "set_many", "add", "delete", "incr")

    def __init__(self, monkeypatch):
        from django_redis.client import DefaultClient

        self.count = 0
        for name in self.OPERATIONS:
            monkeypatch.setattr(DefaultClient, name, self._counted(getattr(DefaultClient, name)))

    def _counted(self, real):
        def call(*args, **kwargs):
            self.count += 1
            return real(*args, **kwargs)
        return call


@pytest.fixture
def redis_attempts(monkeypatch):
    return RedisAttempts(monkeypatch)


def _is_transactional(request):
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _as_after_migrate(request, django_db_blocker):
    """Undo what the flush after a transactional test did to migration-made state.

    pytest-django runs transactional tests last, each after the previous
    one's flush, which empties every table: the Managers group and its
    permissions (data migrations') go, so put them back. (serialized_rollback would, but under
    Playwright's loop the test sees a connection without the serialized copy.)
    On SQLite the flush also empties the lead counters (both tables) before
    leads_lead, whose delete triggers then leave -1 rows: rebuild them from
    the now empty lead table.
    """
    if not _is_transactional(request):
        return
    from importlib import import_module

    from django.apps import apps

    from leads.models import LeadChange, LeadCountDelta, LeadDayDelta

    with django_db_blocker.unblock():
        import_module("leads.migrations.0003_managers_group").create_managers_group(apps, None)
        import_module("accounts.migrations.0002_managers_unlock_logins").grant_managers_unlock(
            apps, None)
        import_module("leads.migrations.0015_managers_view_lead_history").grant(apps, None)
        import_module("whatsapp.migrations.0002_managers_maintain_templates").grant(apps, None)
        LeadCountDelta.objects.rebuild()
        LeadDayDelta.objects.rebuild()
        # The same flush deleted leads one by one through the history triggers.
        LeadChange.objects.all().delete()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories hash a password per user; the default hasher takes ~0.4 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def manager(db):
    from tests.factories import ManagerFactory

    return ManagerFactory()


@pytest.fixture
def telecaller(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def telecaller_client(telecaller):
    """A client of its own, logged in as `telecaller` (beside pytest-django's
    `client`, which a test may log in as someone else)."""
    from django.test import Client

    client = Client()
    client.force_login(telecaller)
    return client


@pytest.fixture
def manager_client(manager):
    """A client of its own, logged in as `manager`."""
    from django.test import Client

    client = Client()
    client.force_login(manager)
    return client
