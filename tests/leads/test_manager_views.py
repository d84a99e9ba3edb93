from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadStatus, OwnerChange, WorkedLead
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

HAND_OVER = reverse("leads:hand_over")
RESCHEDULE = reverse("leads:reschedule")


@pytest.mark.parametrize("url", [HAND_OVER, RESCHEDULE])
def test_telecallers_get_a_403_in_the_layout(telecaller_client, url):
    response = telecaller_client.get(url)
    assert response.status_code == 403
    assert "Only managers can" in response.content.decode()


def test_hand_over_page_spreads_the_open_leads(manager_client, manager):
    leaving = UserFactory(username="leaving")
    x, y = UserFactory(username="x"), UserFactory(username="y")
    LeadFactory.create_batch(3, creator=leaving)
    LeadFactory(creator=leaving, status=LeadStatus.LOST)
    page = manager_client.get(HAND_OVER, {"from_user": leaving.pk})
    assert "3 open leads to hand over." in page.content.decode()
    response = manager_client.post(HAND_OVER, {"from_user": leaving.pk, "rule": "round-robin",
                                               "to_users": [x.pk, y.pk]}, follow=True)
    assert "Handed over 3 open leads of leaving: x 2, y 1." in response.content.decode()
    assert set(OwnerChange.objects.values_list("rule", "changed_by")) == {
        ("hand-over", manager.pk)}
    assert Lead.objects.filter(creator=leaving).count() == 1


def test_hand_over_page_refuses_bad_choices(manager_client):
    leaving, x, y = (UserFactory(username=n) for n in ("leaving", "x", "y"))
    gone = UserFactory(username="gone", is_active=False)
    LeadFactory(creator=leaving)
    for data, message in [
        ({"rule": "manual", "to_users": [x.pk, y.pk]}, "gives every lead to one person"),
        ({"rule": "manual", "to_users": [leaving.pk]}, "Choose someone other than leaving"),
        ({"rule": "round-robin", "to_users": [gone.pk]}, "cannot own leads"),
    ]:
        response = manager_client.post(HAND_OVER, {"from_user": leaving.pk, **data})
        assert response.status_code == 400
        assert message in response.content.decode()
    assert Lead.objects.get().creator == leaving


def test_reschedule_page_spreads_a_users_overdue_leads(manager_client, manager):
    owner = UserFactory(username="owner")
    now = timezone.now()
    overdue = LeadFactory.create_batch(3, creator=owner, followup_date=now - timedelta(days=3))
    later = LeadFactory(creator=owner, followup_date=now + timedelta(days=3))
    page = manager_client.get(RESCHEDULE, {"owner": owner.pk})
    assert "3 leads to move." in page.content.decode()
    start = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = manager_client.post(RESCHEDULE, {"owner": owner.pk, "how": "spread",
                                                "start": start, "per_day": 2,
                                                "at_time": "11:00"}, follow=True)
    assert "Rescheduled 3 leads." in response.content.decode()
    assert WorkedLead.objects.filter(kind="rescheduled", user=manager).count() == 3
    assert sorted(WorkedLead.objects.values_list("lead_id", flat=True)) == [
        lead.pk for lead in overdue]
    later_before = later.followup_date
    later.refresh_from_db()
    assert later.followup_date == later_before


def test_reschedule_page_moves_selected_leads_to_one_date(manager_client):
    leads = LeadFactory.create_batch(2)
    page = manager_client.get(RESCHEDULE, {"lead": [lead.pk for lead in leads]})
    assert "2 selected leads." in page.content.decode()
    response = manager_client.post(RESCHEDULE, {"lead": [lead.pk for lead in leads],
                                                "how": "one", "to": "2030-01-02T10:00"})
    assert response.status_code == 302
    assert {timezone.localtime(f).isoformat() for f in
            Lead.objects.values_list("followup_date", flat=True)} == {
        "2030-01-02T10:00:00+05:30"}


def test_reschedule_page_says_what_is_missing(manager_client):
    lead = LeadFactory()
    for data, message in [
        ({"how": "one", "to": "2030-01-02T10:00"}, "either the selected leads or one user"),
        ({"lead": [lead.pk], "how": "one"}, "Choose the new follow-up."),
        ({"lead": [lead.pk], "how": "spread", "per_day": 2}, "Choose the day to start from."),
        ({"lead": [lead.pk], "how": "spread", "start": "2030-01-02"}, "How many leads a day?"),
    ]:
        response = manager_client.post(RESCHEDULE, data)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert WorkedLead.objects.count() == 0


def test_dashboards_are_fresh_after_a_hand_over_and_a_reschedule(
    client, manager_client, django_capture_on_commit_callbacks
):
    leaving, taker = UserFactory(username="leaving"), UserFactory(username="taker")
    end_of_today = timezone.localtime().replace(hour=23, minute=59, second=0, microsecond=0)
    LeadFactory.create_batch(2, creator=leaving, followup_date=end_of_today)
    data = reverse("dashboard:data")

    def numbers(user):
        client.force_login(user)
        body = client.get(data).json()
        return body["totals"]["leads"], body["followups"]["pending"]

    assert (numbers(leaving), numbers(taker)) == ((2, 2), (0, 0))
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(HAND_OVER, {"from_user": leaving.pk, "rule": "manual",
                                        "to_users": [taker.pk]})
    assert (numbers(leaving), numbers(taker)) == ((0, 0), (2, 2))
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(RESCHEDULE, {"owner": taker.pk, "how": "one",
                                         "to": "2030-01-02T10:00"})
    # Not overdue: nothing moved. Selected leads are.
    assert numbers(taker) == (2, 2)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(RESCHEDULE, {"lead": list(Lead.objects.values_list("pk", flat=True)),
                                         "how": "one", "to": "2030-01-02T10:00"})
    assert numbers(taker) == (2, 0)


@pytest.mark.parametrize("query", [{"from_user": "9" * 30}, {"from_user": "x"}])
def test_hand_over_page_takes_a_crafted_user_as_no_selection(manager_client, query):
    response = manager_client.get(HAND_OVER, query)
    assert response.status_code == 200
    assert response.context["open_count"] is None


@pytest.mark.parametrize("query", [{"lead": ["9" * 30, "abc"]}, {"owner": "9" * 30}])
def test_reschedule_page_takes_crafted_ids_as_no_selection(manager_client, query):
    response = manager_client.get(RESCHEDULE, query)
    assert (response.status_code, response.context["selected"]) == (200, None)
    posted = manager_client.post(RESCHEDULE, {**query, "how": "one", "to": "2030-01-02T10:00"})
    assert posted.status_code == 400
