"""Ending a session takes effect on the next request whatever Redis does:
sessions live in the database only, so a Redis frozen during a logout (or a
password change, a deactivation, rows deleted by an administrator) cannot
keep a copy alive."""

from contextlib import contextmanager

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from crm.cache_settings import redis_caches

pytestmark = pytest.mark.django_db

DATA = reverse("dashboard:data")
LEADS = reverse("leads:list")
LOGIN = reverse("login")


@pytest.fixture
def frozen_redis(private_redis, settings):
    """The project's caches on the run's private Redis (tests/conftest.py);
    call the result to get a context manager during which Redis accepts no
    write."""
    settings.CACHES = redis_caches(private_redis.url())
    control = private_redis.client()

    @contextmanager
    def writes_paused():
        # Long enough never to end by itself during the block; UNPAUSE ends it.
        control.execute_command("CLIENT", "PAUSE", 60000, "WRITE")
        try:
            yield
        finally:
            control.execute_command("CLIENT", "UNPAUSE")

    return writes_paused


def _assert_refused(client):
    data = client.get(DATA)
    assert (data.status_code, data.json()) == (403, {"error": "Log in to see the dashboard."})
    leads = client.get(LEADS)
    assert (leads.status_code, leads.url) == (302, f"{LOGIN}?next={LEADS}")


def test_sessions_are_read_from_the_database_only(settings):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_a_logout_while_redis_is_frozen_ends_the_session(client, telecaller, frozen_redis):
    client.force_login(telecaller)
    assert client.get(DATA).status_code == 200
    cookie = client.cookies["sessionid"].value

    with frozen_redis():
        response = client.post(reverse("logout"))
    assert (response.status_code, response.url) == (302, LOGIN)

    # The browser dropped the cookie; an attacker who copied it replays it.
    client.cookies["sessionid"] = cookie
    _assert_refused(client)


def _change_password(user):
    changer = Client()
    changer.force_login(user)
    response = changer.post(reverse("password_change"), {
        "old_password": "password",
        "new_password1": "a new long passphrase",
        "new_password2": "a new long passphrase",
    })
    assert (response.status_code, response.url) == (302, reverse("password_change_done"))


def _deactivate(user):
    user.is_active = False
    user.save(update_fields=["is_active"])


def _delete_sessions(user):
    assert Session.objects.all().delete()[0] == 1


@pytest.mark.parametrize("end_session", [_change_password, _deactivate, _delete_sessions],
                         ids=["password change", "deactivation", "rows deleted"])
def test_a_session_ended_while_redis_is_frozen_is_refused_afterwards(
    client, telecaller, frozen_redis, end_session
):
    client.force_login(telecaller)
    assert client.get(DATA).status_code == 200

    with frozen_redis():
        end_session(telecaller)

    _assert_refused(client)
