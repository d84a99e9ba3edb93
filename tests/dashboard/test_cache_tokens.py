"""The embedded default across processes: without Redis the version tokens live
in the database every process shares (dashboard/cache/tokens.py), so a
management command's write reaches a running server's local-memory cache.

These tests run the project as `make run` does, on a SQLite file of their own
and without Redis, in processes of their own."""

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.cache import TEAM_SCOPE, Part, fetch, invalidate_dashboard, read_versions, user_scope

ROOT = Path(__file__).resolve().parents[2]


def _env(database):
    """The embedded default: crm.settings on `database`, no Redis."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("DJANGO_", "REDIS_", "DATABASE_", "CRM_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DJANGO_SECRET_KEY": "django-insecure-cross-process-test-only",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DATABASE_URL": f"sqlite:///{database}",
    })
    return env


def _manage(database, *args):
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=_env(database),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def embedded_database(tmp_path_factory):
    database = tmp_path_factory.mktemp("embedded") / "db.sqlite3"
    _manage(database, "migrate", "--verbosity", "0")
    return database


SESSION_FOR_A_NEW_TELECALLER = """
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create_user("caller", password="not-used-here", is_staff=True)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""

A_LEAD_FOR_THE_TELECALLER = """
from django.contrib.auth import get_user_model
from leads import services
services.lead_create(creator=get_user_model().objects.get(username="caller"),
                     customer_name="Ravi Kumar", mobile="9876543210")
"""


class Server:
    """`manage.py runserver`, as `make run` starts it, on a free port."""

    def __init__(self, database):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=_env(database), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.opener = None
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"runserver did not start: {self.process.stderr.read()}")
                time.sleep(0.1)

    def log_in(self, session_key):
        jar = http.cookiejar.CookieJar()
        jar.set_cookie(http.cookiejar.Cookie(
            0, "sessionid", session_key, None, False, "127.0.0.1", False, False, "/", True,
            False, None, False, None, None, {}))
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def dashboard(self):
        url = f"http://127.0.0.1:{self.port}/dashboard/data.json"
        with self.opener.open(url, timeout=30) as response:
            return response.headers.get("Server-Timing", ""), json.load(response)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def server(embedded_database):
    running = Server(embedded_database)
    yield running
    running.stop()


def _cached(server):
    """The dashboard, asked twice: the second answer comes from the server's
    cache, which would keep serving it if another process could not retire it."""
    server.dashboard()
    timing, document = server.dashboard()
    assert 'cache;desc="hit"' in timing  # (staff see the details)
    return document


def test_commands_in_other_processes_change_the_running_servers_dashboard(
    embedded_database, server
):
    session_key = _manage(embedded_database, "shell", "--no-imports", "-c",
                          SESSION_FOR_A_NEW_TELECALLER)
    server.log_in(session_key.strip())
    assert _cached(server)["totals"]["leads"] == 0

    _manage(embedded_database, "shell", "--no-imports", "-c", A_LEAD_FOR_THE_TELECALLER)
    document = _cached(server)
    assert (document["totals"]["leads"], document["snapshot_taken"]) == (1, False)

    _manage(embedded_database, "snapshot_followups")
    _, document = server.dashboard()
    assert document["snapshot_taken"] is True


CONCURRENT_BUMPS = """
import threading
from django.db import connection
from dashboard.cache import invalidate_dashboard, read_versions
THREADS, BUMPS = 8, 40
before = read_versions({"team"})["team"]
failures = []
def bump():
    try:
        for _ in range(BUMPS):
            if not invalidate_dashboard(team=True):
                failures.append(1)
    finally:
        connection.close()
threads = [threading.Thread(target=bump) for _ in range(THREADS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(read_versions({"team"})["team"] - before, len(failures))
"""


def test_concurrent_bumps_from_threads_are_never_lost(embedded_database):
    output = _manage(embedded_database, "shell", "--no-imports", "-c", CONCURRENT_BUMPS)
    advanced, failed = output.split()
    assert (int(advanced), int(failed)) == (8 * 40, 0)


# The same store on the suite's own database (PostgreSQL in CI): the project
# may also run on PostgreSQL without Redis.


@pytest.fixture
def tokens_in_the_database(settings, db):
    settings.DASHBOARD_VERSION_TOKENS = "database"


def test_database_tokens_start_at_zero_and_each_bump_adds_one(tokens_in_the_database):
    scopes = {TEAM_SCOPE, user_scope(5)}
    assert read_versions(scopes) == {TEAM_SCOPE: 0, "u5": 0}
    assert invalidate_dashboard(user_ids={5}) is True
    first = read_versions(scopes)
    assert invalidate_dashboard(user_ids={5}, team=False) is True
    assert read_versions(scopes) == {TEAM_SCOPE: first[TEAM_SCOPE], "u5": first["u5"] + 1}
    assert min(first.values()) > 0  # the first bump's token comes from the clock


def test_a_bump_in_the_database_retires_the_entries_in_local_memory(tokens_in_the_database):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    def fetched():
        part = Part(family="day", scope=user_scope(5), params={"date": "2026-11-28"},
                    compute=compute)
        return fetch([part], bypass=frozenset())

    assert [fetched().outcome for _ in range(2)] == ["miss", "hit"]
    invalidate_dashboard(user_ids={5}, team=False)
    assert (fetched().values["day"], fetched().outcome) == (2, "hit")
