"""The call counters (CallDayCount) equal a recount after every write path,
on SQLite and PostgreSQL; the business day is TIME_ZONE's; verify finds
drift and rebuild repairs it; the migration installs what calls/counters.py
keeps."""

import importlib
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone

from calls.counters import ANSWERED_OUTCOME_VALUES, postgresql_trigger_sql, sqlite_trigger_sql
from calls.demo_data import generate_call_rows, load_calls
from calls.models import ANSWERED_OUTCOMES, CallDayCount, CallLog
from calls.services import call_record_with_update, call_recorder
from leads import services as lead_services
from leads.counters import business_zone
from leads.models import Lead, LeadStatus
from tests.dashboard.conftest import local
from tests.factories import CallLogFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                     reason="PostgreSQL statement triggers")
DAY = date(2024, 5, 10)


def counted():
    """{(user_id, day): (attempts, connected)} as the counters say (zero rows left out)."""
    return {(row.user_id, row.day): (row.attempts, row.connected)
            for row in CallDayCount.objects.all() if row.attempts or row.connected}


def recounted():
    """The same, counted in Python from the calls (zoneinfo, not SQL)."""
    buckets = Counter()
    for call in CallLog.objects.all():
        key = (call.user_id, timezone.localdate(call.called_at))
        attempts, connected = buckets.get(key, (0, 0))
        buckets[key] = (attempts + 1, connected + (call.outcome in ANSWERED_OUTCOMES))
    return dict(buckets)


def assert_exact():
    assert counted() == recounted()
    assert CallDayCount.objects.verify() == []


@pytest.fixture
def asha():
    return UserFactory(username="asha")


@pytest.fixture
def ravi():
    return UserFactory(username="ravi")


@pytest.fixture
def book(asha, ravi):
    """Two leads of asha's, one of ravi's, with calls on DAY and the day before."""
    leads = [LeadFactory(creator=asha), LeadFactory(creator=asha), LeadFactory(creator=ravi)]
    for hour, outcome in enumerate(["connected", "no_answer", "busy", "call_back_later"]):
        CallLogFactory(lead=leads[0], user=asha, outcome=outcome, called_at=local(DAY, 9 + hour))
    CallLogFactory(lead=leads[1], user=asha, outcome="wrong_number",
                   called_at=local(DAY - timedelta(days=1), 18))
    CallLogFactory(lead=leads[2], user=ravi, outcome="switched_off", called_at=local(DAY, 11))
    CallLogFactory(lead=leads[2], user=asha, outcome="not_interested", called_at=local(DAY, 12))
    return leads


def test_the_answered_outcomes_are_the_models():
    assert ANSWERED_OUTCOME_VALUES == ANSWERED_OUTCOMES


def test_saves_count_per_caller_and_day(asha, ravi, book):
    assert counted() == {
        (asha.pk, DAY): (5, 3),
        (asha.pk, DAY - timedelta(days=1)): (1, 1),
        (ravi.pk, DAY): (1, 0),
    }
    assert_exact()


def test_a_call_counts_on_its_local_day(asha):
    # Asia/Kolkata is UTC+5:30: 18:29 UTC on 9 May is 23:59 on 9 May there,
    # 18:30 UTC is 00:00 on 10 May.
    assert business_zone() == "Asia/Kolkata"
    lead = LeadFactory(creator=asha)
    CallLogFactory(lead=lead, user=asha, outcome="connected",
                   called_at=datetime(2024, 5, 9, 18, 29, 59, tzinfo=UTC))
    CallLogFactory(lead=lead, user=asha, outcome="busy",
                   called_at=datetime(2024, 5, 9, 18, 30, tzinfo=UTC))
    assert counted() == {(asha.pk, date(2024, 5, 9)): (1, 1),
                         (asha.pk, date(2024, 5, 10)): (1, 0)}
    assert_exact()


def test_the_call_services(asha, ravi, book):
    call_record_with_update(lead=book[0], user=asha, outcome="connected",
                            status=LeadStatus.CONFIRMED, followup_date=book[0].followup_date,
                            remark="Booked.")
    assert counted()[(asha.pk, timezone.localdate())] == (1, 1)
    lead_services.lead_update(lead=book[2], user=ravi, changes={}, remark="Rang.",
                              also=call_recorder(user=ravi, outcome="no_answer"))
    assert counted()[(ravi.pk, timezone.localdate())] == (1, 0)
    assert_exact()


def test_updates_move_the_counts(asha, ravi, book):
    call = CallLog.objects.get(user=ravi)
    call.outcome = "connected"
    call.save()
    assert counted()[(ravi.pk, DAY)] == (1, 1)
    call.user = asha
    call.save()
    assert (ravi.pk, DAY) not in counted()
    assert counted()[(asha.pk, DAY)] == (6, 4)
    call.called_at = local(DAY + timedelta(days=1), 0)
    call.save()
    assert counted()[(asha.pk, DAY + timedelta(days=1))] == (1, 1)
    call.note = "No count moves."
    call.save()
    assert_exact()


def test_queryset_update_and_delete(asha, ravi, book):
    CallLog.objects.filter(user=asha, called_at__gte=local(DAY)).update(outcome="busy")
    assert counted()[(asha.pk, DAY)] == (5, 0)
    CallLog.objects.filter(user=asha).update(user=ravi, called_at=local(DAY, 15))
    assert counted() == {(ravi.pk, DAY): (7, 1)}
    CallLog.objects.filter(outcome="busy").delete()  # left: the wrong number, the switched off
    assert counted() == {(ravi.pk, DAY): (2, 1)}
    assert_exact()


def test_bulk_create(asha, ravi, book):
    CallLog.objects.bulk_create([
        CallLog(lead=book[0], user=asha, outcome="connected", called_at=local(DAY, 20)),
        CallLog(lead=book[2], user=ravi, outcome="connected", called_at=local(DAY, 20)),
        CallLog(lead=book[2], user=ravi, outcome="busy", called_at=local(DAY, 21)),
    ])
    assert counted()[(ravi.pk, DAY)] == (3, 1)
    assert_exact()


def test_deleting_a_lead_deletes_its_calls_from_the_counts(asha, ravi, book):
    book[2].delete()  # ravi's call and one of asha's
    assert counted() == {(asha.pk, DAY): (4, 2), (asha.pk, DAY - timedelta(days=1)): (1, 1)}
    Lead.objects.filter(creator=asha).delete()
    assert counted() == {}
    assert_exact()


def test_the_bulk_loader(asha, ravi, book):
    """COPY on PostgreSQL, batches of bulk_create on SQLite (the benchmark's)."""
    rows = generate_call_rows(count=500, lead_ids=(book[0].pk, book[2].pk),
                              caller_ids=[asha.pk, ravi.pk], days=14, seed=4)
    assert load_calls(rows=rows, batch_size=64) == 500
    assert sum(attempts for attempts, _ in counted().values()) == 507
    assert_exact()


def test_raw_sql_writes(asha, ravi, book):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE calls_calllog SET outcome = %s WHERE user_id = %s",
                       ["connected", ravi.pk])
        cursor.execute("DELETE FROM calls_calllog WHERE outcome = %s", ["no_answer"])
    assert counted()[(ravi.pk, DAY)] == (1, 1)
    assert_exact()


@postgresql_only
def test_truncating_the_leads_cascades_to_the_counts(asha, book):
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred: their checks for the fixture's
        # rows must run before PostgreSQL allows a TRUNCATE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE leads_lead CASCADE")
    assert CallDayCount.objects.count() == 0
    assert_exact()


@postgresql_only
def test_a_statement_writes_one_row_per_caller_and_day(asha, ravi, book):
    CallDayCount.objects.all().delete()
    CallDayCount.objects.rebuild()
    assert CallDayCount.objects.count() == 3
    CallLog.objects.filter(user=asha).update(note="changed")  # nothing moves
    assert CallDayCount.objects.count() == 3
    assert_exact()


def test_verify_reports_drift_and_rebuild_repairs_it(asha, ravi, book):
    CallDayCount.objects.filter(user=ravi).update(attempts=4)
    CallDayCount.objects.create(user=asha, day=DAY + timedelta(days=3), attempts=2, connected=1)
    assert CallDayCount.objects.verify() == [
        {"user_id": asha.pk, "day": DAY + timedelta(days=3), "counted_attempts": 2,
         "actual_attempts": 0, "counted_connected": 1, "actual_connected": 0},
        {"user_id": ravi.pk, "day": DAY, "counted_attempts": 4, "actual_attempts": 1,
         "counted_connected": 0, "actual_connected": 0},
    ]
    assert len(CallDayCount.objects.rebuild()) == 2
    assert_exact()


def test_the_command_verifies_and_rebuilds(asha, book, capsys):
    call_command("call_counts", "--verify")
    assert capsys.readouterr().out.startswith("Call counters match calls_calllog")
    CallDayCount.objects.filter(user=asha, day=DAY).update(connected=0)
    with pytest.raises(CommandError) as failure:
        call_command("call_counts", "--verify")
    assert (f"user {asha.pk}, {DAY.isoformat()}: counted 5 calls / 0 connected, actual 5 / 3"
            in str(failure.value))
    call_command("call_counts", "--rebuild")
    assert "1 group(s) had drifted." in capsys.readouterr().out
    call_command("call_counts", "--verify")


def test_a_new_time_zone_needs_a_rebuild_which_reinstalls_the_triggers(asha, settings):
    # 20:00 UTC on 9 May: 10 May in Asia/Kolkata, still 9 May in London (BST).
    lead = LeadFactory(creator=asha)
    CallLogFactory(lead=lead, user=asha, called_at=datetime(2024, 5, 9, 20, tzinfo=UTC))
    settings.TIME_ZONE = "Europe/London"
    assert [(row["day"], row["counted_attempts"], row["actual_attempts"])
            for row in CallDayCount.objects.verify()] == [
        (date(2024, 5, 9), 0, 1), (date(2024, 5, 10), 1, 0)]
    CallDayCount.objects.rebuild()
    assert_exact()
    CallLogFactory(lead=lead, user=asha, called_at=datetime(2024, 5, 9, 23, 30, tzinfo=UTC))
    assert counted()[(asha.pk, date(2024, 5, 10))] == (1, 0)
    assert_exact()


def test_the_migration_installs_the_triggers_counters_py_keeps():
    (path,) = Path(importlib.import_module("calls.migrations").__file__).parent.glob(
        "*_call_day_counts.py")
    migration = importlib.import_module(f"calls.migrations.{path.stem}")
    zone = business_zone()
    if connection.vendor == "postgresql":
        frozen, current = migration.POSTGRESQL_INSTALL, postgresql_trigger_sql(zone)
    else:
        frozen, current = migration.SQLITE_INSTALL, sqlite_trigger_sql(zone)
    assert [" ".join(sql.replace("{zone}", zone).split()) for sql in frozen] == [
        " ".join(sql.split()) for sql in current.values()]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_transactions_adding_to_one_new_row_both_count():
    """The second insert of a new (user, day) waits for the first to commit,
    then adds to its row (ON CONFLICT), rather than failing or counting once."""
    lead = LeadFactory()
    insert = ("INSERT INTO calls_calllog (lead_id, user_id, called_at, outcome, note) "
              "VALUES (%s, %s, %s, 'connected', '')")
    params = [lead.pk, lead.creator_id, local(DAY, 10)]
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(insert, params)  # its counter row, not committed yet
        done = threading.Event()

        def second():
            try:
                with connections["default"].cursor() as cursor:
                    cursor.execute(insert, params)
            finally:
                connections["default"].close()
                done.set()

        thread = threading.Thread(target=second)
        thread.start()
        assert not done.wait(0.5)  # waits for the first transaction
        other.commit()
        thread.join(10)
        assert done.is_set()
    finally:
        other.close()
    assert counted() == {(lead.creator_id, DAY): (2, 2)}
    assert_exact()
