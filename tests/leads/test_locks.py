"""The scheduled commands' lock: a second run while one holds it does nothing.

On PostgreSQL the other run is a second database connection (as a second
host would be); on SQLite a second open file in this process, which flock
treats like another process.
"""

from contextlib import contextmanager
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections

from leads.locks import JOB_LOCK_KEYS, job_lock
from leads.models import FollowupSnapshot, LeadCountDelta
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 28)


@contextmanager
def _held_elsewhere(name):
    if connection.vendor != "postgresql":
        with job_lock(name) as acquired:
            assert acquired
            yield
        return
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [JOB_LOCK_KEYS[name]])
        yield
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [JOB_LOCK_KEYS[name]])
    finally:
        other.close()


def _run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_snapshot_does_nothing_while_another_run_holds_the_lock():
    LeadFactory(followup_date=None)
    with _held_elsewhere("snapshot_followups"):
        output = _run("snapshot_followups", "--date", DAY.isoformat())
    assert output == "snapshot_followups is already running; nothing done.\n"
    assert FollowupSnapshot.objects.count() == 0
    # Released: the next run does the work.
    output = _run("snapshot_followups", "--date", DAY.isoformat())
    assert output == "Follow-up snapshot for 2026-11-28: 1 user(s), 0 follow-up(s).\n"
    assert FollowupSnapshot.objects.count() == 1


def test_compaction_does_nothing_while_another_run_holds_the_lock():
    LeadFactory.create_batch(2)
    rows = LeadCountDelta.objects.count()
    with _held_elsewhere("compact_lead_counts"):
        output = _run("compact_lead_counts")
    assert output == "compact_lead_counts is already running; nothing done.\n"
    assert LeadCountDelta.objects.count() == rows
    assert _run("compact_lead_counts").startswith(f"Compacted {rows} lead counter row(s)")


def test_job_locks_are_per_job():
    with _held_elsewhere("compact_lead_counts"), job_lock("snapshot_followups") as acquired:
        assert acquired is True
