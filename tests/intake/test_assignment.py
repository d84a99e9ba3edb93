from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake.assignment import DistributionError, assign_entries
from intake.models import EntryState, IntakeEntry
from intake.services import DEFAULT_FOLLOWUP_DELAY
from leads.models import Lead, OwnerChange
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_entries(count, start=0, **fields):
    received = timezone.now() - timedelta(days=2)
    return IntakeEntry.objects.bulk_create([
        IntakeEntry(customer_name=f"Customer {n}", mobile=f"97{n:08d}", source="campaign",
                    received_at=received + timedelta(seconds=n), **fields)
        for n in range(start, start + count)
    ])


def test_round_robin_assignment_creates_leads_with_history_and_skips_inactive_users():
    boss = ManagerFactory(username="boss")
    a, b = UserFactory(username="a"), UserFactory(username="b")
    gone = UserFactory(username="gone", is_active=False)
    entries = make_entries(3)
    before = timezone.now()
    result = assign_entries(entries, "round-robin", users=[a, b, gone], by_user=boss)
    assert (result.assigned, result.left_waiting, result.skipped_users) == (3, 0, ["gone"])
    assert result.per_user == {a.pk: 2, b.pk: 1}
    leads = list(Lead.objects.order_by("pk"))
    assert [lead.creator.username for lead in leads] == ["a", "b", "a"]
    assert all(lead.created_at >= before and lead.new_for_owner for lead in leads)
    assert all(lead.followup_date == lead.created_at + DEFAULT_FOLLOWUP_DELAY for lead in leads)
    history = list(OwnerChange.objects.order_by("pk").values_list(
        "lead_id", "from_user_id", "to_user__username", "changed_by__username", "rule"))
    assert history == [(lead.pk, None, lead.creator.username, "boss", "round-robin")
                       for lead in leads]
    states = set(IntakeEntry.objects.values_list("state", flat=True))
    assert states == {EntryState.ASSIGNED}


def test_the_daily_cap_leaves_the_rest_waiting():
    a, b = UserFactory(username="a"), UserFactory(username="b")
    result = assign_entries(make_entries(5), "least_loaded", users=[a, b], daily_cap=2)
    assert (result.assigned, result.left_waiting) == (4, 1)
    assert IntakeEntry.objects.waiting().count() == 1
    # Today's leads count against the cap in the next batch too.
    again = assign_entries(IntakeEntry.objects.waiting(), "round-robin", users=[a, b],
                           daily_cap=2)
    assert (again.assigned, again.left_waiting) == (0, 1)


def test_one_user_and_entries_no_longer_waiting_are_left_alone():
    a = UserFactory(username="a")
    entries = make_entries(3)
    IntakeEntry.objects.filter(pk=entries[0].pk).update(state=EntryState.REJECTED)
    result = assign_entries(entries, "manual", users=[a])
    assert (result.assigned, result.already_decided) == (2, 1)
    assert Lead.objects.count() == 2


def test_nobody_eligible_writes_nothing():
    gone = UserFactory(username="gone", is_active=False)
    entries = make_entries(2)
    with pytest.raises(DistributionError):
        assign_entries(entries, "round-robin", users=[gone])
    assert Lead.objects.count() == 0
    assert IntakeEntry.objects.waiting().count() == 2


def _statements(count, users, start):
    entries = list(IntakeEntry.objects.filter(pk__in=[e.pk for e in make_entries(count, start)]))
    with CaptureQueriesContext(connection) as captured:
        result = assign_entries(entries, "round-robin", users=users, daily_cap=1000)
    assert result.assigned == count
    return len(captured)


def test_statements_per_batch_do_not_grow_with_the_entries():
    users = [UserFactory(username=f"u{n:02d}") for n in range(25)]
    few = _statements(10, users, 0)
    many = _statements(200, users, 1000)
    # SQLite splits an INSERT by its parameter limit; PostgreSQL never does.
    assert few == many if connection.vendor == "postgresql" else many <= few + 12
    assert few <= 12


def test_the_telecallers_dashboard_shows_the_new_leads_at_once(
    client, django_capture_on_commit_callbacks
):
    a = UserFactory(username="a")
    client.force_login(a)
    url = reverse("dashboard:data")
    assert client.get(url).json()["totals"]["new_leads"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        assign_entries(make_entries(2), "round-robin", users=[a])
    assert client.get(url).json()["totals"]["new_leads"] == 2


def test_bench_assign_prints_its_figures_and_leaves_nothing_behind():
    import io
    import re

    from django.core.management import call_command

    out = io.StringIO()
    call_command("bench_assign", entries=60, users=4, stdout=out)
    assert re.fullmatch(
        r"\w+: assigned 60 of 60 waiting entries round-robin to 4 users in [\d.]+ s, "
        r"\d+ SQL statements \(rolled back\)\n", out.getvalue())
    assert (Lead.objects.count(), IntakeEntry.objects.count(), OwnerChange.objects.count()) == (
        0, 0, 0)
