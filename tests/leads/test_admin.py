import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadStatus, WorkedLead
from tests.factories import LeadFactory, UserFactory

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
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["ID", "Customer", "Mobile", "Registration"]
    assert len(rows) == 2
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"
    assert rows[1][2] == "9829012345"


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
