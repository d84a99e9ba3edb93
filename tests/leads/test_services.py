from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services
from leads.models import REMARK_MAX_CHARS, REMARKS_MAX_CHARS, Lead, LeadStatus, WorkedLead
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
UTC = ZoneInfo("UTC")


@pytest.fixture
def frozen_now(monkeypatch):
    """Pin timezone.now(): 2026-11-28 19:00 UTC is already 00:30 on the 29th in IST."""
    now = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    return now


def test_lead_create_validates_and_normalises():
    user = UserFactory()
    lead = services.lead_create(creator=user, customer_name=" Asha ", mobile="098290 12345",
                                car_registration="rj14 ab 1234")
    lead.refresh_from_db()
    assert (lead.customer_name, lead.mobile, lead.car_registration, lead.status) == (
        "Asha", "9829012345", "RJ14AB1234", "needs_followup")
    assert WorkedLead.objects.count() == 0


def test_lead_update_records_a_moved_followup_on_todays_business_day(frozen_now):
    old = datetime(2026, 11, 28, 18, 0, tzinfo=IST)
    new = datetime(2026, 12, 1, 10, 30, tzinfo=IST)
    lead = LeadFactory(followup_date=old)
    user = UserFactory(username="caller")
    saved = services.lead_update(lead=lead, user=user, changes={"followup_date": new})
    assert (saved.followup_date, saved.modified_at) == (new, frozen_now)
    worked = WorkedLead.objects.get()
    assert (worked.lead_id, worked.user, worked.work_date, worked.old_followup_date,
            worked.new_followup_date, worked.worked_at) == (
        lead.pk, user, date(2026, 11, 29), old, new, frozen_now)


def test_lead_update_clearing_the_followup_is_recorded():
    old = datetime(2026, 11, 28, 18, 0, tzinfo=IST)
    lead = LeadFactory(followup_date=old)
    services.lead_update(lead=lead, user=lead.creator, changes={"followup_date": None})
    worked = WorkedLead.objects.get()
    assert (worked.old_followup_date, worked.new_followup_date) == (old, None)


@pytest.mark.parametrize("changes", [{"remarks": "Called, busy"}, {"status": "open"},
                                     {"remarks": "x", "status": "confirmed"}])
def test_lead_update_without_a_followup_change_records_nothing(changes):
    followup = datetime(2026, 11, 28, 18, 0, 5, 999, tzinfo=IST)
    lead = LeadFactory(followup_date=followup)
    services.lead_update(lead=lead, user=lead.creator,
                         changes={**changes, "followup_date": followup})
    lead.refresh_from_db()
    assert {name: getattr(lead, name) for name in changes} == changes
    assert WorkedLead.objects.count() == 0


def test_lead_update_refuses_a_stale_token_and_writes_nothing():
    lead = LeadFactory(remarks="theirs", followup_date=None)
    opened_at = lead.modified_at
    services.lead_update(lead=lead, user=lead.creator, changes={"remarks": "newer"})
    with pytest.raises(services.LeadChangedError) as excinfo:
        services.lead_update(lead=lead, user=lead.creator, expected_modified_at=opened_at,
                             changes={"remarks": "mine",
                                      "followup_date": datetime(2027, 1, 1, tzinfo=IST)})
    assert excinfo.value.lead.remarks == "newer"
    lead.refresh_from_db()
    assert (lead.remarks, lead.followup_date) == ("newer", None)
    assert WorkedLead.objects.count() == 0


def test_lead_update_writes_with_a_conditional_update():
    lead = LeadFactory()
    with CaptureQueriesContext(connection) as queries:
        services.lead_update(lead=lead, user=lead.creator, changes={"remarks": "x"},
                             expected_modified_at=lead.modified_at)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    where = updates[0].split("WHERE", 1)[1]
    assert '"leads_lead"."id"' in where and '"leads_lead"."modified_at"' in where


def test_lead_update_with_nothing_changed_writes_nothing():
    lead = LeadFactory(status=LeadStatus.OPEN)
    before = lead.modified_at
    services.lead_update(lead=lead, user=lead.creator, changes={"status": "open"})
    lead.refresh_from_db()
    assert lead.modified_at == before


def test_lead_update_validates_the_changed_fields():
    lead = LeadFactory(mobile="9829012345")
    with pytest.raises(ValidationError) as excinfo:
        services.lead_update(lead=lead, user=lead.creator, changes={"mobile": "123"})
    assert list(excinfo.value.message_dict) == ["mobile"]
    lead.refresh_from_db()
    assert lead.mobile == "9829012345"


def test_lead_update_normalises_a_changed_mobile():
    lead = LeadFactory()
    saved = services.lead_update(lead=lead, user=lead.creator,
                                 changes={"mobile": "+91 70000-00001"})
    lead.refresh_from_db()
    assert (saved.mobile, lead.mobile) == ("7000000001", "7000000001")


def test_lead_quick_update_appends_a_dated_remark(frozen_now):
    user = UserFactory(username="caller")
    lead = LeadFactory(creator=user, remarks="Asked for price", followup_date=None)
    new = datetime(2026, 11, 30, 10, 0, tzinfo=IST)
    saved = services.lead_quick_update(lead=lead, user=user, status="confirmed",
                                       followup_date=new, remark="  Will come Monday ")
    lead.refresh_from_db()
    assert lead.remarks == "Asked for price\n29 Nov 2026 00:30 caller: Will come Monday"
    assert (lead.status, lead.followup_date, saved.followup_date) == ("confirmed", new, new)
    assert WorkedLead.objects.get().work_date == date(2026, 11, 29)


def test_lead_quick_update_first_remark_and_blank_remark(frozen_now):
    user = UserFactory(username="caller")
    empty = LeadFactory(creator=user, remarks="")
    kept = LeadFactory(creator=user, remarks="keep me")
    services.lead_quick_update(lead=empty, user=user, status="open",
                               followup_date=empty.followup_date, remark="First call")
    services.lead_quick_update(lead=kept, user=user, status="open",
                               followup_date=kept.followup_date, remark="   ")
    empty.refresh_from_db()
    kept.refresh_from_db()
    assert (empty.remarks, kept.remarks) == ("29 Nov 2026 00:30 caller: First call", "keep me")
    assert WorkedLead.objects.count() == 0


def test_lead_quick_update_reads_remarks_under_the_lock():
    lead = LeadFactory(remarks="one")
    Lead.objects.filter(pk=lead.pk).update(remarks="one\ntwo")  # `lead` is now stale
    services.lead_quick_update(lead=lead, user=lead.creator, status=lead.status,
                               followup_date=lead.followup_date, remark="three")
    lead.refresh_from_db()
    assert lead.remarks.split("\n")[:2] == ["one", "two"]
    assert lead.remarks.split("\n")[2].endswith(f"{lead.creator.username}: three")


REMARKS_FULL = ("The remarks (the lead's call log) can hold at most 100,000 characters; with "
                "this change they would have {}. Nothing was saved: shorten the remarks first.")


def test_lead_create_refuses_remarks_over_the_limit():
    with pytest.raises(ValidationError) as excinfo:
        services.lead_create(creator=UserFactory(), customer_name="Asha", mobile="9829012345",
                             remarks="x" * (REMARKS_MAX_CHARS + 1))
    assert excinfo.value.messages == [REMARKS_FULL.format("100,001")]
    assert Lead.objects.count() == 0


def test_lead_update_refuses_remarks_over_the_limit_and_keeps_the_stored_ones():
    lead = LeadFactory(remarks="kept")
    with pytest.raises(ValidationError) as excinfo:
        services.lead_update(lead=lead, user=lead.creator,
                             changes={"remarks": "x" * (REMARKS_MAX_CHARS + 1), "status": "open"})
    assert excinfo.value.messages == [REMARKS_FULL.format("100,001")]
    lead.refresh_from_db()
    assert (lead.remarks, lead.status) == ("kept", "needs_followup")


def test_lead_quick_update_refuses_a_remark_that_would_overfill_the_log(frozen_now):
    user = UserFactory(username="caller")
    stored = "x" * (REMARKS_MAX_CHARS - 30)
    lead = LeadFactory(creator=user, remarks=stored)
    # The new line: "29 Nov 2026 00:30 caller: " (26 characters) and the remark.
    with pytest.raises(ValidationError) as excinfo:
        services.lead_quick_update(lead=lead, user=user, status="open",
                                   followup_date=lead.followup_date, remark="Will come Monday")
    assert excinfo.value.messages == [REMARKS_FULL.format("100,013")]
    lead.refresh_from_db()
    assert (lead.remarks, lead.status) == (stored, "needs_followup")


def test_lead_quick_update_refuses_a_remark_over_its_limit():
    lead = LeadFactory(remarks="")
    with pytest.raises(ValidationError) as excinfo:
        services.lead_quick_update(lead=lead, user=lead.creator, status="open",
                                   followup_date=None, remark="x" * (REMARK_MAX_CHARS + 1))
    assert excinfo.value.messages == [
        "A remark can have at most 1,000 characters; this one has 1,001. Nothing was saved."]
    lead.refresh_from_db()
    assert (lead.remarks, lead.status) == ("", "needs_followup")


def test_a_log_stored_over_the_limit_is_never_cut_and_still_takes_status_updates():
    lead = LeadFactory(remarks="")
    legacy = "x" * (REMARKS_MAX_CHARS + 500)  # stored before the limit existed
    Lead.objects.filter(pk=lead.pk).update(remarks=legacy)
    services.lead_quick_update(lead=lead, user=lead.creator, status="open", followup_date=None)
    with pytest.raises(ValidationError):
        services.lead_quick_update(lead=lead, user=lead.creator, status="confirmed",
                                   followup_date=None, remark="one more")
    lead.refresh_from_db()
    assert (lead.remarks, lead.status) == (legacy, "open")


def test_lead_update_refuses_an_inactive_new_owner():
    lead = LeadFactory()
    gone = UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationError) as excinfo:
        services.lead_update(lead=lead, user=lead.creator, changes={"creator": gone})
    assert excinfo.value.messages == [
        "gone is inactive and cannot own leads: choose an active user."]
    lead.refresh_from_db()
    assert lead.creator != gone


# --- the work log's kinds ------------------------------------------------------------


def _log():
    return list(WorkedLead.objects.order_by("id").values_list(
        "kind", "lead_id", "user__username", "work_date", "old_followup_date",
        "new_followup_date", "worked_at"))


@pytest.mark.parametrize("status", [LeadStatus.COMPLETED, LeadStatus.LOST])
def test_closing_a_lead_records_a_closed_row_at_its_followup(frozen_now, status):
    followup = datetime(2026, 11, 29, 11, 0, tzinfo=IST)
    lead = LeadFactory(followup_date=followup, status=LeadStatus.CONFIRMED)
    user = UserFactory(username="caller")
    services.lead_update(lead=lead, user=user, changes={"status": status})
    assert _log() == [("closed", lead.pk, "caller", date(2026, 11, 29), followup, followup,
                       frozen_now)]


def test_quick_update_that_closes_records_one_closed_row(frozen_now):
    followup = datetime(2026, 11, 29, 11, 0, tzinfo=IST)
    lead = LeadFactory(followup_date=followup)
    services.lead_quick_update(lead=lead, user=lead.creator, status=LeadStatus.LOST,
                               followup_date=followup, remark="Sold the car")
    assert [row[0] for row in _log()] == ["closed"]


def test_closing_and_moving_in_one_save_is_one_closed_row_old_to_new(frozen_now):
    old = datetime(2026, 11, 29, 11, 0, tzinfo=IST)
    lead = LeadFactory(followup_date=old)
    services.lead_update(lead=lead, user=lead.creator,
                         changes={"status": LeadStatus.COMPLETED, "followup_date": None})
    assert [(row[0], row[4], row[5]) for row in _log()] == [("closed", old, None)]


def test_closing_a_lead_without_a_followup_is_still_logged(frozen_now):
    lead = LeadFactory(followup_date=None, status=LeadStatus.OPEN)
    services.lead_update(lead=lead, user=lead.creator, changes={"status": LeadStatus.LOST})
    assert [(row[0], row[3], row[4], row[5]) for row in _log()] == [
        ("closed", date(2026, 11, 29), None, None)]


@pytest.mark.parametrize(("before", "after"), [
    (LeadStatus.COMPLETED, LeadStatus.LOST),   # already closed
    (LeadStatus.LOST, LeadStatus.OPEN),        # reopened, follow-up untouched
    (LeadStatus.OPEN, LeadStatus.FEEDBACK),    # not closing
])
def test_status_changes_that_do_not_close_log_nothing(before, after):
    lead = LeadFactory(status=before)
    services.lead_update(lead=lead, user=lead.creator, changes={"status": after})
    assert _log() == []


def test_moving_the_followup_is_a_moved_row():
    lead = LeadFactory()
    services.lead_update(lead=lead, user=lead.creator,
                         changes={"followup_date": datetime(2027, 1, 1, tzinfo=IST)})
    assert [row[0] for row in _log()] == ["moved"]


def test_leads_set_status_logs_the_leads_it_closes_for_the_user(frozen_now):
    followup = datetime(2026, 12, 2, 10, 0, tzinfo=IST)
    closing = LeadFactory(followup_date=followup, status=LeadStatus.OPEN)
    unscheduled = LeadFactory(followup_date=None, status=LeadStatus.CONFIRMED)
    already = LeadFactory(status=LeadStatus.COMPLETED)
    LeadFactory(status=LeadStatus.OPEN)  # not selected
    boss = UserFactory(username="boss")
    selected = Lead.objects.filter(pk__in=[closing.pk, unscheduled.pk, already.pk])
    assert services.leads_set_status(leads=selected, status=LeadStatus.LOST, user=boss) == 3
    assert _log() == [
        ("closed", closing.pk, "boss", date(2026, 11, 29), followup, followup, frozen_now),
        ("closed", unscheduled.pk, "boss", date(2026, 11, 29), None, None, frozen_now),
    ]
    assert sorted(Lead.objects.values_list("status", flat=True)) == [
        "lost", "lost", "lost", "open"]


def test_leads_set_status_without_a_user_or_not_closing_logs_nothing():
    leads = LeadFactory.create_batch(2, status=LeadStatus.OPEN)
    services.leads_set_status(leads=Lead.objects.filter(pk=leads[0].pk),
                              status=LeadStatus.COMPLETED)
    services.leads_set_status(leads=Lead.objects.filter(pk=leads[1].pk),
                              status=LeadStatus.CONFIRMED, user=leads[1].creator)
    assert _log() == []
