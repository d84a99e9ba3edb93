"""The lead change history (LeadChange, written by triggers): every write path
records who changed which field from what to what, bulk paths in bulk."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads import history, services
from leads.demo_data import generate_lead_rows, load_leads
from leads.models import Lead, LeadChange, LeadStatus
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
CHANGELIST = reverse("admin:leads_lead_changelist")


def _changes(lead=None):
    """[(kind, field, old, new, actor username or None, via)] oldest first."""
    rows = LeadChange.objects.order_by("id")
    if lead is not None:
        rows = rows.filter(lead_id=lead.pk)
    return [(c.kind, c.field, c.old_value, c.new_value,
             c.actor.username if c.actor_id else None, c.via)
            for c in rows.select_related("actor")]


@pytest.fixture
def staff(db):
    return UserFactory(superuser=True, username="boss")


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def _lead(**kwargs):
    with history.acting_as(via=history.VIA_SCRIPT):
        lead = LeadFactory(**kwargs)
    LeadChange.objects.all().delete()
    return lead


# --- creation and deletion ------------------------------------------------------------

def test_creating_on_the_page_is_recorded_as_the_user(client):
    owner = UserFactory(username="asha")
    client.force_login(owner)
    response = client.post(reverse("leads:create"), {
        "customer_name": "Ravi Kumar", "mobile": "98290 12345", "car_registration": "",
        "status": "open", "followup_date": "2030-12-01T16:30", "remarks": ""})
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert _changes(lead) == [("created", "", "", "Ravi Kumar (9829012345)", "asha", "page")]
    change = LeadChange.objects.get()
    assert change.changed_at == lead.modified_at


def test_deleting_in_admin_is_recorded_and_kept_after_the_lead_is_gone(staff_client):
    lead = _lead(customer_name="Ravi", mobile="9829012345")
    response = staff_client.post(reverse("admin:leads_lead_delete", args=[lead.pk]),
                                 {"post": "yes"})
    assert response.status_code == 302
    assert Lead.objects.count() == 0
    assert _changes() == [("deleted", "", "Ravi (9829012345)", "", "boss", "admin")]
    assert LeadChange.objects.get().lead_id == lead.pk


def test_the_admin_delete_action_records_each_lead(staff_client):
    leads = [_lead(customer_name=f"L{n}", mobile=f"98290000{n:02d}") for n in range(3)]
    response = staff_client.post(CHANGELIST, {
        "action": "delete_selected", "_selected_action": [lead.pk for lead in leads],
        "post": "yes"})
    assert response.status_code == 302
    assert sorted(_changes()) == [
        ("deleted", "", f"L{n} (98290000{n:02d})", "", "boss", "admin") for n in range(3)]


# --- the product's pages ---------------------------------------------------------------

def test_the_edit_page_records_status_and_the_remark_line_not_the_followup(client):
    owner = UserFactory(username="asha")
    lead = _lead(creator=owner, remarks="Called once", status=LeadStatus.NEEDS_FOLLOWUP)
    client.force_login(owner)
    response = client.post(reverse("leads:edit", args=[lead.pk]), {
        "status": "confirmed", "followup_date": "2030-12-01T16:30", "remark": "Coming Monday",
        "modified_token": lead.modified_at.isoformat()})
    assert response.status_code == 302
    (status, remark) = _changes(lead)
    assert status == ("changed", "status", "needs_followup", "confirmed", "asha", "page")
    kind, field, old, new, actor, via = remark
    assert (kind, field, old, actor, via) == ("remark_added", "remarks", "", "asha", "page")
    assert new.endswith(" asha: Coming Monday")
    # The follow-up move is the work log's, not duplicated here.
    assert lead.worked.count() == 1


def test_the_quick_update_records_status_and_remark(client):
    owner = UserFactory(username="asha")
    lead = _lead(creator=owner, remarks="")
    client.force_login(owner)
    response = client.post(reverse("leads:quick_update", args=[lead.pk]), {
        "status": "lost", "followup_date": "", "remark": "Went elsewhere", "next": "/"})
    assert response.status_code == 302
    assert [c[:2] + c[4:] for c in _changes(lead)] == [
        ("changed", "status", "asha", "page"), ("remark_added", "remarks", "asha", "page")]


def test_a_save_that_changes_nothing_tracked_records_nothing():
    lead = _lead()
    with history.acting_as(UserFactory()):
        services.lead_update(lead=lead, user=lead.creator, changes={
            "followup_date": timezone.now() + timedelta(days=3)})
        services.leads_reassign(leads=Lead.objects.all(), creator=UserFactory())
    # Follow-ups are the work log's; owner changes get their own history.
    assert _changes() == []


# --- admin ------------------------------------------------------------------------------

def test_an_admin_edit_records_each_field_and_a_remarks_correction(staff_client):
    lead = _lead(customer_name="Ravi", mobile="9829012345", car_registration="RJ14AB1234",
                 remarks="Line one\nLine two", followup_date=datetime(2030, 1, 1, tzinfo=IST))
    local = timezone.localtime(lead.followup_date)
    response = staff_client.post(reverse("admin:leads_lead_change", args=[lead.pk]), {
        "customer_name": "Ravi Kumar", "mobile": "98290 54321", "car_registration": "rj14 ab 2345",
        "status": "open", "followup_date_0": f"{local:%Y-%m-%d}",
        "followup_date_1": f"{local:%H:%M:%S}", "remarks": "Line one", "creator": lead.creator_id})
    assert response.status_code == 302
    assert _changes(lead) == [
        ("changed", "customer_name", "Ravi", "Ravi Kumar", "boss", "admin"),
        ("changed", "mobile", "9829012345", "9829054321", "boss", "admin"),
        ("changed", "car_registration", "RJ14AB1234", "RJ14AB2345", "boss", "admin"),
        ("changed", "status", "needs_followup", "open", "boss", "admin"),
        ("changed", "remarks", "Line one\nLine two", "Line one", "boss", "admin"),
    ]


def test_the_admin_status_action_records_every_lead(staff_client):
    leads = [_lead(status=LeadStatus.OPEN) for _ in range(3)]
    response = staff_client.post(CHANGELIST, {
        "action": "set_status", "_selected_action": [lead.pk for lead in leads], "index": 0,
        "status": "confirmed"})
    assert response.status_code == 302
    assert _changes() == [("changed", "status", "open", "confirmed", "boss", "admin")] * 3
    assert sorted(LeadChange.objects.values_list("lead_id", flat=True)) == sorted(
        lead.pk for lead in leads)


# --- bulk paths -----------------------------------------------------------------------------

def test_a_bulk_update_records_every_row_as_the_acting_user():
    leads = [_lead(status=LeadStatus.OPEN) for _ in range(4)]
    actor = UserFactory(username="importer")
    with history.acting_as(actor, via=history.VIA_IMPORT):
        changed = Lead.objects.filter(pk__in=[lead.pk for lead in leads[:3]]).update(
            status=LeadStatus.LOST)
    assert changed == 3
    assert _changes() == [("changed", "status", "open", "lost", "importer", "import")] * 3


def test_bulk_update_and_bulk_create_records_in_bulk_not_per_row():
    """The statements a bulk write issues do not grow with its rows."""
    def statements(n):
        leads = [_lead(status=LeadStatus.OPEN) for _ in range(n)]
        with CaptureQueriesContext(connection) as update:
            Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(status="confirmed")
        owner = UserFactory()
        with CaptureQueriesContext(connection) as create:
            Lead.objects.bulk_create([
                Lead(creator=owner, customer_name=f"N{i}", mobile=f"97{n:02d}{i:06d}")
                for i in range(n)])
        recorded = (LeadChange.objects.filter(kind="changed", new_value="confirmed").count(),
                    LeadChange.objects.filter(kind="created").count())
        assert recorded == (n, n)
        return len(update), len(create)

    assert statements(1) == statements(40)


def test_bulk_create_records_each_new_lead_with_the_actor():
    owner = UserFactory(username="asha")
    with history.acting_as(owner, via=history.VIA_IMPORT):
        Lead.objects.bulk_create([
            Lead(creator=owner, customer_name="A", mobile="9829000001"),
            Lead(creator=owner, customer_name="B", mobile="9829000002"),
        ])
    assert _changes() == [("created", "", "", "A (9829000001)", "asha", "import"),
                          ("created", "", "", "B (9829000002)", "asha", "import")]


def test_bulk_update_through_bulk_update_is_recorded():
    leads = [_lead(customer_name=f"Old {n}") for n in range(2)]
    for n, lead in enumerate(leads):
        lead.customer_name = f"New {n}"
    Lead.objects.bulk_update(leads, ["customer_name"])
    assert _changes() == [("changed", "customer_name", f"Old {n}", f"New {n}", None, "script")
                          for n in range(2)]


def test_a_command_or_shell_write_is_the_product_without_a_user():
    lead = _lead(status=LeadStatus.OPEN)
    services.leads_set_status(leads=Lead.objects.filter(pk=lead.pk), status="confirmed")
    assert _changes() == [("changed", "status", "open", "confirmed", None, "script")]


# --- outside the product ----------------------------------------------------------------------

def test_sql_straight_into_the_table_is_recorded_as_outside_the_product():
    lead = _lead(status=LeadStatus.OPEN, customer_name="Ravi")
    with history.acting_as(UserFactory(username="asha")), connection.cursor() as cursor:
        cursor.execute("UPDATE leads_lead SET status = 'lost', customer_name = 'R.' "
                       "WHERE id = %s", [lead.pk])
        cursor.execute(
            "INSERT INTO leads_lead (customer_name, mobile, car_registration, remarks, status, "
            "created_at, modified_at, creator_id) VALUES ('Outside', '9829000009', '', '', "
            "'open', %s, %s, %s)", [timezone.now(), timezone.now(), lead.creator_id])
        cursor.execute("DELETE FROM leads_lead WHERE id = %s", [lead.pk])
    assert _changes() == [
        ("changed", "customer_name", "Ravi", "R.", None, "outside"),
        ("changed", "status", "open", "lost", None, "outside"),
        ("created", "", "", "Outside (9829000009)", None, "outside"),
        ("deleted", "", "R. (9829000009)".replace("9829000009", lead.mobile), "", None,
         "outside"),
    ]


def test_a_rolled_back_write_leaves_no_history():
    lead = _lead(status=LeadStatus.OPEN)
    with pytest.raises(services.LeadChangedError):
        services.lead_update(lead=lead, user=lead.creator, changes={"status": "confirmed"},
                             expected_modified_at=lead.modified_at - timedelta(seconds=1))
    assert _changes() == []


def test_the_demo_loader_is_recorded_as_a_script_on_both_backends():
    """PostgreSQL loads by COPY, which carries the stamp columns itself."""
    owner = UserFactory()
    load_leads(rows=generate_lead_rows(count=3, creator_ids=[owner.pk], seed=1))
    assert list(LeadChange.objects.values_list("kind", "via", "actor_id")) == [
        ("created", "script", None)] * 3


def test_managers_read_a_deleted_leads_history_in_admin(client, manager):
    other = _lead()
    lead = _lead(customer_name="Gone", mobile="9829000077")
    gone = lead.pk
    with history.acting_as(manager):
        lead.delete()
    client.force_login(manager)
    changelist = reverse("admin:leads_leadchange_changelist")
    response = client.get(changelist, {"q": str(gone)})
    assert response.status_code == 200
    assert [c.kind for c in response.context["cl"].result_list] == ["deleted"]
    assert "Gone (9829000077)" in response.content.decode()
    # Not an id: nothing, and no scan or error.
    response = client.get(changelist, {"q": "Gone"})
    assert (response.status_code, list(response.context["cl"].result_list)) == (200, [])
    assert other.pk != gone
    assert client.get(reverse("admin:leads_leadchange_add")).status_code == 403
