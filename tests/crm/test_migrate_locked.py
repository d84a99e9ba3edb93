"""`migrate_locked`: migrate under a PostgreSQL advisory lock.

The host that holds the lock is another database connection here, as in
tests/leads/test_locks.py; migrate itself is replaced by a recorder where the
test is about when it runs, not what it does.
"""

import threading
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connection, connections

from crm.management.commands.migrate_locked import MIGRATE_LOCK_KEY

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL advisory lock"
)


@pytest.fixture
def migrate_handle():
    with mock.patch.object(MigrateCommand, "handle", autospec=True, return_value=None) as handle:
        yield handle


@pytest.fixture
def other_host():
    other = connections.create_connection("default")
    yield other
    other.close()


def _lock_is_free(other):
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
        (acquired,) = cursor.fetchone()
        if acquired:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_KEY])
    return acquired


def test_migrate_locked_runs_migrate_once_with_the_options(migrate_handle):
    call_command("migrate_locked", "--noinput", "--database", "default", stdout=StringIO())

    migrate_handle.assert_called_once()
    options = migrate_handle.call_args.kwargs
    assert (options["database"], options["interactive"]) == ("default", False)


def test_migrate_locked_really_migrates():
    out = StringIO()

    call_command("migrate_locked", "--noinput", stdout=out)

    assert "No migrations to apply." in out.getvalue()


class _SignallingOutput(StringIO):
    """Sets `waiting` once the command says it is waiting for the lock."""

    def __init__(self):
        super().__init__()
        self.waiting = threading.Event()

    def write(self, text):
        if "waiting for it to finish migrating" in text:
            self.waiting.set()
        return super().write(text)


class _SecondHost:
    """Runs migrate_locked in a thread, as a second host starting up would."""

    def __init__(self):
        self.out = _SignallingOutput()
        self.errors = []
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        try:
            call_command("migrate_locked", "--noinput", stdout=self.out)
        except Exception as exc:  # reported to the test
            self.errors.append(exc)
        finally:
            connections.close_all()

    def start_and_wait_until_waiting(self):
        self.thread.start()
        # Bounds a hang only; how long it takes is not asserted.
        assert self.out.waiting.wait(timeout=60), self.out.getvalue()

    def finish(self):
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        assert self.errors == []


@pytest.fixture
def holding_the_lock(other_host):
    with other_host.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
    return other_host  # the test unlocks; closing the connection would too


def _unlock(holder):
    with holder.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_KEY])


@postgresql_only
def test_migrate_locked_waits_while_another_host_holds_the_lock(migrate_handle, holding_the_lock):
    second = _SecondHost()
    try:
        second.start_and_wait_until_waiting()
        assert migrate_handle.call_count == 0
    finally:
        _unlock(holding_the_lock)
        second.finish()

    migrate_handle.assert_called_once()
    assert _lock_is_free(holding_the_lock)


@postgresql_only
def test_migrate_locked_waiting_never_blocks_a_concurrent_index_build(
    migrate_handle, holding_the_lock
):
    # The first host's migrate builds an index CONCURRENTLY while the second
    # waits: that build waits for every older snapshot, so the waiting must
    # not hold one. lock_timeout turns a deadlock into an error.
    migrating = connections.create_connection("default")
    second = _SecondHost()
    try:
        second.start_and_wait_until_waiting()
        with migrating.cursor() as cursor:
            cursor.execute("CREATE TABLE crm_test_migrate_lock_probe (id integer)")
            cursor.execute("SET lock_timeout = '20s'")
            cursor.execute(
                "CREATE INDEX CONCURRENTLY crm_test_migrate_lock_probe_idx "
                "ON crm_test_migrate_lock_probe (id)"
            )
        assert migrate_handle.call_count == 0
    finally:
        with migrating.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS crm_test_migrate_lock_probe")
        migrating.close()
        _unlock(holding_the_lock)
        second.finish()

    migrate_handle.assert_called_once()


@postgresql_only
def test_migrate_locked_holds_the_lock_while_migrate_runs(migrate_handle, other_host):
    seen = []
    migrate_handle.side_effect = lambda *args, **options: seen.append(_lock_is_free(other_host))

    call_command("migrate_locked", "--noinput", stdout=StringIO())

    assert seen == [False]
    assert _lock_is_free(other_host)


@postgresql_only
def test_migrate_locked_releases_the_lock_when_migrate_fails(migrate_handle, other_host):
    migrate_handle.side_effect = RuntimeError("a migration failed")

    with pytest.raises(RuntimeError, match="a migration failed"):
        call_command("migrate_locked", "--noinput", stdout=StringIO())

    assert _lock_is_free(other_host)
