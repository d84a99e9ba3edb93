from datetime import timedelta

import pytest
from django.utils import timezone

from intake.models import EntryState, IntakeEntry
from intake.services import DEFAULT_FOLLOWUP_DELAY, create_leads_from_entries
from leads.models import Lead
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_entries(count, **fields):
    received = timezone.now() - timedelta(days=2)
    return IntakeEntry.objects.bulk_create([
        IntakeEntry(customer_name=f"Customer {n}", mobile=f"98{n:08d}", source="campaign",
                    car_model="Swift", service_type="Service", received_at=received, **fields)
        for n in range(count)
    ])


def test_entries_become_leads_linked_and_announced_once(
    announced, django_capture_on_commit_callbacks
):
    a, b = UserFactory(), UserFactory()
    manager = ManagerFactory()
    entries = make_entries(5)
    owners = {entry.pk: (a if n % 2 else b) for n, entry in enumerate(entries)}
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        leads = create_leads_from_entries(
            entries, owners, by_user=manager, rule="round-robin", batch_size=2
        )
    assert len(leads) == 5
    assert announced == [{a.pk, b.pk}]
    for entry in IntakeEntry.objects.select_related("lead"):
        assert entry.state == EntryState.ASSIGNED
        assert entry.decided_by_id == manager.pk
        assert entry.lead.creator_id == owners[entry.pk].pk
        assert entry.lead.customer_name == entry.customer_name
        assert (entry.lead.source, entry.lead.car_model) == ("campaign", "Swift")
        # Created when it reached its owner; the entry keeps when it arrived.
        assert entry.lead.created_at >= before > entry.received_at
        assert entry.lead.followup_date >= before + DEFAULT_FOLLOWUP_DELAY


def test_entries_no_longer_waiting_are_left_alone():
    owner = UserFactory()
    first, second = make_entries(2)
    IntakeEntry.objects.filter(pk=second.pk).update(state=EntryState.REJECTED)
    leads = create_leads_from_entries(
        [first, second], {first.pk: owner, second.pk: owner}, rule="manual"
    )
    assert [lead.customer_name for lead in leads] == [first.customer_name]
    assert Lead.objects.count() == 1
    assert IntakeEntry.objects.get(pk=second.pk).lead_id is None


def test_statements_per_batch_not_per_entry(django_assert_max_num_queries):
    owner = UserFactory()
    entries = make_entries(300)
    # Per batch of 50: lock and re-check, insert the leads, link the entries,
    # record the owner changes.
    with django_assert_max_num_queries(4 * 6 + 2):
        create_leads_from_entries(entries, {e.pk: owner.pk for e in entries}, rule="import",
                                  batch_size=50)
    assert Lead.objects.filter(creator=owner).count() == 300


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="Unknown assignment rule"):
        create_leads_from_entries([], {}, rule="lottery")
