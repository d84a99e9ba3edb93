import pytest
from django.core.cache import caches


@pytest.fixture(autouse=True)
def _clear_cache():
    from dashboard.cache import discard_pending_stats

    discard_pending_stats()
    for alias in ("default", "sessions"):
        caches[alias].clear()
    yield
    for alias in ("default", "sessions"):
        caches[alias].clear()


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
