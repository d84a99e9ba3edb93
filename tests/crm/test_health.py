import time

import pytest
from django.db import OperationalError

from crm import health
from crm.cache_settings import redis_cache_settings

pytestmark = pytest.mark.django_db


def _fail():
    raise OperationalError("connection to server at 10.0.0.9 failed")


@pytest.fixture
def no_memory_advice(monkeypatch):
    """The database and cache checks alone: the memory advice depends on how the
    suite's Redis (if any) is configured, and has tests of its own below."""
    monkeypatch.setattr(health, "ADVISORIES", {})


@pytest.mark.usefixtures("no_memory_advice")
def test_healthz_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert "no-cache" in response.headers["Cache-Control"]


def test_healthz_needs_no_login_and_answers_head(client):
    assert client.head("/healthz").status_code == 200


def test_healthz_reports_an_unreachable_cache(client, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": redis_cache_settings("redis://127.0.0.1:1/0", ignore_exceptions=False),
    }

    start = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - start

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "error"}
    assert elapsed < 5  # bounded by the cache's connect timeout, not the OS's


@pytest.mark.usefixtures("no_memory_advice")
def test_healthz_reports_a_failing_database_without_detail(client, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "database", _fail)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "error", "cache": "ok"}
    assert b"10.0.0.9" not in response.content


@pytest.mark.usefixtures("no_memory_advice")
def test_healthz_treats_a_wrong_answer_as_an_error(client, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "cache", lambda: False)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "error"}


def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


def test_healthz_is_exempt_from_the_ssl_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    redirect = client.get("/accounts/login/")
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == "https://testserver/accounts/login/"


@pytest.mark.parametrize("maxmemory, policy, advice", [
    (0, "noeviction", "warning"),
    (64 * 2**20, "noeviction", "warning"),
    (0, "volatile-lru", "warning"),
    (64 * 2**20, "volatile-lru", "ok"),
])
def test_healthz_advises_on_redis_memory_without_failing(client, use_private_redis, maxmemory,
                                                         policy, advice):
    use_private_redis.admin.config_set("maxmemory", maxmemory)
    use_private_redis.admin.config_set("maxmemory-policy", policy)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "cache_memory": advice}


def test_healthz_gives_no_memory_advice_for_local_memory(client, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }

    assert client.get("/healthz").json() == {"database": "ok", "cache": "ok"}
