from datetime import timedelta

import pytest
from django.utils import timezone

from leads import services
from leads.distribution import DistributionError
from leads.models import Lead, LeadStatus, OwnerChange
from leads.ownership import leads_hand_over
from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _history():
    return list(OwnerChange.objects.order_by("lead_id", "pk").values_list(
        "lead_id", "from_user__username", "to_user__username", "changed_by__username", "rule"))


def test_reassign_records_history_and_marks_leads_new_for_the_receiver():
    boss = ManagerFactory(username="boss")
    a, b = UserFactory(username="a"), UserFactory(username="b")
    first, second = LeadFactory(creator=a), LeadFactory(creator=b)
    changed = services.leads_reassign(leads=Lead.objects.all(), creator=b, changed_by=boss)
    assert changed == 1
    assert _history() == [(first.pk, "a", "b", "boss", "manual")]
    assert list(Lead.objects.new_for(b).values_list("pk", flat=True)) == [first.pk]
    second.refresh_from_db()
    assert second.new_for_owner is False


def test_reassign_from_the_command_line_has_no_changed_by():
    a, b = UserFactory(username="a"), UserFactory(username="b")
    lead = LeadFactory(creator=a)
    services.leads_reassign(leads=Lead.objects.all(), creator=b)
    assert _history() == [(lead.pk, "a", "b", None, "manual")]


def test_an_owner_change_through_lead_update_is_recorded_and_the_owners_update_clears_new():
    boss = ManagerFactory(username="boss")
    a, b = UserFactory(username="a"), UserFactory(username="b")
    lead = LeadFactory(creator=a)
    lead = services.lead_update(lead=lead, user=boss, changes={"creator": b})
    assert _history() == [(lead.pk, "a", "b", "boss", "manual")]
    assert Lead.objects.new_for(b).count() == 1
    # Someone else's edit keeps it new; the owner's own first update clears it.
    lead = services.lead_update(lead=lead, user=boss, changes={"remarks": "checked"})
    assert Lead.objects.new_for(b).count() == 1
    services.lead_quick_update(lead=lead, user=b, status=LeadStatus.CONFIRMED,
                               followup_date=timezone.now() + timedelta(days=1))
    assert Lead.objects.new_for(b).count() == 0


def test_hand_over_spreads_open_leads_round_robin_with_history():
    boss = ManagerFactory(username="boss")
    leaving = UserFactory(username="leaving")
    x, y = UserFactory(username="x"), UserFactory(username="y")
    gone = UserFactory(username="gone", is_active=False)
    now = timezone.now()
    open_leads = [LeadFactory(creator=leaving, followup_date=now + timedelta(hours=n))
                  for n in range(3)]
    closed = LeadFactory(creator=leaving, status=LeadStatus.LOST)
    result = leads_hand_over(from_user=leaving, to_users=[y, gone, x], rule="round-robin",
                             changed_by=boss)
    assert (result.handed_over, result.received, result.skipped_users) == (
        3, {"x": 2, "y": 1}, ["gone"])
    owners = dict(Lead.objects.values_list("pk", "creator__username"))
    assert [owners[lead.pk] for lead in open_leads] == ["x", "y", "x"]
    assert owners[closed.pk] == "leaving"
    assert {row[1:] for row in _history()} == {
        ("leaving", "x", "boss", "hand-over"), ("leaving", "y", "boss", "hand-over")}
    assert len(_history()) == 3


def test_hand_over_to_one_colleague_and_never_to_the_leaver():
    leaving, x = UserFactory(username="leaving"), UserFactory(username="x")
    LeadFactory.create_batch(2, creator=leaving)
    result = leads_hand_over(from_user=leaving, to_users=[x, leaving], rule="manual")
    assert result.received == {"x": 2}
    with pytest.raises(DistributionError, match="someone other than leaving"):
        leads_hand_over(from_user=leaving, to_users=[leaving], rule="manual")


def test_hand_over_to_nobody_eligible_writes_nothing():
    leaving, gone = UserFactory(username="leaving"), UserFactory(username="gone", is_active=False)
    LeadFactory(creator=leaving)
    with pytest.raises(DistributionError):
        leads_hand_over(from_user=leaving, to_users=[gone], rule="round-robin")
    assert list(Lead.objects.values_list("creator__username", flat=True)) == ["leaving"]
    assert OwnerChange.objects.count() == 0


def test_hand_over_statements_do_not_grow_with_the_leads(django_assert_max_num_queries):
    leaving = UserFactory(username="leaving")
    receivers = [UserFactory(username=f"r{n}") for n in range(3)]
    LeadFactory.create_batch(60, creator=leaving)
    # Leads (1), people (1), last receiver (1), owners under the lock (1),
    # one UPDATE per receiver (3), history (1), two savepoints and their
    # releases (4).
    with django_assert_max_num_queries(12):
        result = leads_hand_over(from_user=leaving, to_users=receivers, rule="round-robin")
    assert result.handed_over == 60


def test_hand_over_announces_once_with_every_owner(django_capture_on_commit_callbacks):
    from leads.signals import leads_changed

    leaving, x, y = (UserFactory(username=n) for n in ("leaving", "x", "y"))
    LeadFactory.create_batch(4, creator=leaving)
    sent = []

    def record(sender, owner_ids, **kwargs):
        sent.append(owner_ids)

    leads_changed.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            leads_hand_over(from_user=leaving, to_users=[x, y], rule="round-robin")
    finally:
        leads_changed.disconnect(record)
    assert sent == [frozenset({leaving.pk, x.pk, y.pk})]
