"""Ending a session takes effect on the next request whatever Redis does:
sessions live in the database only, so a Redis frozen during a logout (or a
password change, a deactivation, rows deleted by an administrator) cannot
keep a copy alive."""

import os
import shutil
import socket
import subprocess
import time
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


def _ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own on a loopback port (never the shared
    one, which this test freezes): its port."""
    import redis

    server = shutil.which("redis-server")
    if server is None:
        if _ci():
            pytest.fail("redis-server is not installed; CI installs Debian's redis-server.")
        pytest.skip("redis-server is not installed")
    port = _free_port()
    with open(tmp_path / "redis.log", "w") as log:
        process = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp_path)],
            stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("redis-server did not start: "
                                + (tmp_path / "redis.log").read_text())
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def frozen_redis(private_redis, settings):
    """The project's caches on the private Redis; call the result to get a
    context manager during which Redis accepts no write."""
    import redis

    settings.CACHES = redis_caches(f"redis://127.0.0.1:{private_redis}/0")
    control = redis.Redis(host="127.0.0.1", port=private_redis, socket_timeout=5)

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
