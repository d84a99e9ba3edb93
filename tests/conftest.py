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
    from dashboard.cache import breaker, hit_stats

    hit_stats.reset()
    breaker.reset()  # an outage simulated by one test must not skip the cache in the next
    for alias in django_settings.CACHES:
        caches[alias].clear()
    yield
    breaker.reset()
    for alias in django_settings.CACHES:
        caches[alias].clear()


@pytest.fixture
def make_redis_unreachable(settings):
    """Call it to point the cache at a port where nothing listens, with the
    project's own Redis options (short timeouts, no retries)."""
    from crm.cache_settings import redis_caches

    def point_at_closed_port():
        settings.CACHES = redis_caches("redis://127.0.0.1:1/0")

    return point_at_closed_port


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
    On SQLite the flush also empties the lead counters before leads_lead,
    whose delete triggers then leave -1 rows: rebuild them from the now
    empty lead table.
    """
    if not _is_transactional(request):
        return
    from importlib import import_module

    from django.apps import apps

    from leads.models import LeadCountDelta

    with django_db_blocker.unblock():
        import_module("leads.migrations.0003_managers_group").create_managers_group(apps, None)
        import_module("accounts.migrations.0002_managers_unlock_logins").grant_managers_unlock(
            apps, None)
        LeadCountDelta.objects.rebuild()


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
