import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadStatus, WorkedLead
from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:leads_lead_changelist")
IST = ZoneInfo("Asia/Kolkata")


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(superuser=True, username="boss"))
    return client


def _post_action(client, action, leads, **extra):
    data = {"action": action, "_selected_action": [lead.pk for lead in leads], "index": 0, **extra}
    return client.post(CHANGELIST, data)


def test_changelist_lists_leads_for_staff(staff_client):
    LeadFactory(customer_name="Asha Rao")
    response = staff_client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert "Asha Rao" in response.content.decode()


def test_changelist_search_by_formatted_mobile(staff_client):
    wanted = LeadFactory(mobile="9829012345")
    LeadFactory(mobile="9829099999")
    response = staff_client.get(CHANGELIST, {"q": "+91 98290-12345"})
    assert [lead.pk for lead in response.context["cl"].result_list] == [wanted.pk]


def test_changelist_search_by_registration_prefix_and_name(staff_client):
    rj = LeadFactory(car_registration="RJ14AB1234", customer_name="Ravi")
    LeadFactory(car_registration="DL3CAF0001", customer_name="Sunita Sharma")
    by_registration = staff_client.get(CHANGELIST, {"q": "rj-14"}).context["cl"].result_list
    by_name = staff_client.get(CHANGELIST, {"q": "sharma"}).context["cl"].result_list
    assert [lead.pk for lead in by_registration] == [rj.pk]
    assert [lead.customer_name for lead in by_name] == ["Sunita Sharma"]


def test_changelist_filters_by_status(staff_client):
    LeadFactory(status=LeadStatus.CONFIRMED)
    LeadFactory(status=LeadStatus.OPEN)
    response = staff_client.get(CHANGELIST, {"status__exact": "confirmed"})
    assert [lead.status for lead in response.context["cl"].result_list] == ["confirmed"]


def test_changelist_filters_by_typed_source_without_listing_every_value(staff_client):
    LeadFactory(source="website", customer_name="From the site", status=LeadStatus.OPEN)
    LeadFactory(source="walk-in", customer_name="Walked in", status=LeadStatus.OPEN)
    with CaptureQueriesContext(connection) as captured:
        response = staff_client.get(CHANGELIST, {"source": "website", "status__exact": "open"})
    assert [lead.customer_name for lead in response.context["cl"].result_list] == [
        "From the site"]
    # No filter reads the whole table for its choices.
    assert not [q["sql"] for q in captured if "DISTINCT" in q["sql"]]
    page = response.content.decode()
    assert 'name="source" value="website"' in page
    # The other filters survive a new typed value.
    assert '<input type="hidden" name="status__exact" value="open">' in page
    assert "walk-in" not in page


def test_changelist_refused_to_non_staff(client):
    client.force_login(UserFactory())
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_set_status_action(staff_client):
    leads = LeadFactory.create_batch(2)
    untouched = LeadFactory()
    response = _post_action(staff_client, "set_status", leads, status="confirmed")
    assert response.status_code == 302
    assert sorted(Lead.objects.values_list("status", flat=True)) == [
        "confirmed", "confirmed", "needs_followup"]
    untouched.refresh_from_db()
    assert untouched.status == "needs_followup"


def test_set_status_action_without_a_status_changes_nothing(staff_client):
    lead = LeadFactory()
    response = _post_action(staff_client, "set_status", [lead], status="")
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == "needs_followup"
    messages = [m.message for m in response.wsgi_request._messages]
    assert messages == ["Choose a status next to the action, then run it again."]


def test_reassign_action(staff_client):
    new_owner = UserFactory(username="newowner")
    leads = LeadFactory.create_batch(2)
    _post_action(staff_client, "reassign", leads, creator=new_owner.pk)
    owners = list(Lead.objects.values_list("creator__username", flat=True))
    assert owners == ["newowner", "newowner"]


def test_reassign_action_refuses_an_inactive_user(staff_client):
    inactive = UserFactory(username="gone", is_active=False)
    lead = LeadFactory()
    old_owner = lead.creator_id
    _post_action(staff_client, "reassign", [lead], creator=inactive.pk)
    lead.refresh_from_db()
    assert lead.creator_id == old_owner


def test_export_csv_action_neutralises_formulas(staff_client):
    lead = LeadFactory(customer_name="=HYPERLINK(\"http://x\")", mobile="9829012345")
    LeadFactory(customer_name="Plain Name")
    response = _post_action(staff_client, "export_csv", [lead])
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:4] == ["ID", "Customer", "Mobile", "Registration"]
    assert len(rows) == 2
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"
    assert rows[1][2] == "9829012345"


def test_export_csv_action_is_utf8_with_a_bom_for_indian_names(staff_client):
    hindi = LeadFactory(customer_name="राहुल शर्मा")
    tamil = LeadFactory(customer_name="முருகன் செல்வம்")
    response = _post_action(staff_client, "export_csv", [hindi, tamil])
    body = b"".join(response.streaming_content)
    # The byte order mark first: spreadsheets then read the file as UTF-8.
    assert body[:3] == b"\xef\xbb\xbf"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))
    assert [row[1] for row in rows] == ["Customer", "राहुल शर्मा", "முருகன் செல்வம்"]


def test_actions_refused_to_non_staff(client):
    client.force_login(UserFactory())
    lead = LeadFactory()
    response = _post_action(client, "set_status", [lead], status="confirmed")
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == "needs_followup"


def test_staff_without_change_permission_cannot_run_status_action(client):
    client.force_login(UserFactory(staff=True, username="viewer"))
    lead = LeadFactory()
    response = _post_action(client, "set_status", [lead], status="confirmed")
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.status == "needs_followup"


def test_worked_lead_and_snapshot_admin_are_read_only(staff_client):
    assert staff_client.get(reverse("admin:leads_workedlead_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:leads_workedlead_add")).status_code == 403
    assert staff_client.get(reverse("admin:leads_followupsnapshot_add")).status_code == 403


def _change_form_data(lead, **overrides):
    local = timezone.localtime(lead.followup_date)
    return {
        "customer_name": lead.customer_name, "mobile": lead.mobile,
        "car_registration": lead.car_registration, "status": lead.status,
        "followup_date_0": f"{local:%Y-%m-%d}", "followup_date_1": f"{local:%H:%M:%S}",
        "remarks": lead.remarks, "creator": lead.creator_id, **overrides,
    }


def test_admin_change_of_followup_records_worked_by_the_admin_user(staff_client):
    old = datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=IST)
    lead = LeadFactory(followup_date=old)
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    response = staff_client.post(url, _change_form_data(
        lead, followup_date_0="2026-12-01", followup_date_1="16:30:00"))
    assert response.status_code == 302
    lead.refresh_from_db()
    new = datetime(2026, 12, 1, 16, 30, tzinfo=IST)
    assert lead.followup_date == new
    worked = WorkedLead.objects.get()
    assert (worked.lead, worked.user.username, worked.work_date, worked.old_followup_date,
            worked.new_followup_date) == (lead, "boss", timezone.localdate(), old, new)


def test_admin_remark_only_change_records_nothing(staff_client):
    followup = datetime(2026, 11, 28, 10, 0, 7, 123456, tzinfo=IST)
    lead = LeadFactory(followup_date=followup, remarks="")
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    response = staff_client.post(url, _change_form_data(lead, remarks="Called twice"))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.remarks, lead.followup_date) == ("Called twice", followup)
    assert WorkedLead.objects.count() == 0


def test_admin_add_creates_a_lead_without_worked_rows(staff_client):
    owner = UserFactory(username="owner")
    response = staff_client.post(reverse("admin:leads_lead_add"), {
        "customer_name": "Asha", "mobile": "+91 98290 12345", "car_registration": "",
        "status": "open", "followup_date_0": "2026-12-01", "followup_date_1": "10:00:00",
        "remarks": "", "creator": owner.pk})
    assert response.status_code == 302
    assert list(Lead.objects.values_list("mobile", "creator__username")) == [
        ("9829012345", "owner")]
    assert WorkedLead.objects.count() == 0


OWNER_QUERY = {"app_label": "leads", "model_name": "lead", "field_name": "creator"}


def _owner_search_url(client, lead):
    """The URL the change form's owner field searches, as the page gives it."""
    html = client.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    field = html[html.index('name="creator"'):]
    return field[field.index('data-ajax--url="') + 16:].split('"', 1)[0]


def test_manager_searches_the_lead_owners_for_a_leads_owner(client, manager):
    # Active telecallers only: not the manager, nor an admin account, nor a former telecaller.
    client.force_login(manager)
    lead = LeadFactory(creator=UserFactory(username="asha"))
    UserFactory(username="ravi")
    UserFactory(username="rahul", is_active=False)
    UserFactory(username="radmin", superuser=True)
    url = _owner_search_url(client, lead)
    response = client.get(url, {**OWNER_QUERY, "term": "ra"})
    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["ravi"]
    everyone = client.get(url, {**OWNER_QUERY, "term": ""}).json()["results"]
    assert [result["text"] for result in everyone] == ["asha", "ravi"]


def test_owner_search_serves_only_the_owner_field_and_not_the_user_admin(client, manager):
    client.force_login(manager)
    url = reverse("admin:leads_lead_owner_autocomplete")
    other_field = {"app_label": "leads", "model_name": "workedlead", "field_name": "user"}
    assert client.get(url, other_field).status_code == 403
    # Managers have the team's user admin (leads/team_admin.py), so Django's
    # own user search answers them too, with plain accounts only.
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200
    UserFactory(username="plain")
    ManagerFactory(username="colleague")
    found = client.get(reverse("admin:autocomplete"), {**OWNER_QUERY, "term": ""}).json()
    assert [row["text"] for row in found["results"]] == ["plain"]


def test_owner_search_refused_to_telecallers(client, telecaller):
    client.force_login(telecaller)
    response = client.get(reverse("admin:leads_lead_owner_autocomplete"), OWNER_QUERY)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_manager_changes_a_leads_owner_in_the_change_form(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    old_owner, new_owner = UserFactory(username="asha"), UserFactory(username="ravi")
    lead = LeadFactory(creator=old_owner)
    new_owners_leads = {"user": new_owner.pk}
    before = client.get(reverse("dashboard:data"), new_owners_leads).json()["status_counts"]
    # As the page does it: search the owner field, pick the result, save.
    search = client.get(_owner_search_url(client, lead), {**OWNER_QUERY, "term": "ravi"})
    [picked] = search.json()["results"]
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, _change_form_data(lead, creator=picked["id"]))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.creator == new_owner
    # The dashboard heard of it: the new owner's cached numbers were retired.
    after = client.get(reverse("dashboard:data"), new_owners_leads).json()["status_counts"]
    assert (before["needs_followup"], after["needs_followup"]) == (0, 1)


def test_change_form_refuses_an_inactive_new_owner(client, manager):
    client.force_login(manager)
    lead = LeadFactory()
    gone = UserFactory(username="gone", is_active=False)
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    response = client.post(url, _change_form_data(lead, creator=gone.pk))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["creator"] == [
        "gone is inactive and cannot own leads: choose an active user."]
    lead.refresh_from_db()
    assert lead.creator != gone


def test_change_form_keeps_a_deactivated_owner_when_other_fields_change(client, manager):
    client.force_login(manager)
    owner = UserFactory(username="left")
    lead = LeadFactory(creator=owner, status=LeadStatus.OPEN)
    owner.is_active = False
    owner.save()
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    response = client.post(url, _change_form_data(lead, status="confirmed"))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.creator) == ("confirmed", owner)


def test_admin_change_refuses_remarks_over_the_limit(staff_client):
    lead = LeadFactory(remarks="kept")
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    response = staff_client.post(url, _change_form_data(lead, remarks="x" * 100_001))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["remarks"] == [
        "The remarks (the lead's call log) can hold at most 100,000 characters; with this "
        "change they would have 100,001. Nothing was saved: shorten the remarks first."]
    lead.refresh_from_db()
    assert lead.remarks == "kept"


def test_admin_refuses_a_name_of_zero_width_spaces(staff_client):
    lead = LeadFactory(customer_name="Asha")
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    response = staff_client.post(url, _change_form_data(lead, customer_name="\u200b\u2060"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["customer_name"] == [
        "Enter the customer's name: this one has only invisible characters "
        "(such as zero-width spaces)."]


def test_admin_may_store_lost_without_a_remark_and_logs_the_close(staff_client):
    followup = datetime(2026, 11, 28, 10, 0, tzinfo=IST)
    lead = LeadFactory(followup_date=followup, remarks="")
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    response = staff_client.post(url, _change_form_data(lead, status="lost"))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.remarks) == ("lost", "")
    assert list(WorkedLead.objects.values_list("kind", "user__username", "old_followup_date",
                                               "new_followup_date")) == [
        ("closed", "boss", followup, followup)]


def test_set_status_action_logs_each_lead_it_closes_by_the_admin_user(staff_client):
    closing = LeadFactory(status=LeadStatus.OPEN)
    already = LeadFactory(status=LeadStatus.COMPLETED)
    _post_action(staff_client, "set_status", [closing, already], status="lost")
    assert sorted(Lead.objects.values_list("status", flat=True)) == ["lost", "lost"]
    assert list(WorkedLead.objects.values_list("kind", "lead_id", "user__username")) == [
        ("closed", closing.pk, "boss")]


def test_the_change_form_shows_the_owner_history(client, manager):
    from leads import services

    client.force_login(manager)
    lead = LeadFactory(creator=UserFactory(username="first"))
    services.leads_reassign(leads=Lead.objects.filter(pk=lead.pk),
                            creator=UserFactory(username="second"), changed_by=manager)
    body = client.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    assert ": first → second (Manual, by " + manager.username + ")</li>" in body
