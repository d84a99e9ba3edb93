import time

import pytest
from django.db import OperationalError

from crm import health
from crm.cache_settings import redis_cache_settings

pytestmark = pytest.mark.django_db


def _fail():
    raise OperationalError("connection to server at 10.0.0.9 failed")


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


def test_healthz_reports_a_failing_database_without_detail(client, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "database", _fail)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "error", "cache": "ok"}
    assert b"10.0.0.9" not in response.content


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
