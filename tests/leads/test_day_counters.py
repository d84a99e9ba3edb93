"""The per-business-day lead counters (LeadDayDelta) equal a recount after
every write path, on SQLite and PostgreSQL; compaction, verify and rebuild
cover them; the business day is TIME_ZONE's, and a change of it is repaired
by a rebuild."""

import importlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from leads import services
from leads.counters import (
    CLOSED_STATUS_VALUES,
    business_zone,
    postgresql_day_trigger_sql,
    sqlite_day_trigger_sql,
)
from leads.demo_data import generate_lead_rows, load_leads
from leads.models import CLOSED_STATUSES, Lead, LeadDayDelta, LeadStatus
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

NEEDS = LeadStatus.NEEDS_FOLLOWUP.value
COMPLETED = LeadStatus.COMPLETED.value
LOST = LeadStatus.LOST.value
OPEN = LeadStatus.OPEN.value


def counted():
    """{(creator_id, kind, day, closed): leads} as the counters say (non-zero buckets)."""
    rows = (LeadDayDelta.objects.values("creator_id", "kind", "day", "closed")
            .annotate(n=Sum("leads")).order_by())
    return {(r["creator_id"], r["kind"], r["day"], r["closed"]): int(r["n"])
            for r in rows if r["n"]}


def recounted():
    """The same, counted in Python from the leads (zoneinfo, not SQL)."""
    buckets = Counter()
    for lead in Lead.objects.all():
        day = None if lead.followup_date is None else timezone.localdate(lead.followup_date)
        buckets[(lead.creator_id, "followup", day, lead.status in CLOSED_STATUSES)] += 1
        buckets[(lead.creator_id, "created", timezone.localdate(lead.created_at), False)] += 1
    return dict(buckets)


def assert_exact():
    assert counted() == recounted()
    assert LeadDayDelta.objects.verify() == []


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def bob():
    return UserFactory(username="bob")


@pytest.fixture
def book(alice, bob):
    now = timezone.now()
    return [
        LeadFactory(creator=alice, status=NEEDS, followup_date=now - timedelta(days=3)),
        LeadFactory(creator=alice, status=OPEN, no_followup=True),
        LeadFactory(creator=alice, status=COMPLETED, followup_date=now + timedelta(days=1)),
        LeadFactory(creator=bob, status=NEEDS, followup_date=now - timedelta(days=40)),
    ]


def test_the_closed_statuses_are_the_models():
    assert CLOSED_STATUS_VALUES == CLOSED_STATUSES


def test_a_follow_up_counts_on_its_local_day(alice):
    # Asia/Kolkata is UTC+5:30: 18:29 UTC on 9 May is 23:59 on 9 May there,
    # 18:30 UTC is already 10 May.
    LeadFactory(creator=alice, status=NEEDS,
                followup_date=datetime(2024, 5, 9, 18, 29, tzinfo=UTC),
                created_at=datetime(2024, 5, 1, 18, 30, tzinfo=UTC))
    LeadFactory(creator=alice, status=LOST,
                followup_date=datetime(2024, 5, 9, 18, 30, tzinfo=UTC),
                created_at=datetime(2024, 5, 1, 18, 29, tzinfo=UTC))
    assert business_zone() == "Asia/Kolkata"
    day = datetime(2024, 5, 1).date
    assert counted() == {
        (alice.pk, "followup", day().replace(day=9), False): 1,
        (alice.pk, "followup", day().replace(day=10), True): 1,
        (alice.pk, "created", day().replace(day=2), False): 1,
        (alice.pk, "created", day(), False): 1,
    }
    assert_exact()


def test_model_saves(alice, book):
    assert_exact()
    lead = book[0]
    lead.followup_date = timezone.now() + timedelta(days=5)
    lead.save()
    assert_exact()
    lead.remarks = "No bucket moves: nothing to count."
    before = LeadDayDelta.objects.count()
    lead.save()
    if connection.vendor == "postgresql":  # net change per statement: none
        assert LeadDayDelta.objects.count() == before
    assert_exact()


def test_status_to_and_from_closed(alice, book):
    Lead.objects.filter(pk=book[0].pk).update(status=COMPLETED)
    assert counted()[(alice.pk, "followup", timezone.localdate(book[0].followup_date), True)] == 1
    assert_exact()
    Lead.objects.filter(pk=book[2].pk).update(status=NEEDS)
    assert_exact()
    lead = Lead.objects.get(pk=book[1].pk)
    lead.status = LOST
    lead.save()
    assert_exact()


def test_follow_up_to_and_from_null(alice, bob, book):
    Lead.objects.filter(creator=alice, followup_date__isnull=False).update(followup_date=None)
    assert counted()[(alice.pk, "followup", None, False)] == 2
    assert_exact()
    Lead.objects.filter(followup_date=None).update(followup_date=timezone.now())
    assert_exact()


def test_owner_change(alice, bob, book):
    services.leads_reassign(leads=Lead.objects.filter(creator=alice), creator=bob)
    assert {key[0] for key in counted()} == {bob.pk}
    assert_exact()
    lead = Lead.objects.get(pk=book[0].pk)
    lead.creator = alice
    lead.save()
    assert_exact()


def test_bulk_create_and_bulk_update(alice, bob):
    leads = Lead.objects.bulk_create(
        [LeadFactory.build(creator=alice, status=OPEN) for _ in range(3)]
        + [LeadFactory.build(creator=bob, status=NEEDS, no_followup=True) for _ in range(2)]
    )
    assert_exact()
    for number, lead in enumerate(Lead.objects.filter(pk__in=[lead.pk for lead in leads])):
        lead.followup_date = timezone.now() - timedelta(days=number * 10)
        lead.status = COMPLETED if number % 2 else NEEDS
        lead.creator = bob if number == 0 else lead.creator
    Lead.objects.bulk_update(Lead.objects.filter(pk__in=[lead.pk for lead in leads]),
                             ["followup_date"])
    assert_exact()


def test_delete_and_queryset_delete(alice, book):
    book[0].delete()
    assert_exact()
    Lead.objects.filter(creator=alice).delete()
    assert_exact()


def test_services_quick_update_and_set_status(alice, book):
    services.lead_quick_update(lead=book[0], user=alice, status=NEEDS,
                               followup_date=timezone.now() + timedelta(days=2), remark="Called.")
    assert_exact()
    services.leads_set_status(leads=Lead.objects.filter(creator=alice), status=COMPLETED,
                              user=alice)
    assert_exact()


def test_the_bulk_loader(alice, bob, book):
    """COPY on PostgreSQL, batches of bulk_create on SQLite; the benchmark's backlog."""
    load_leads(rows=generate_lead_rows(count=300, creator_ids=[alice.pk, bob.pk], seed=3,
                                       backlog=True))
    assert sum(counted().values()) == 2 * 304
    assert_exact()


def test_raw_sql_writes(alice, bob, book):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE leads_lead SET status = %s WHERE creator_id = %s",
                       [LOST, alice.pk])
        cursor.execute("UPDATE leads_lead SET creator_id = %s, followup_date = NULL "
                       "WHERE creator_id = %s", [alice.pk, bob.pk])
    assert_exact()


def test_compaction_folds_and_keeps_the_counts(alice, book):
    for _ in range(3):
        Lead.objects.filter(creator=alice).update(followup_date=timezone.now())
        Lead.objects.filter(creator=alice).update(followup_date=None)
    buckets = counted()
    before = LeadDayDelta.objects.count()
    assert LeadDayDelta.objects.compact() == (before, len(buckets))
    assert LeadDayDelta.objects.count() == len(buckets)
    assert counted() == buckets
    assert_exact()


def test_verify_reports_drift_and_rebuild_repairs_it(alice, book):
    LeadDayDelta.objects.create(creator=alice, kind="followup", day=None, closed=False, leads=2)
    assert LeadDayDelta.objects.verify() == [
        {"creator_id": alice.pk, "kind": "followup", "day": None, "closed": False,
         "counted": 3, "actual": 1},
    ]
    assert len(LeadDayDelta.objects.rebuild()) == 1
    assert_exact()


def test_the_command_covers_the_day_counters(alice, book, capsys):
    call_command("compact_lead_counts")
    assert capsys.readouterr().out.splitlines()[1] == (
        f"Compacted 8 day counter row(s) into {len(recounted())}.")
    LeadDayDelta.objects.create(creator=alice, kind="created", day=timezone.localdate(),
                                closed=False, leads=-1)
    with pytest.raises(CommandError) as failure:
        call_command("compact_lead_counts", "--verify")
    assert f"creator {alice.pk}, created {timezone.localdate().isoformat()}, not closed" in str(
        failure.value)
    call_command("compact_lead_counts", "--rebuild")
    assert "1 group(s) had drifted." in capsys.readouterr().out
    call_command("compact_lead_counts", "--verify")


def test_a_new_time_zone_needs_a_rebuild_which_reinstalls_the_triggers(alice, settings):
    # 20:00 UTC on 9 May: 10 May in Asia/Kolkata, still 9 May in London (BST).
    LeadFactory(creator=alice, status=NEEDS, followup_date=datetime(2024, 5, 9, 20, tzinfo=UTC),
                created_at=datetime(2024, 5, 1, 12, tzinfo=UTC))
    settings.TIME_ZONE = "Europe/London"
    # The counters still hold Kolkata's days: verify says so.
    assert [(row["kind"], row["day"].isoformat(), row["counted"], row["actual"])
            for row in LeadDayDelta.objects.verify()] == [
        ("followup", "2024-05-09", 0, 1), ("followup", "2024-05-10", 1, 0)]
    LeadDayDelta.objects.rebuild()
    assert_exact()
    # The triggers now count London's days too.
    LeadFactory(creator=alice, status=NEEDS, followup_date=datetime(2024, 5, 9, 23, 30, tzinfo=UTC))
    assert counted()[(alice.pk, "followup", datetime(2024, 5, 10).date(), False)] == 1
    assert_exact()


def test_the_migration_installs_the_triggers_counters_py_keeps():
    # By name, whatever number the migration ends up with after merges.
    (path,) = Path(importlib.import_module("leads.migrations").__file__).parent.glob(
        "*_lead_day_counters.py")
    migration = importlib.import_module(f"leads.migrations.{path.stem}")
    zone = business_zone()
    if connection.vendor == "postgresql":
        frozen, current = migration.POSTGRESQL_INSTALL, postgresql_day_trigger_sql(zone)
    else:
        frozen, current = migration.SQLITE_INSTALL, sqlite_day_trigger_sql(zone)
    assert [" ".join(sql.replace("{zone}", zone).split()) for sql in frozen] == [
        " ".join(sql.split()) for sql in current.values()]
