"""``migrate``, one host at a time: what ``make serve`` runs on every start.

Hosts started together would each apply the pending migrations; the
non-atomic ones (``CREATE INDEX CONCURRENTLY``) have no transaction to make
the second run fail cleanly. On PostgreSQL this command first takes a
session-level advisory lock, so a second host waits for the first to finish
and then finds nothing left to apply. SQLite is one host by definition: it
just migrates.

The lock lives on a connection of its own, so nothing ``migrate`` does to its
connections (autocommit for a non-atomic migration, closing one after an
error) can drop it early. It is released on the way out, error or not, and
PostgreSQL drops it anyway when that connection ends, so a host that dies
mid-migration never leaves it behind.
"""

import time
from contextlib import contextmanager, suppress

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

# A fixed bigint; leads/locks.py holds the scheduled jobs' keys of the same series.
MIGRATE_LOCK_KEY = 7_301_202_600
POLL_SECONDS = 1


class Command(BaseCommand):
    help = "Run migrate under a PostgreSQL advisory lock, so hosts migrate one at a time."

    def add_arguments(self, parser):
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS,
            help="The database to migrate (and to take the lock on).",
        )
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive",
            help="Passed on to migrate: never prompt.",
        )

    def handle(self, *args, database, interactive, verbosity, **options):
        with migrate_lock(database, on_wait=self._report_waiting if verbosity else None):
            call_command(
                "migrate", database=database, interactive=interactive, verbosity=verbosity,
                stdout=self.stdout, stderr=self.stderr,
            )

    def _report_waiting(self):
        self.stdout.write(
            f"Another host holds the migrate lock (advisory lock {MIGRATE_LOCK_KEY}); "
            "waiting for it to finish migrating."
        )


@contextmanager
def migrate_lock(database=DEFAULT_DB_ALIAS, *, on_wait=None):
    """Hold the migrate lock for `database` while the block runs; on PostgreSQL
    wait for it while another connection holds it (calling `on_wait()` once)."""
    if connections[database].vendor != "postgresql":
        yield
        return
    lock_connection = connections.create_connection(database)
    try:
        if not _try_lock(lock_connection):
            if on_wait:
                on_wait()
            # Polled, never a blocking pg_advisory_lock(): a waiting statement
            # keeps a snapshot open, CREATE INDEX CONCURRENTLY in the holder's
            # migrate waits for every older snapshot, and the two hosts would
            # deadlock through the holder's lock connection, a cycle
            # PostgreSQL cannot see.
            while not _try_lock(lock_connection):
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            # Unlocked explicitly, not only by closing: a pooled connection
            # keeps its session, and the lock with it, after close(). If the
            # connection broke, closing it ends the session and the lock.
            with suppress(DatabaseError), lock_connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_KEY])
    finally:
        lock_connection.close()


def _try_lock(lock_connection):
    with lock_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
        (acquired,) = cursor.fetchone()
    return acquired
