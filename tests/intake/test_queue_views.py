from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import EntryState, IntakeEntry
from leads.models import Lead, OwnerChange
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("intake_queue:unassigned")


def make_entry(n, **fields):
    return IntakeEntry.objects.create(
        customer_name=f"Customer {n}", mobile=f"96{n:08d}",
        **{"source": "campaign", "service_type": "Service", **fields})


def test_telecallers_get_a_403_in_the_layout(telecaller_client):
    response = telecaller_client.get(URL)
    assert response.status_code == 403
    assert "Only managers can see the unassigned queue." in response.content.decode()


def test_the_page_filters_and_counts(manager_client):
    lead = LeadFactory()
    make_entry(1)
    make_entry(2, source="website", duplicate_of_lead=lead)
    make_entry(3, source="website", received_at=timezone.now() - timedelta(days=3))
    IntakeEntry.objects.filter(pk=make_entry(4, source="website").pk).update(
        state=EntryState.REJECTED)
    response = manager_client.get(URL, {"source": "website"})
    assert response.status_code == 200
    assert response.context["counts"] == {"waiting": 2, "duplicates": 1}
    names = [entry.customer_name for entry in response.context["entries"]]
    assert names == ["Customer 3", "Customer 2"]
    today = timezone.localdate().isoformat()
    response = manager_client.get(URL, {"source": "website", "received_from": today})
    assert [e.customer_name for e in response.context["entries"]] == ["Customer 2"]


def test_a_bad_filter_is_a_400_with_the_message(manager_client):
    response = manager_client.get(URL, {"received_from": "yesterday"})
    assert response.status_code == 400
    assert "Enter a date as YYYY-MM-DD." in response.content.decode()


def test_assign_selected_rows_round_robin(manager_client, manager):
    a, b = UserFactory(username="a"), UserFactory(username="b")
    entries = [make_entry(n) for n in range(4)]
    response = manager_client.post(URL, {
        "action": "assign", "scope": "selected", "entry": [e.pk for e in entries[:3]],
        "rule": "round-robin", "users": [a.pk, b.pk]}, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "Assigned 3 leads: a 2, b 1." in response.content.decode()
    assert list(Lead.objects.order_by("pk").values_list("creator__username", flat=True)) == [
        "a", "b", "a"]
    assert set(OwnerChange.objects.values_list("changed_by", "rule")) == {
        (manager.pk, "round-robin")}
    assert IntakeEntry.objects.waiting().get() == entries[3]


def test_assign_all_matching_with_a_cap_says_how_many_stay_waiting(manager_client):
    a = UserFactory(username="a")
    for n in range(3):
        make_entry(n)
    make_entry(9, source="other")
    response = manager_client.post(URL, {
        "action": "assign", "scope": "all", "source": "campaign", "rule": "manual",
        "users": [a.pk], "daily_cap": 2}, follow=True)
    body = response.content.decode()
    assert "Assigned 2 leads: a 2. 1 stay waiting: everyone chosen reached the daily cap." in body
    assert IntakeEntry.objects.waiting().count() == 2


def test_an_inactive_or_non_telecaller_user_is_a_form_error(manager_client, manager):
    gone = UserFactory(username="gone", is_active=False)
    entry = make_entry(1)
    for user in (gone, manager):
        response = manager_client.post(URL, {"action": "assign", "scope": "selected",
                                             "entry": [entry.pk], "rule": "round-robin",
                                             "users": [user.pk]})
        assert response.status_code == 400
        assert "cannot own leads" in response.content.decode()
    assert Lead.objects.count() == 0


def test_one_user_rule_needs_one_user_and_nothing_ticked_is_an_error(manager_client):
    a, b = UserFactory(username="a"), UserFactory(username="b")
    entry = make_entry(1)
    response = manager_client.post(URL, {"action": "assign", "scope": "selected",
                                         "entry": [entry.pk], "rule": "manual",
                                         "users": [a.pk, b.pk]})
    assert response.status_code == 400
    assert "gives every lead to one person" in response.content.decode()
    response = manager_client.post(URL, {"action": "assign", "scope": "selected",
                                         "rule": "manual", "users": [a.pk]})
    assert response.status_code == 400
    assert "Tick at least one entry" in response.content.decode()
    assert manager_client.post(URL, {"action": "lottery"}).status_code == 400


def test_reject_with_a_reason(manager_client, manager):
    first, second = make_entry(1), make_entry(2)
    response = manager_client.post(URL, {"action": "reject", "scope": "selected",
                                         "entry": [first.pk], "reason": ""})
    assert response.status_code == 400
    assert "Give the reason for rejecting." in response.content.decode()
    response = manager_client.post(URL, {"action": "reject", "scope": "selected",
                                         "entry": [first.pk], "reason": "duplicate"}, follow=True)
    assert "Rejected 1 entry." in response.content.decode()
    first.refresh_from_db()
    assert (first.state, first.rejected_reason, first.decided_by) == (
        EntryState.REJECTED, "duplicate", manager)
    assert IntakeEntry.objects.waiting().get() == second


def test_the_assignees_dashboard_and_list_show_new_for_you(
    client, manager_client, django_capture_on_commit_callbacks
):
    a = UserFactory(username="a")
    client.force_login(a)
    data = reverse("dashboard:data")
    assert client.get(data).json()["totals"]["new_leads"] == 0
    entry = make_entry(1)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(URL, {"action": "assign", "scope": "selected", "entry": [entry.pk],
                                  "rule": "manual", "users": [a.pk]})
    assert client.get(data).json()["totals"]["new_leads"] == 1


def test_crafted_entry_ids_are_a_form_error(manager_client):
    response = manager_client.post(URL, {"action": "reject", "scope": "selected",
                                         "entry": ["9" * 30], "reason": "x"})
    assert response.status_code == 400
    assert Lead.objects.count() == 0
