import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from leads.models import REMARKS_MAX_CHARS, Lead, LeadStatus, WorkedLead
from tests.factories import LeadFactory, UserFactory, WorkedLeadFactory

pytestmark = pytest.mark.django_db

DASHBOARD_INDEXES = {
    "lead_creator_followup_idx": ["creator_id", "followup_date"],
    "lead_followup_idx": ["followup_date"],
    "lead_status_created_idx": ["status", "created_at"],
    "lead_created_idx": ["created_at"],
    "lead_creator_created_idx": ["creator_id", "created_at"],
    "lead_mobile_idx": ["mobile"],
    "lead_registration_idx": ["car_registration"],
    "lead_not_closed_followup_idx": ["creator_id", "followup_date"],
}


def test_lead_save_stores_normalised_mobile_and_registration():
    lead = LeadFactory(mobile="+91 98290-12345", car_registration="rj 14 ab 1234",
                       customer_name="  Asha Rao ")
    lead.refresh_from_db()
    assert (lead.mobile, lead.car_registration, lead.customer_name) == (
        "9829012345", "RJ14AB1234", "Asha Rao")


def test_lead_save_refuses_an_invalid_mobile():
    user = UserFactory()
    with pytest.raises(ValidationError):
        Lead.objects.create(creator=user, customer_name="X", mobile="12345")
    assert Lead.objects.count() == 0


def test_lead_full_clean_reports_each_bad_field():
    lead = Lead(creator=UserFactory(), customer_name="   ", mobile="555", car_registration="XX",
                status="won")
    with pytest.raises(ValidationError) as excinfo:
        lead.full_clean()
    assert sorted(excinfo.value.message_dict) == [
        "car_registration", "customer_name", "mobile", "status"]


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200c\u200d", "\u2060\ufeff",
                                  " \u200b\t", "\u3164"])
def test_lead_full_clean_refuses_a_name_of_invisible_characters(name):
    lead = Lead(creator=UserFactory(), customer_name=name, mobile="9829012345")
    with pytest.raises(ValidationError) as excinfo:
        lead.full_clean()
    assert excinfo.value.message_dict == {"customer_name": [
        "Enter the customer's name: this one has only invisible characters "
        "(such as zero-width spaces)."]}


def test_lead_full_clean_refuses_remarks_over_the_limit_and_accepts_the_limit():
    lead = Lead(creator=UserFactory(), customer_name="Asha", mobile="9829012345",
                remarks="x" * REMARKS_MAX_CHARS)
    lead.full_clean()
    lead.remarks += "y"
    with pytest.raises(ValidationError) as excinfo:
        lead.full_clean()
    assert excinfo.value.message_dict == {"remarks": [
        "The remarks (the lead's call log) can hold at most 100,000 characters; with this "
        "change they would have 100,001. Nothing was saved: shorten the remarks first."]}


def test_status_check_constraint_refuses_a_bad_value_in_the_database():
    lead = LeadFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(status="won")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEEDS_FOLLOWUP


def test_status_stored_values_are_the_contract():
    assert LeadStatus.values == [
        "did_not_pick_up", "needs_followup", "confirmed", "open", "completed", "feedback",
        "lost"]
    assert LeadStatus.LOST.label == "Lost"
    assert Lead._meta.get_field("status").default == "needs_followup"


def test_status_check_constraint_takes_lost():
    lead = LeadFactory()
    Lead.objects.filter(pk=lead.pk).update(status="lost")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.LOST


def test_closed_and_not_closed_split_on_completed_and_lost():
    by_status = {status: LeadFactory(status=status) for status in LeadStatus.values}
    closed = sorted(Lead.objects.closed().values_list("status", flat=True))
    not_closed = sorted(Lead.objects.not_closed().values_list("status", flat=True))
    assert closed == ["completed", "lost"]
    assert not_closed == ["confirmed", "did_not_pick_up", "feedback", "needs_followup", "open"]
    assert len(by_status) == 7


def test_work_kind_values_and_the_database_default():
    assert WorkedLead._meta.get_field("kind").choices == [
        ("moved", "Follow-up moved"), ("closed", "Lead closed"),
        ("rescheduled", "Rescheduled by a manager")]
    lead = LeadFactory()
    # A loader that does not know the column (raw SQL) stores a move.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO leads_workedlead (lead_id, user_id, work_date, worked_at) "
            "VALUES (%s, %s, %s, %s)",
            [lead.pk, lead.creator_id, "2024-05-10", "2024-05-10 10:00:00+00:00"],
        )
    assert list(WorkedLead.objects.values_list("kind", flat=True)) == ["moved"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL catalogue")
def test_check_constraints_added_not_valid_end_up_validated():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, convalidated FROM pg_constraint "
            "WHERE conname IN ('lead_status_valid', 'worked_kind_valid') ORDER BY conname")
        assert cursor.fetchall() == [("lead_status_valid", True), ("worked_kind_valid", True)]


def test_work_kind_check_constraint_refuses_a_bad_value_in_the_database():
    worked = WorkedLeadFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkedLead.objects.filter(pk=worked.pk).update(kind="called")
    worked.refresh_from_db()
    assert worked.kind == "moved"


def test_dashboard_indexes_exist_after_migrate():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "leads_lead")
    indexes = {name: c["columns"] for name, c in constraints.items() if c["index"]}
    for name, columns in DASHBOARD_INDEXES.items():
        assert indexes.get(name) == columns, name
    # No redundant single-column creator index beside the composites.
    assert [name for name, cols in indexes.items() if cols == ["creator_id"]] == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL catalogue")
def test_search_indexes_use_pattern_ops_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'leads_lead' "
            "AND indexname IN ('lead_mobile_idx', 'lead_registration_idx') ORDER BY indexname")
        rows = cursor.fetchall()
    assert [name for name, _ in rows] == ["lead_mobile_idx", "lead_registration_idx"]
    assert all("varchar_pattern_ops" in definition for _, definition in rows)


def test_managers_group_has_the_dashboard_lead_and_unlock_permissions():
    from django.contrib.auth.models import Group

    managers = Group.objects.get(name="Managers")
    codenames = sorted(managers.permissions.values_list("codename", flat=True))
    assert codenames == ["add_whatsapptemplate", "change_lead", "change_whatsapptemplate",
                         "delete_loginlockout", "delete_whatsapptemplate", "view_lead",
                         "view_leadchange", "view_loginlockout", "view_team_dashboard",
                         "view_whatsappsend", "view_whatsapptemplate"]


def test_manager_factory_user_has_team_dashboard_permission(manager, telecaller):
    assert manager.has_perm("leads.view_team_dashboard") is True
    assert telecaller.has_perm("leads.view_team_dashboard") is False


def test_migrations_match_the_models():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


# --- LeadQuerySet.search / visible_to / with_mobile ---------------------------------

def _search(term, **kwargs):
    return sorted(Lead.objects.search(term, **kwargs).values_list("customer_name", flat=True))


def test_search_by_mobile_in_any_format_or_its_prefix():
    LeadFactory(customer_name="wanted", mobile="9829012345")
    LeadFactory(customer_name="other", mobile="9929012345")
    assert _search("+91 98290-12345") == ["wanted"]
    assert _search("098290") == ["wanted"]
    assert _search("12345") == []  # the middle of a number is not a prefix


def test_search_by_registration_prefix():
    LeadFactory(customer_name="rj", car_registration="RJ14AB1234")
    LeadFactory(customer_name="dl", car_registration="DL3CAF0001")
    assert _search("rj 14-a") == ["rj"]
    assert _search("dl") == ["dl"]


def test_search_names_by_word_prefix_or_inside_them_in_admin():
    LeadFactory(customer_name="Sunita Sharma", car_registration="DL3CAF0001")
    assert _search("sharma") == ["Sunita Sharma"]
    assert _search("harma") == []
    assert _search("harma", names=True) == ["Sunita Sharma"]
    assert _search("Mr. Sharma!") == []  # "mr" begins no word of the name
    assert _search("  ") == ["Sunita Sharma"]


def test_search_is_a_prefix_match_in_sql():
    mobile_sql = str(Lead.objects.search("+91 98290-12345").query)
    registration_sql = str(Lead.objects.search("rj14").query)
    assert "LIKE 9829012345%" in mobile_sql
    assert "LIKE RJ14%" in registration_sql
    assert "%9829012345" not in mobile_sql and "%RJ14" not in registration_sql


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner")
@pytest.mark.parametrize(("term", "index"), [("98290", "lead_mobile_idx"),
                                             ("RJ14", "lead_registration_idx")])
def test_search_is_answered_through_its_index_on_postgresql(term, index):
    LeadFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = Lead.objects.search(term).explain()
    assert index in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner")
def test_overdue_queue_first_page_is_an_index_range_scan_on_postgresql(telecaller):
    today = timezone.localdate()
    LeadFactory.create_batch(3, creator=telecaller,
                             followup_date=timezone.now() - timedelta(days=3))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = Lead.objects.owned_by(telecaller).due_queue("overdue", day=today)[:51].explain()
    # A range on (creator_id, followup_date) in the not-closed partial index:
    # only the owner's overdue leads are read, never their closed ones or
    # the whole table (the pk tie-break is sorted within that range).
    assert re.search(
        r"Index Scan using lead_not_closed_followup_idx on leads_lead.*\n\s*Index Cond: "
        r"\(\(creator_id = \d+\) AND \(followup_date < ", plan)


def test_visible_to_gives_managers_everything_and_others_their_own(manager, telecaller):
    own = LeadFactory(creator=telecaller)
    other = LeadFactory()
    assert list(Lead.objects.visible_to(telecaller)) == [own]
    assert sorted(lead.pk for lead in Lead.objects.visible_to(manager)) == [own.pk, other.pk]


def test_with_mobile_normalises_its_argument():
    lead = LeadFactory(mobile="9829012345")
    LeadFactory(mobile="9829012346")
    assert list(Lead.objects.with_mobile("+91 98290 12345")) == [lead]
