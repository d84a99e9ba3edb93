from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadStatus, WorkedLead
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
LIST = reverse("leads:list")
CREATE = reverse("leads:create")


def _edit(lead):
    return reverse("leads:edit", args=[lead.pk])


def _quick(lead):
    return reverse("leads:quick_update", args=[lead.pk])


def _pks(response):
    return [lead.pk for lead in response.context["leads"]]


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _new_lead_data(**overrides):
    return {"customer_name": "Asha Rao", "mobile": "+91 98290-12345",
            "car_registration": "rj 14 ab 1234", "status": "needs_followup",
            "followup_date": "2026-12-01T16:30", "remarks": "Wants a quote.", **overrides}


# --- /leads/ ----------------------------------------------------------------

def test_lead_list_requires_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={LIST}"


def test_lead_list_shows_a_telecaller_only_own_leads_newest_first(telecaller_client, telecaller):
    older = LeadFactory(creator=telecaller, created_at=datetime(2026, 11, 1, 10, tzinfo=IST))
    newer = LeadFactory(creator=telecaller, created_at=datetime(2026, 11, 2, 10, tzinfo=IST))
    LeadFactory(created_at=datetime(2026, 11, 3, 10, tzinfo=IST))  # someone else's
    response = telecaller_client.get(LIST)
    assert response.status_code == 200
    assert _pks(response) == [newer.pk, older.pk]
    assert response.context["sees_all"] is False
    assert "user" not in response.context["form"].fields


def test_lead_list_ignores_a_user_filter_from_a_telecaller(telecaller_client, telecaller):
    own = LeadFactory(creator=telecaller)
    other = LeadFactory()
    response = telecaller_client.get(LIST, {"user": other.creator_id})
    assert response.status_code == 200
    assert _pks(response) == [own.pk]


def test_lead_list_shows_a_manager_everyone_with_a_user_filter(manager_client):
    first = LeadFactory(created_at=datetime(2026, 11, 1, 10, tzinfo=IST))
    second = LeadFactory(created_at=datetime(2026, 11, 2, 10, tzinfo=IST))
    everyone = manager_client.get(LIST)
    one_user = manager_client.get(LIST, {"user": first.creator_id})
    assert _pks(everyone) == [second.pk, first.pk]
    assert _pks(one_user) == [first.pk]
    assert second.creator.username in everyone.content.decode()


def test_lead_list_shows_a_superuser_everyone(client):
    client.force_login(UserFactory(superuser=True, username="root"))
    lead = LeadFactory()
    assert _pks(client.get(LIST)) == [lead.pk]


def test_lead_list_search_by_formatted_mobile(telecaller_client, telecaller):
    wanted = LeadFactory(creator=telecaller, mobile="9829012345")
    LeadFactory(creator=telecaller, mobile="9829099999")
    LeadFactory(mobile="9829012345")  # same customer, another user's lead
    response = telecaller_client.get(LIST, {"q": "+91 98290-12345"})
    assert _pks(response) == [wanted.pk]


def test_lead_list_search_by_registration_prefix(telecaller_client, telecaller):
    wanted = LeadFactory(creator=telecaller, car_registration="RJ14AB1234")
    LeadFactory(creator=telecaller, car_registration="DL3CAF0001")
    response = telecaller_client.get(LIST, {"q": "rj-14 a"})
    assert _pks(response) == [wanted.pk]


def test_lead_list_status_filter(manager_client):
    confirmed = LeadFactory(status=LeadStatus.CONFIRMED)
    LeadFactory(status=LeadStatus.OPEN)
    response = manager_client.get(LIST, {"status": "confirmed"})
    assert _pks(response) == [confirmed.pk]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"status": "won"}, "status",
         "Select a valid choice. won is not one of the available choices."),
        ({"page": "abc"}, "page", "The page must be a whole number."),
        ({"page": "0"}, "page", "Ensure this value is greater than or equal to 1."),
        ({"user": "999999"}, "user", "No such user."),
    ],
)
def test_lead_list_bad_filter_values_answer_400(manager_client, params, field, message):
    LeadFactory()
    response = manager_client.get(LIST, params)
    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    assert response.context["leads"] == []
    assert "Fix the filter below to see leads." in response.content.decode()


def test_lead_list_pages_by_50_without_counting(telecaller_client, telecaller):
    leads = LeadFactory.create_batch(51, creator=telecaller)
    with CaptureQueriesContext(connection) as queries:
        first = telecaller_client.get(LIST)
    second = telecaller_client.get(LIST, {"page": 2})
    third = telecaller_client.get(LIST, {"page": 3})
    newest_first = sorted(leads, key=lambda lead: (lead.created_at, lead.pk), reverse=True)
    assert _pks(first) == [lead.pk for lead in newest_first[:50]]
    assert (first.context["has_previous"], first.context["has_next"]) == (False, True)
    assert _pks(second) == [newest_first[50].pk]
    assert (second.context["has_previous"], second.context["has_next"]) == (True, False)
    assert (third.status_code, _pks(third)) == (200, [])
    assert [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()] == []
    assert 'href="?page=2"' in first.content.decode()


@pytest.mark.parametrize("viewer", ["manager", "telecaller"])
@pytest.mark.parametrize("leads_page", ["list", "edit"])
def test_leads_pages_ask_the_manager_rule_nothing_beyond_loading_the_user(
    client, manager, telecaller, viewer, leads_page
):
    lead = LeadFactory(creator=telecaller)
    client.force_login(manager if viewer == "manager" else telecaller)
    url = LIST if leads_page == "list" else _edit(lead)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    # The session row; the user loaded with its manager flag
    # (crm.auth.ViewerBackend); then the leads, and on a manager's list the
    # users of its "User" filter, on a telecaller's their "New for you".
    asking_the_rule = [i for i, q in enumerate(captured) if "view_team_dashboard" in q["sql"]]
    expected = 4 if leads_page == "list" else 3
    assert (asking_the_rule, len(captured)) == ([1], expected)


# --- /leads/new/ ---------------------------------------------------------------

def test_lead_create_page_renders(telecaller_client):
    response = telecaller_client.get(CREATE)
    assert response.status_code == 200
    assert response.context["form"].initial == {}
    assert 'type="datetime-local"' in response.content.decode()


def test_lead_create_saves_for_the_telecaller(telecaller_client, telecaller):
    response = telecaller_client.post(CREATE, _new_lead_data())
    assert response.status_code == 302
    assert response["Location"] == LIST
    lead = Lead.objects.get()
    assert (lead.creator, lead.customer_name, lead.mobile, lead.car_registration, lead.status) == (
        telecaller, "Asha Rao", "9829012345", "RJ14AB1234", "needs_followup")
    assert lead.followup_date == datetime(2026, 12, 1, 16, 30, tzinfo=IST)
    assert WorkedLead.objects.count() == 0
    assert _messages(response) == ["Added Asha Rao (9829012345)."]


def test_lead_create_by_a_manager_is_the_managers_lead(manager_client, manager):
    manager_client.post(CREATE, _new_lead_data())
    assert list(Lead.objects.values_list("creator", flat=True)) == [manager.pk]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mobile", "12345", "Enter a 10-digit Indian mobile number starting with 6, 7, 8 or 9 "
                            "(spaces, dashes, a leading 0, +91 or 91 are fine)."),
        ("car_registration", "XX", "Enter a car registration such as RJ14AB1234, DL3CAF0001 or "
                                   "22BH1234AA."),
        ("followup_date", "tomorrow", "Enter a date and time, e.g. 2026-11-28 16:30."),
        ("status", "won", "Select a valid choice. won is not one of the available choices."),
        ("customer_name", "  ", "Enter the customer's name."),
        ("customer_name", "\u200b\u200b", "Enter the customer's name: this one has only "
                                           "invisible characters (such as zero-width spaces)."),
        ("remarks", "x" * 100_001, "The remarks (the lead's call log) can hold at most 100,000 "
                                   "characters; with this change they would have 100,001. "
                                   "Nothing was saved: shorten the remarks first."),
    ],
)
def test_lead_create_shows_errors_next_to_the_field(telecaller_client, field, value, message):
    response = telecaller_client.post(CREATE, _new_lead_data(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert Lead.objects.count() == 0


def test_lead_create_warns_about_an_open_lead_with_the_same_mobile(telecaller_client, telecaller):
    own = LeadFactory(creator=telecaller, mobile="9829012345", customer_name="Mine")
    others = LeadFactory(mobile="9829012345", customer_name="Theirs",
                         creator=UserFactory(username="colleague"))
    response = telecaller_client.post(CREATE, _new_lead_data())
    html = response.content.decode()
    assert response.status_code == 200
    assert Lead.objects.count() == 2
    assert sorted(lead.pk for lead in response.context["duplicates"]) == sorted([own.pk, others.pk])
    assert f'href="{_edit(own)}"' in html
    assert f'href="{_edit(others)}"' not in html  # a telecaller cannot open it
    assert "A lead of colleague's" in html
    assert "Theirs" not in html  # nor read another telecaller's customer
    assert 'name="save_anyway"' in html


def test_lead_create_saves_anyway_when_confirmed(telecaller_client):
    LeadFactory(mobile="9829012345")
    response = telecaller_client.post(CREATE, _new_lead_data(save_anyway="on"))
    assert response.status_code == 302
    assert Lead.objects.filter(mobile="9829012345").count() == 2


def test_lead_create_manager_gets_links_to_everyones_duplicates(manager_client):
    others = LeadFactory(mobile="9829012345")
    response = manager_client.post(CREATE, _new_lead_data())
    assert f'href="{_edit(others)}"' in response.content.decode()


@pytest.mark.parametrize("status", [LeadStatus.COMPLETED, LeadStatus.LOST])
def test_lead_create_ignores_closed_leads_with_the_same_mobile(telecaller_client, status):
    LeadFactory(mobile="9829012345", status=status)
    response = telecaller_client.post(CREATE, _new_lead_data())
    assert response.status_code == 302
    assert Lead.objects.filter(mobile="9829012345").count() == 2


# --- /leads/<id>/edit/ ------------------------------------------------------------

def _edit_data(lead, **overrides):
    return {"status": lead.status, "followup_date": "", "no_followup": "on",
            "remark": "", "modified_token": lead.modified_at.isoformat(), **overrides}


def test_lead_edit_shows_the_followup_in_time_zone(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller,
                       followup_date=datetime(2026, 12, 1, 11, 0, tzinfo=ZoneInfo("UTC")))
    response = telecaller_client.get(_edit(lead))
    assert response.status_code == 200
    assert 'value="2026-12-01T16:30"' in response.content.decode()
    assert response.context["form"]["modified_token"].value() == lead.modified_at.isoformat()


def test_lead_edit_of_another_users_lead_is_404(telecaller_client):
    lead = LeadFactory(remarks="theirs")
    assert telecaller_client.get(_edit(lead)).status_code == 404
    response = telecaller_client.post(_edit(lead), _edit_data(lead, remark="mine now"))
    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.remarks == "theirs"


def test_lead_edit_moves_the_followup_and_records_worked(telecaller_client, telecaller):
    old = datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=IST)
    lead = LeadFactory(creator=telecaller, followup_date=old)
    response = telecaller_client.post(_edit(lead), _edit_data(
        lead, status="confirmed", followup_date="2030-12-01T16:30", remark="Coming Monday"))
    assert response.status_code == 302
    assert response["Location"] == LIST
    lead.refresh_from_db()
    new = datetime(2030, 12, 1, 16, 30, tzinfo=IST)
    assert (lead.status, lead.followup_date) == ("confirmed", new)
    assert lead.remarks.endswith(f" {telecaller.username}: Coming Monday")
    worked = WorkedLead.objects.get()
    assert (worked.lead, worked.user, worked.old_followup_date, worked.new_followup_date) == (
        lead, telecaller, old, new)


def test_lead_edit_remark_only_records_nothing(telecaller_client, telecaller):
    followup = datetime(2030, 11, 28, 10, 0, 37, 123456, tzinfo=IST)
    lead = LeadFactory(creator=telecaller, followup_date=followup, remarks="Asked for price")
    # The browser echoes the follow-up back to the minute.
    response = telecaller_client.post(_edit(lead), _edit_data(
        lead, followup_date="2030-11-28T10:00", remark="Switched off"))
    assert response.status_code == 302
    lead.refresh_from_db()
    first, second = lead.remarks.split("\n")
    assert (lead.followup_date, first) == (followup, "Asked for price")
    assert second.endswith(f" {telecaller.username}: Switched off")
    assert WorkedLead.objects.count() == 0


def test_lead_edit_never_replaces_the_remarks(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, remarks="Called twice")
    # A crafted form posting the old whole-remarks field changes nothing.
    response = telecaller_client.post(_edit(lead), _edit_data(lead, remarks=""))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.remarks == "Called twice"
    page = telecaller_client.get(_edit(lead)).content.decode()
    assert '<div class="pre remarks-log">Called twice</div>' in page
    assert 'name="remarks"' not in page


def test_lead_edit_status_only_records_nothing(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, followup_date=None)
    telecaller_client.post(_edit(lead), _edit_data(lead, status="open"))
    lead.refresh_from_db()
    assert lead.status == "open"
    assert WorkedLead.objects.count() == 0


def test_lead_edit_by_a_manager_of_someone_elses_lead(manager_client, manager):
    lead = LeadFactory(followup_date=None)
    assert manager_client.get(_edit(lead)).status_code == 200
    response = manager_client.post(_edit(lead), _edit_data(lead, followup_date="2030-12-02T09:15"))
    assert response.status_code == 302
    worked = WorkedLead.objects.get()
    assert (worked.user, worked.old_followup_date, worked.new_followup_date) == (
        manager, None, datetime(2030, 12, 2, 9, 15, tzinfo=IST))


def test_lead_edit_refuses_when_the_lead_changed_since_opened(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, status=LeadStatus.NEEDS_FOLLOWUP, remarks="first")
    opened = telecaller_client.get(_edit(lead))
    token = opened.context["form"]["modified_token"].value()
    # Meanwhile a manager changes the lead.
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.OPEN, remarks="manager's note",
                                           modified_at=datetime(2030, 1, 1, tzinfo=IST))
    response = telecaller_client.post(_edit(lead), _edit_data(
        lead, status="confirmed", remark="mine", followup_date="2030-12-01T16:30",
        modified_token=token))
    assert response.status_code == 409
    lead.refresh_from_db()
    assert (lead.status, lead.remarks) == ("open", "manager's note")
    assert WorkedLead.objects.count() == 0
    form = response.context["form"]
    assert form["status"].value() == "open"
    assert form["modified_token"].value() == lead.modified_at.isoformat()
    assert response.context["refused"]["remark"] == "mine"
    assert "Not saved: someone changed this lead after you opened it" in response.content.decode()


def test_lead_edit_bad_followup_shows_the_error_and_saves_nothing(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, remarks="before")
    response = telecaller_client.post(_edit(lead), _edit_data(
        lead, followup_date="31/02/2026", remark="after"))
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "followup_date": ["Enter a date and time, e.g. 2026-11-28 16:30."]}
    lead.refresh_from_db()
    assert lead.remarks == "before"


def test_lead_edit_refuses_a_damaged_token(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, remarks="before")
    response = telecaller_client.post(_edit(lead), _edit_data(lead, modified_token="yesterday"))
    assert response.context["form"].errors == {"modified_token": [
        "This form is damaged or out of date: reload the page and try again."]}
    lead.refresh_from_db()
    assert lead.remarks == "before"


# --- quick update ----------------------------------------------------------------

def test_quick_update_saves_and_returns_to_next(telecaller_client, telecaller):
    old = datetime(2026, 11, 28, 11, 0, tzinfo=IST)
    lead = LeadFactory(creator=telecaller, followup_date=old, remarks="Asked for price",
                       customer_name="Asha Rao")
    response = telecaller_client.post(_quick(lead), {
        "status": "confirmed", "followup_date": "2030-12-02T10:00", "remark": "Will come Monday",
        "next": "/dashboard/?user=3&day=2026-11-28"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/?user=3&day=2026-11-28"
    lead.refresh_from_db()
    new = datetime(2030, 12, 2, 10, 0, tzinfo=IST)
    assert (lead.status, lead.followup_date) == ("confirmed", new)
    first, second = lead.remarks.split("\n")
    assert first == "Asked for price"
    assert second.endswith(f" {telecaller.username}: Will come Monday")
    worked = WorkedLead.objects.get()
    assert (worked.user, worked.old_followup_date, worked.new_followup_date) == (
        telecaller, old, new)
    assert _messages(response) == [
        "Updated Asha Rao: Confirmed, next follow-up 2 Dec 2030, 10:00."]


def test_quick_update_error_names_the_field_and_saves_nothing(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, customer_name="Asha Rao", remarks="")
    response = telecaller_client.post(_quick(lead), {
        "status": "confirmed", "followup_date": "soon", "remark": "x", "next": "/dashboard/"})
    # A page that says why and keeps what was typed, leading back to `next`.
    assert response.status_code == 400
    page = response.content.decode()
    assert 'name="remark" maxlength="1000" value="x"' in page
    assert '<option value="confirmed" selected>' in page
    assert '<a href="/dashboard/">Back without saving</a>' in page
    assert _messages(response) == [
        "Asha Rao not updated. Next follow-up: Enter a date and time, e.g. 2026-11-28 16:30."]
    lead.refresh_from_db()
    assert (lead.status, lead.remarks) == ("needs_followup", "")
    assert WorkedLead.objects.count() == 0


def test_quick_update_bad_status_names_the_status(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, customer_name="Asha Rao")
    response = telecaller_client.post(_quick(lead), {"status": "won", "next": "/dashboard/"})
    assert _messages(response) == [
        "Asha Rao not updated. Status: Select a valid choice. won is not one of the available "
        "choices."]


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", ""])
def test_quick_update_falls_back_to_the_dashboard(telecaller_client, telecaller, next_url):
    lead = LeadFactory(creator=telecaller)
    response = telecaller_client.post(_quick(lead), {
        "status": "open", "followup_date": "2030-12-01T10:00", "next": next_url})
    assert response["Location"] == "/dashboard/"


def test_quick_update_of_another_users_lead_is_404(telecaller_client):
    lead = LeadFactory()
    response = telecaller_client.post(_quick(lead), {"status": "completed", "next": "/dashboard/"})
    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.status == "needs_followup"


def test_quick_update_by_a_manager(manager_client):
    lead = LeadFactory()
    manager_client.post(_quick(lead), {"status": "completed", "next": "/dashboard/"})
    lead.refresh_from_db()
    assert (lead.status, lead.followup_date) == ("completed", None)


def test_quick_update_refuses_get(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller)
    assert telecaller_client.get(_quick(lead)).status_code == 405


# --- CSRF -------------------------------------------------------------------------

def test_posts_without_csrf_token_are_refused(telecaller):
    client = Client(enforce_csrf_checks=True)
    client.force_login(telecaller)
    lead = LeadFactory(creator=telecaller, remarks="before")
    assert client.post(CREATE, _new_lead_data()).status_code == 403
    assert client.post(_edit(lead), _edit_data(lead, remarks="after")).status_code == 403
    assert client.post(_quick(lead), {"status": "open", "next": "/dashboard/"}).status_code == 403
    lead.refresh_from_db()
    assert (Lead.objects.count(), lead.status, lead.remarks) == (1, "needs_followup", "before")


def test_lead_list_search_that_matches_nothing_explains_the_search(telecaller_client, telecaller):
    LeadFactory(creator=telecaller, customer_name="Ravi Kumar")
    response = telecaller_client.get(LIST, {"q": "Ravi Kumart"})
    assert (response.status_code, _pks(response)) == (200, [])
    assert "the beginning of any word of the customer's name" in response.content.decode()


def test_quick_update_and_edit_work_on_a_row_a_loader_left_without_a_name(client, telecaller):
    from leads.models import Lead

    lead = LeadFactory(creator=telecaller)
    Lead.objects.filter(pk=lead.pk).update(customer_name="")  # a bulk loader's row
    client.force_login(telecaller)
    response = client.post(reverse("leads:quick_update", args=[lead.pk]), {
        "status": "open", "followup_date": "2030-12-01T10:00", "remark": "", "next": "/"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.customer_name) == ("open", "")


@pytest.mark.parametrize("followup", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_quick_update_refuses_a_follow_up_outside_2000_to_2100(client, telecaller, followup):
    lead = LeadFactory(creator=telecaller)
    client.force_login(telecaller)
    response = client.post(reverse("leads:quick_update", args=[lead.pk]), {
        "status": "open", "followup_date": followup, "remark": "", "next": "/"})
    assert response.status_code == 400
    assert "Choose a follow-up between 2000 and 2100." in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == "needs_followup"


def test_lead_edit_refuses_a_remark_over_the_limit_with_a_message(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, remarks="kept")
    response = telecaller_client.post(_edit(lead), {
        "status": "open", "followup_date": "", "no_followup": "on", "remark": "x" * 1_001,
        "modified_token": lead.modified_at.isoformat()})
    assert response.status_code == 200
    assert response.context["form"].errors == {"remark": [
        "A remark can have at most 1,000 characters; this one has 1,001. Nothing was saved."]}
    lead.refresh_from_db()
    assert (lead.remarks, lead.status) == ("kept", "needs_followup")


def test_lead_edit_that_would_overfill_the_log_says_so(telecaller_client, telecaller):
    stored = "x" * 99_990
    lead = LeadFactory(creator=telecaller, remarks=stored)
    response = telecaller_client.post(_edit(lead), _edit_data(lead, status="open",
                                                              remark="Will come Monday"))
    assert response.status_code == 400
    would_have = len(stored) + 1 + 18 + len(telecaller.username) + 2 + len("Will come Monday")
    assert response.context["form"].errors == {"__all__": [
        "The remarks (the lead's call log) can hold at most 100,000 characters; with this "
        f"change they would have {would_have:,}. Nothing was saved: shorten the remarks first."]}
    lead.refresh_from_db()
    assert (lead.remarks, lead.status) == (stored, "needs_followup")


def test_quick_update_that_would_overfill_the_log_says_so(telecaller_client, telecaller):
    stored = "x" * 99_990
    lead = LeadFactory(creator=telecaller, customer_name="Asha Rao", remarks=stored)
    response = telecaller_client.post(_quick(lead), {
        "status": "open", "followup_date": "", "no_followup": "on", "remark": "Will come Monday",
        "next": "/"})
    assert response.status_code == 400
    # The new line: "30 Nov 2026 10:00 " (18 characters), "<username>: ", the remark.
    would_have = len(stored) + 1 + 18 + len(telecaller.username) + 2 + len("Will come Monday")
    assert _messages(response) == [
        "Asha Rao not updated. The remarks (the lead's call log) can hold at most 100,000 "
        f"characters; with this change they would have {would_have:,}. Nothing was saved: "
        "shorten the remarks first."]
    lead.refresh_from_db()
    assert (lead.remarks, lead.status) == (stored, "needs_followup")


def test_quick_update_remark_over_its_limit_says_so(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, customer_name="Asha Rao", remarks="")
    response = telecaller_client.post(_quick(lead), {
        "status": "open", "followup_date": "", "remark": "x" * 1001, "next": "/"})
    assert _messages(response) == [
        "Asha Rao not updated. Remark: A remark can have at most 1,000 characters; this one "
        "has 1,001. Nothing was saved."]


# --- lost needs a reason -------------------------------------------------------------


def test_quick_update_to_lost_without_a_remark_names_the_remark(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, customer_name="Asha Rao", remarks="")
    response = telecaller_client.post(_quick(lead), {
        "status": "lost", "followup_date": "", "remark": "  ", "next": "/dashboard/"})
    assert response.status_code == 400
    assert _messages(response) == [
        "Asha Rao not updated. Remark: Give the reason the lead is lost."]
    lead.refresh_from_db()
    assert lead.status == "needs_followup"
    assert WorkedLead.objects.count() == 0


def test_quick_update_to_lost_with_a_reason_closes_the_lead(telecaller_client, telecaller):
    followup = datetime(2026, 11, 28, 11, 0, tzinfo=IST)
    lead = LeadFactory(creator=telecaller, customer_name="Asha Rao", followup_date=followup)
    response = telecaller_client.post(_quick(lead), {
        "status": "lost", "followup_date": "2026-11-28T11:00", "remark": "Sold the car",
        "next": "/dashboard/"})
    assert _messages(response) == [
        "Updated Asha Rao: Lost, next follow-up 28 Nov 2026, 11:00."]
    lead.refresh_from_db()
    assert (lead.status, lead.remarks.endswith(": Sold the car")) == ("lost", True)
    assert list(WorkedLead.objects.values_list("kind", "old_followup_date",
                                               "new_followup_date")) == [
        ("closed", followup, followup)]


def test_lead_edit_to_lost_needs_a_new_remark(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, followup_date=None, remarks="Called twice")
    response = telecaller_client.post(_edit(lead), _edit_data(lead, status="lost"))
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "remark": ["Add a remark giving the reason the lead is lost."]}
    lead.refresh_from_db()
    assert lead.status == "needs_followup"

    response = telecaller_client.post(_edit(lead), _edit_data(
        lead, status="lost", remark="Went to another garage"))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == "lost"
    assert list(WorkedLead.objects.values_list("kind", flat=True)) == ["closed"]


def test_lead_edit_of_a_lost_lead_needs_no_new_reason(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, followup_date=None, status="lost", remarks="Moved away")
    response = telecaller_client.post(_edit(lead), _edit_data(lead))
    assert response.status_code == 302


def test_lead_create_as_lost_needs_remarks(telecaller_client):
    response = telecaller_client.post(CREATE, _new_lead_data(status="lost", remarks=" "))
    assert response.status_code == 200
    assert response.context["form"].errors == {"remarks": ["Give the reason the lead is lost."]}
    assert Lead.objects.count() == 0
    response = telecaller_client.post(CREATE, _new_lead_data(status="lost",
                                                             remarks="Only wanted a quote"))
    assert response.status_code == 302
    assert list(Lead.objects.values_list("status", flat=True)) == ["lost"]
    assert WorkedLead.objects.count() == 0  # adding a lead is not closing one


# --- the next step ---------------------------------------------------------------

def test_quick_update_refuses_a_past_followup_and_saves_nothing(telecaller_client, telecaller):
    past = datetime(2026, 11, 20, 11, 0, tzinfo=IST)
    lead = LeadFactory(creator=telecaller, customer_name="Asha Rao", followup_date=past)
    response = telecaller_client.post(_quick(lead), {
        "status": "did_not_pick_up", "followup_date": "2026-11-20T11:00", "remark": "No answer",
        "next": "/dashboard/"})
    assert _messages(response) == [
        "Asha Rao not updated. Next follow-up: Set the next follow-up or close the lead."]
    lead.refresh_from_db()
    assert (lead.status, lead.followup_date, lead.remarks) == ("needs_followup", past, "")
    assert WorkedLead.objects.count() == 0


def test_quick_update_no_followup_tick_makes_the_lead_unscheduled(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, followup_date=datetime(2026, 11, 20, 11, tzinfo=IST))
    response = telecaller_client.post(_quick(lead), {
        "status": "needs_followup", "followup_date": "2026-11-20T11:00", "no_followup": "on",
        "next": "/dashboard/"})
    assert response.status_code == 302
    assert list(Lead.objects.not_closed().filter(followup_date=None)) == [lead]


def test_lead_edit_page_refuses_a_past_followup_next_to_the_field(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, followup_date=datetime(2026, 11, 20, 11, tzinfo=IST))
    response = telecaller_client.post(_edit(lead), _edit_data(
        lead, followup_date="2026-11-20T11:00", no_followup="", remarks="Called"))
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "followup_date": ["Set the next follow-up or close the lead."]}
    html = response.content.decode()
    assert 'name="followup_shortcut" value="2h"' in html
    assert 'name="no_followup"' in html


# --- the work queues: /leads/?due=... --------------------------------------------

def _at(days, hour):
    """Today (business time zone) + `days` at `hour`:00."""
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def test_overdue_queue_lists_open_leads_oldest_followup_first(telecaller_client, telecaller):
    recent = LeadFactory(creator=telecaller, followup_date=_at(-1, 23))
    oldest = LeadFactory(creator=telecaller, followup_date=_at(-40, 9))
    middle = LeadFactory(creator=telecaller, followup_date=_at(-3, 9))
    LeadFactory(creator=telecaller, followup_date=_at(-2, 9), status=LeadStatus.COMPLETED)
    LeadFactory(creator=telecaller, followup_date=_at(0, 0))  # today: not overdue
    LeadFactory(followup_date=_at(-5, 9))  # someone else's
    response = telecaller_client.get(LIST, {"due": "overdue"})
    assert response.status_code == 200
    assert _pks(response) == [oldest.pk, middle.pk, recent.pk]


def test_unscheduled_queue_lists_open_leads_without_followup_oldest_created_first(
        telecaller_client, telecaller):
    newer = LeadFactory(creator=telecaller, followup_date=None, created_at=_at(-1, 9))
    older = LeadFactory(creator=telecaller, followup_date=None, created_at=_at(-9, 9))
    LeadFactory(creator=telecaller, followup_date=None, status=LeadStatus.LOST)
    LeadFactory(creator=telecaller, followup_date=_at(1, 9))
    response = telecaller_client.get(LIST, {"due": "unscheduled"})
    assert _pks(response) == [older.pk, newer.pk]


def test_today_queue_lists_todays_open_followups_in_time_order(telecaller_client, telecaller):
    evening = LeadFactory(creator=telecaller, followup_date=_at(0, 18))
    morning = LeadFactory(creator=telecaller, followup_date=_at(0, 9))
    LeadFactory(creator=telecaller, followup_date=_at(0, 11), status=LeadStatus.COMPLETED)
    LeadFactory(creator=telecaller, followup_date=_at(1, 0))
    response = telecaller_client.get(LIST, {"due": "today"})
    assert _pks(response) == [morning.pk, evening.pk]


def test_queues_for_managers_take_the_team_or_one_user_and_other_filters(
        manager_client, telecaller):
    mine = LeadFactory(creator=telecaller, followup_date=_at(-2, 9), status=LeadStatus.OPEN)
    other = LeadFactory(followup_date=_at(-3, 9), status=LeadStatus.OPEN)
    LeadFactory(creator=telecaller, followup_date=_at(-4, 9), status=LeadStatus.CONFIRMED)
    assert _pks(manager_client.get(LIST, {"due": "overdue", "status": "open"})) == [
        other.pk, mine.pk]
    response = manager_client.get(
        LIST, {"due": "overdue", "status": "open", "user": telecaller.pk})
    assert _pks(response) == [mine.pk]


def test_queue_pages_keep_their_order(telecaller_client, telecaller):
    leads = [LeadFactory(creator=telecaller, followup_date=_at(-60 + i, 9)) for i in range(51)]
    first = telecaller_client.get(LIST, {"due": "overdue"})
    second = telecaller_client.get(LIST, {"due": "overdue", "page": 2})
    assert (_pks(first), _pks(second)) == ([lead.pk for lead in leads[:50]], [leads[50].pk])
    assert first.context["has_next"] is True


def test_unknown_queue_answers_400_naming_the_filter(telecaller_client):
    response = telecaller_client.get(LIST, {"due": "tomorrow"})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "due": ["Choose due=today, overdue or unscheduled."]}


def test_queue_rows_carry_a_quick_update_form_back_to_the_queue(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, followup_date=_at(-2, 9))
    html = telecaller_client.get(LIST, {"due": "overdue"}).content.decode()
    assert f'action="/leads/{lead.pk}/quick-update/"' in html
    assert 'name="next" value="/leads/?due=overdue"' in html
    assert "js/leads.js" in html
    assert "quick-update" not in telecaller_client.get(LIST).content.decode()


def _new_lead(**extra):
    return {"customer_name": "Picked Owner", "mobile": "9829055555", "status": "needs_followup",
            **extra}


def test_a_manager_adds_a_lead_for_a_telecaller(manager_client, manager):
    from leads.models import OwnerChange

    owner = UserFactory(username="picked")
    response = manager_client.post(reverse("leads:create"), _new_lead(owner=owner.pk))
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.creator, lead.new_for_owner) == (owner, True)
    assert list(OwnerChange.objects.values_list("from_user", "to_user", "changed_by", "rule")) == [
        (None, owner.pk, manager.pk, "manual")]


def test_a_manager_without_a_pick_owns_the_lead(manager_client, manager):
    assert manager_client.post(reverse("leads:create"), _new_lead()).status_code == 302
    lead = Lead.objects.get()
    assert (lead.creator, lead.new_for_owner) == (manager, False)


def test_a_manager_cannot_pick_someone_who_cannot_own_leads(manager_client):
    gone = UserFactory(username="gone", is_active=False)
    response = manager_client.post(reverse("leads:create"), _new_lead(owner=gone.pk))
    assert "Choose someone who can own leads" in response.content.decode()
    assert Lead.objects.count() == 0


def test_telecallers_see_no_picker_and_a_forged_owner_is_refused(telecaller_client):
    other = UserFactory(username="other")
    page = telecaller_client.get(reverse("leads:create")).content.decode()
    assert 'name="owner"' not in page
    response = telecaller_client.post(reverse("leads:create"), _new_lead(owner=other.pk))
    assert response.status_code == 400
    assert "Only managers can add a lead for someone else" in response.content.decode()
    assert Lead.objects.count() == 0


def test_new_for_you_on_the_list_until_the_owners_first_update(telecaller_client, telecaller,
                                                               manager):
    from leads import services

    given = LeadFactory(creator=UserFactory(username="before"))
    services.leads_reassign(leads=Lead.objects.filter(pk=given.pk), creator=telecaller,
                            changed_by=manager)
    LeadFactory(creator=telecaller)
    page = telecaller_client.get(LIST)
    assert page.context["new_for_you"] == "1"
    assert "New for you (1)" in page.content.decode()
    assert _pks(telecaller_client.get(LIST, {"new": "on"})) == [given.pk]
    # A GET never writes: still new after the pages were seen.
    assert Lead.objects.new_for(telecaller).count() == 1
    services.lead_update(lead=given, user=telecaller, changes={"remarks": "called"})
    assert telecaller_client.get(LIST).context["new_for_you"] == ""
