"""The trigger-maintained lead counters agree with leads_lead after every kind
of write, and compaction, verify and rebuild do what they promise."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from leads.demo_data import generate_lead_rows, load_leads
from leads.models import Lead, LeadCountDelta, LeadStatus
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL-only statement"
)
NEEDS = LeadStatus.NEEDS_FOLLOWUP.value
CONFIRMED = LeadStatus.CONFIRMED.value
COMPLETED = LeadStatus.COMPLETED.value
OPEN = LeadStatus.OPEN.value


def counted_by_query(creator_id=None):
    """What totals() should say, from a plain grouped count over the leads."""
    leads = Lead.objects.order_by()
    if creator_id is not None:
        leads = leads.filter(creator_id=creator_id)
    rows = (
        leads.values("creator_id", "status")
        .annotate(leads=Count("id"), with_followup=Count("followup_date"))
        .order_by("creator_id", "status")
    )
    return [dict(row) for row in rows]


def row(creator, status, leads, with_followup):
    return {"creator_id": creator.pk, "status": status, "leads": leads,
            "with_followup": with_followup}


def delta_rows():
    return LeadCountDelta.objects.count()


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def bob():
    return UserFactory(username="bob")


@pytest.fixture
def book(alice, bob):
    """Alice: two needing follow-up (one with a date), one confirmed with a
    date. Bob: one completed without a date."""
    return [
        LeadFactory(creator=alice, status=NEEDS),
        LeadFactory(creator=alice, status=NEEDS, no_followup=True),
        LeadFactory(creator=alice, status=CONFIRMED),
        LeadFactory(creator=bob, status=COMPLETED, no_followup=True),
    ]


def test_totals_count_leads_created_through_the_orm(alice, bob, book):
    expected = [row(alice, CONFIRMED, 1, 1), row(alice, NEEDS, 2, 1), row(bob, COMPLETED, 1, 0)]
    assert counted_by_query() == expected
    assert LeadCountDelta.objects.totals() == expected


def test_totals_filtered_to_one_creator(alice, bob, book):
    assert LeadCountDelta.objects.totals(creator_id=bob.pk) == [row(bob, COMPLETED, 1, 0)]
    assert LeadCountDelta.objects.totals(creator_id=alice.pk) == counted_by_query(alice.pk)


def test_totals_is_one_query(book, django_assert_num_queries):
    with django_assert_num_queries(1):
        LeadCountDelta.objects.totals()


def test_totals_count_bulk_created_leads(alice, bob):
    Lead.objects.bulk_create(
        [LeadFactory.build(creator=alice, status=OPEN) for _ in range(3)]
        + [LeadFactory.build(creator=bob, status=OPEN, no_followup=True) for _ in range(2)]
    )
    expected = [row(alice, OPEN, 3, 3), row(bob, OPEN, 2, 0)]
    assert counted_by_query() == expected
    assert LeadCountDelta.objects.totals() == expected


def test_totals_follow_a_status_update(alice, bob, book):
    Lead.objects.filter(creator=alice, status=NEEDS).update(status=COMPLETED)
    expected = [row(alice, COMPLETED, 2, 1), row(alice, CONFIRMED, 1, 1), row(bob, COMPLETED, 1, 0)]
    assert counted_by_query() == expected
    assert LeadCountDelta.objects.totals() == expected


def test_totals_follow_a_reassignment(alice, bob, book):
    Lead.objects.filter(creator=alice).update(creator=bob)
    expected = [row(bob, COMPLETED, 1, 0), row(bob, CONFIRMED, 1, 1), row(bob, NEEDS, 2, 1)]
    assert counted_by_query() == expected
    assert LeadCountDelta.objects.totals() == expected


def test_totals_follow_followup_dates_set_and_cleared(alice, bob, book):
    Lead.objects.filter(creator=alice, followup_date__isnull=False).update(followup_date=None)
    assert LeadCountDelta.objects.totals() == [
        row(alice, CONFIRMED, 1, 0), row(alice, NEEDS, 2, 0), row(bob, COMPLETED, 1, 0)]
    Lead.objects.filter(status__in=[NEEDS, COMPLETED]).update(followup_date=timezone.now())
    expected = [row(alice, CONFIRMED, 1, 0), row(alice, NEEDS, 2, 2), row(bob, COMPLETED, 1, 1)]
    assert counted_by_query() == expected
    assert LeadCountDelta.objects.totals() == expected


def test_updates_that_move_no_lead_between_groups_write_no_delta(book):
    before = delta_rows()
    Lead.objects.all().update(remarks="Called again.")
    # A date that moves but stays set keeps the lead in its group.
    Lead.objects.filter(followup_date__isnull=False).update(
        followup_date=timezone.now() + timedelta(days=3))
    lead = Lead.objects.get(pk=book[0].pk)
    lead.remarks = "Saved through the model: every column is in the UPDATE."
    lead.save()
    assert delta_rows() == before
    assert LeadCountDelta.objects.totals() == counted_by_query()


def test_totals_follow_model_delete_and_queryset_delete(alice, bob, book):
    book[0].delete()
    assert LeadCountDelta.objects.totals() == [
        row(alice, CONFIRMED, 1, 1), row(alice, NEEDS, 1, 0), row(bob, COMPLETED, 1, 0)]
    Lead.objects.filter(creator=alice).delete()
    expected = [row(bob, COMPLETED, 1, 0)]
    assert counted_by_query() == expected
    assert LeadCountDelta.objects.totals() == expected


def test_totals_follow_raw_sql_writes(alice, bob, book):
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO leads_lead (customer_name, mobile, car_registration, followup_date,"
            " remarks, status, created_at, modified_at, creator_id)"
            " VALUES (%s, %s, '', %s, '', %s, %s, %s, %s), (%s, %s, '', NULL, '', %s, %s, %s, %s)",
            ["Raw One", "9800000001", now, OPEN, now, now, bob.pk,
             "Raw Two", "9800000002", OPEN, now, now, bob.pk],
        )
        assert LeadCountDelta.objects.totals() == [
            row(alice, CONFIRMED, 1, 1), row(alice, NEEDS, 2, 1),
            row(bob, COMPLETED, 1, 0), row(bob, OPEN, 2, 1)]
        cursor.execute("UPDATE leads_lead SET status = %s WHERE creator_id = %s AND status = %s",
                       [COMPLETED, alice.pk, NEEDS])
        cursor.execute("DELETE FROM leads_lead WHERE customer_name = %s", ["Raw One"])
    expected = [row(alice, COMPLETED, 2, 1), row(alice, CONFIRMED, 1, 1),
                row(bob, COMPLETED, 1, 0), row(bob, OPEN, 1, 0)]
    assert counted_by_query() == expected
    assert LeadCountDelta.objects.totals() == expected


def test_totals_count_leads_from_the_bulk_loader(alice, bob, book):
    """COPY on PostgreSQL, batches of bulk_create on SQLite."""
    written = load_leads(rows=generate_lead_rows(count=500, creator_ids=[alice.pk, bob.pk], seed=7))
    assert written == 500
    expected = counted_by_query()
    assert sum(group["leads"] for group in expected) == 504
    assert LeadCountDelta.objects.totals() == expected


@postgresql_only
def test_copy_adds_one_delta_row_per_group(alice, bob):
    load_leads(rows=generate_lead_rows(count=500, creator_ids=[alice.pk, bob.pk], seed=7))
    # One statement, one aggregated insert: 2 creators x 7 statuses.
    assert delta_rows() == 14
    assert LeadCountDelta.objects.totals() == counted_by_query()


@postgresql_only
def test_update_netting_to_zero_writes_no_delta(alice):
    a = LeadFactory(creator=alice, status=OPEN)
    b = LeadFactory(creator=alice, status=CONFIRMED)
    before = delta_rows()
    # Two leads swap statuses in one statement: the groups' net change is zero.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE leads_lead SET status = CASE id WHEN %s THEN %s ELSE %s END"
            " WHERE id IN (%s, %s)", [a.pk, CONFIRMED, OPEN, a.pk, b.pk])
    assert Lead.objects.get(pk=a.pk).status == CONFIRMED
    assert delta_rows() == before


@postgresql_only
def test_truncate_clears_the_counters(book):
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred: their checks for the rows the
        # fixture inserted must run before PostgreSQL allows a TRUNCATE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE leads_lead CASCADE")
    assert Lead.objects.count() == 0
    assert delta_rows() == 0
    assert LeadCountDelta.objects.totals() == []


def test_compact_folds_rows_and_keeps_totals(alice, bob, book):
    Lead.objects.filter(creator=alice).update(status=OPEN)
    Lead.objects.filter(creator=alice).update(status=NEEDS)
    totals = LeadCountDelta.objects.totals()
    before = delta_rows()
    assert before > 3

    assert LeadCountDelta.objects.compact() == (before, 2)

    # Alice's confirmed lead moved away and back: its group summed to zero
    # before and after, and is no longer stored.
    assert delta_rows() == 2
    assert LeadCountDelta.objects.totals() == totals == [
        row(alice, NEEDS, 3, 2), row(bob, COMPLETED, 1, 0)]
    assert LeadCountDelta.objects.compact() == (2, 2)


def test_compact_of_empty_counters_does_nothing():
    assert LeadCountDelta.objects.compact() == (0, 0)


def test_writes_after_compaction_still_count(alice, book):
    LeadCountDelta.objects.compact()
    Lead.objects.filter(creator=alice, status=CONFIRMED).update(status=OPEN)
    LeadFactory(creator=alice, status=OPEN, no_followup=True)
    assert LeadCountDelta.objects.totals() == counted_by_query()
    assert LeadCountDelta.objects.totals(creator_id=alice.pk) == [
        row(alice, NEEDS, 2, 1), row(alice, OPEN, 2, 1)]


def test_verify_finds_nothing_when_counters_match(book):
    assert LeadCountDelta.objects.verify() == []


def test_verify_reports_injected_drift_and_rebuild_repairs_it(alice, bob, book):
    LeadCountDelta.objects.create(creator=bob, status=COMPLETED, leads=2, with_followup=1)
    LeadCountDelta.objects.create(creator=alice, status=OPEN, leads=1, with_followup=0)
    drift = [
        {"creator_id": alice.pk, "status": OPEN, "counted_leads": 1, "actual_leads": 0,
         "counted_with_followup": 0, "actual_with_followup": 0},
        {"creator_id": bob.pk, "status": COMPLETED, "counted_leads": 3, "actual_leads": 1,
         "counted_with_followup": 1, "actual_with_followup": 0},
    ]
    assert LeadCountDelta.objects.verify() == drift

    assert LeadCountDelta.objects.rebuild() == drift

    assert LeadCountDelta.objects.verify() == []
    assert delta_rows() == 3
    assert LeadCountDelta.objects.totals() == counted_by_query()


def test_verify_reports_leads_the_counters_missed(alice, book):
    LeadCountDelta.objects.all().delete()
    assert [(d["status"], d["counted_leads"], d["actual_leads"])
            for d in LeadCountDelta.objects.verify()] == [
        (CONFIRMED, 0, 1), (NEEDS, 0, 2), (COMPLETED, 0, 1)]


def test_command_compacts_and_says_so(book, capsys):
    Lead.objects.all().update(status=OPEN)
    before = delta_rows()
    call_command("compact_lead_counts")
    assert capsys.readouterr().out.startswith(f"Compacted {before} lead counter row(s) into 2 (")
    assert delta_rows() == 2


def test_command_verify_fails_on_drift_and_rebuild_fixes_it(bob, book, capsys):
    call_command("compact_lead_counts", "--verify")
    assert capsys.readouterr().out.startswith("Lead counters match leads_lead (")

    LeadCountDelta.objects.create(creator=bob, status=COMPLETED, leads=-1, with_followup=0)
    with pytest.raises(CommandError) as failure:
        call_command("compact_lead_counts", "--verify")
    assert "drifted from leads_lead in 1 group(s)" in str(failure.value)
    assert f"creator {bob.pk}, completed: counted 0 leads" in str(failure.value)

    call_command("compact_lead_counts", "--rebuild")
    assert "1 group(s) had drifted." in capsys.readouterr().out
    call_command("compact_lead_counts", "--verify")
    assert LeadCountDelta.objects.verify() == []
