"""One run at a time for the scheduled commands, across hosts.

The crontab (docs/operations.md, "Scheduled jobs") may sit on every application host;
``job_lock`` makes a second copy of a job notice that one is already running
and step aside instead of doing the work twice at the same time.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on the
  primary, with a fixed key per job. It is held by the database for this
  connection, so every host sees it, and released when the job ends or its
  connection dies (a crashed job never leaves it behind).
- SQLite (one host by nature): an exclusive ``flock`` on a file in the
  temporary folder, named after the job and the database. Same guarantee on
  that host; the operating system drops it when the process dies.
"""

import fcntl
import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections

# Fixed advisory-lock keys (bigint), one per job; never reuse a number
# (7_301_202_600 is the migrate lock, crm/management/commands/migrate_locked.py).
JOB_LOCK_KEYS = {
    "snapshot_followups": 7_301_202_601,
    "compact_lead_counts": 7_301_202_602,
    # One lead import at a time (intake/importing.py).
    "import_leads": 7_301_202_610,
}


@contextmanager
def job_lock(name, *, using=DEFAULT_DB_ALIAS):
    """Yield True when this process holds the job's lock, False when another
    run holds it (then do nothing); the lock is released on leaving."""
    key = JOB_LOCK_KEYS[name]
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            (acquired,) = cursor.fetchone()
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    with open(_lock_path(name, connection), "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_path(name, connection):
    database = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db():
        # A database in memory belongs to this process alone (test runs):
        # another process's run of the job is no conflict.
        database = f"{database}|{os.getpid()}"
    digest = hashlib.sha256(database.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"crm-{name}-{digest}.lock"
