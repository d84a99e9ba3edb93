"""Recording a call from the quick-update form (due card, work queues)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calls.models import CallLog
from leads.models import Lead, WorkedLead
from tests.dashboard.conftest import TOKEN_STATEMENTS
from tests.factories import CallLogFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
LATER = "2030-12-01T10:00"


def _quick(lead):
    return reverse("leads:quick_update", args=[lead.pk])


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _post(client, lead, **data):
    return client.post(_quick(lead), {"status": lead.status, "next": "/dashboard/", **data})


@pytest.mark.parametrize("outcome", [
    "connected", "no_answer", "busy", "switched_off", "call_back_later"])
def test_an_outcome_with_the_next_follow_up_records_the_call_and_the_move(
        telecaller_client, telecaller, outcome):
    lead = LeadFactory(creator=telecaller, customer_name="Asha Rao", remarks="")
    response = _post(telecaller_client, lead, outcome=outcome, followup_date=LATER,
                     remark="Asked to call later", duration="95")
    assert response.status_code == 302
    call = CallLog.objects.get()
    assert (call.lead, call.user, call.outcome, call.note, call.duration) == (
        lead, telecaller, outcome, "Asked to call later", 95)
    lead.refresh_from_db()
    assert lead.followup_date == datetime(2030, 12, 1, 10, tzinfo=IST)
    assert lead.remarks.endswith(f"{telecaller.username}: Asked to call later")
    assert list(WorkedLead.objects.values_list("kind", flat=True)) == ["moved"]
    assert _messages(response)[0].startswith("Updated Asha Rao: ")
    assert " call recorded; " in _messages(response)[0]


@pytest.mark.parametrize("outcome", ["wrong_number", "not_interested"])
def test_closing_as_lost_with_the_note_as_the_reason(telecaller_client, telecaller, outcome):
    lead = LeadFactory(creator=telecaller, remarks="")
    response = _post(telecaller_client, lead, outcome=outcome, status="lost",
                     followup_date="", remark="Sold the car")
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.remarks.endswith("Sold the car")) == ("lost", True)
    assert list(CallLog.objects.values_list("outcome", "note")) == [(outcome, "Sold the car")]
    assert list(WorkedLead.objects.values_list("kind", flat=True)) == ["closed"]


def test_lost_without_a_reason_records_no_call_either(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, remarks="")
    response = _post(telecaller_client, lead, outcome="not_interested", status="lost",
                     followup_date="", remark="")
    assert response.status_code == 400
    assert _messages(response) == [
        f"{lead.customer_name} not updated. Remark: Give the reason the lead is lost."]
    assert (CallLog.objects.count(), Lead.objects.get().status) == (0, "needs_followup")


def test_an_outcome_alone_needs_the_next_step_of_an_open_lead(telecaller_client, telecaller):
    past = datetime(2026, 11, 20, 11, tzinfo=IST)
    lead = LeadFactory(creator=telecaller, followup_date=past)
    response = _post(telecaller_client, lead, outcome="no_answer",
                     followup_date="2026-11-20T11:00")
    assert response.status_code == 400
    assert CallLog.objects.count() == 0
    assert "Set the next follow-up or close the lead." in _messages(response)[0]


def test_an_outcome_alone_on_a_lead_already_scheduled_later_records_only_the_call(
        telecaller_client, telecaller):
    later = datetime(2030, 12, 1, 10, tzinfo=IST)
    lead = LeadFactory(creator=telecaller, followup_date=later, remarks="")
    modified = lead.modified_at
    response = _post(telecaller_client, lead, outcome="connected", followup_date=LATER)
    assert response.status_code == 302
    assert list(CallLog.objects.values_list("outcome", "note", "duration")) == [
        ("connected", "", None)]
    lead.refresh_from_db()
    assert (lead.modified_at, lead.remarks, WorkedLead.objects.count()) == (modified, "", 0)


def test_no_outcome_records_no_call(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller)
    response = _post(telecaller_client, lead, outcome="", followup_date=LATER, remark="x")
    assert response.status_code == 302
    assert CallLog.objects.count() == 0
    assert " call recorded" not in _messages(response)[0]


@pytest.mark.parametrize(("data", "message"), [
    ({"outcome": "picked_up"},
     "Call outcome: Unknown call outcome: choose one of the buttons."),
    ({"outcome": "connected", "duration": "-1"},
     "Call length (seconds): A call lasts 0 to 14,400 seconds (4 hours); give the length in "
     "seconds."),
    ({"outcome": "connected", "duration": "14401"},
     "Call length (seconds): A call lasts 0 to 14,400 seconds (4 hours); give the length in "
     "seconds."),
    ({"outcome": "connected", "duration": "ten"},
     "Call length (seconds): A call lasts 0 to 14,400 seconds (4 hours); give the length in "
     "seconds."),
    ({"outcome": "", "duration": "60"},
     "Call outcome: Choose the call's outcome to record its length."),
    ({"outcome": "connected", "remark": "x" * 1001},
     "Remark: A remark can have at most 1,000 characters; this one has 1,001. Nothing was "
     "saved."),
])
def test_bad_call_input_saves_nothing_and_keeps_the_rest(telecaller_client, telecaller, data,
                                                         message):
    lead = LeadFactory(creator=telecaller, customer_name="Asha Rao", remarks="kept")
    posted = {"followup_date": LATER, "remark": "Call me at six", **data}
    response = _post(telecaller_client, lead, status="confirmed", **posted)
    assert response.status_code == 400
    assert _messages(response) == [f"Asha Rao not updated. {message}"]
    assert (CallLog.objects.count(), WorkedLead.objects.count()) == (0, 0)
    lead.refresh_from_db()
    assert (lead.status, lead.remarks) == ("needs_followup", "kept")
    # The page shows the form again with what was typed.
    page = response.content.decode()
    assert f'value="{LATER}"' in page
    assert '<option value="confirmed" selected>' in page
    assert f'value="{posted["remark"]}"' in page
    if data.get("duration"):
        assert f'name="duration" min="0" max="14400" step="1" inputmode="numeric" ' \
               f'value="{data["duration"]}"' in page
    if data["outcome"] == "connected":
        assert 'name="outcome" value="connected" checked>' in page


def test_a_failed_update_rolls_the_call_back(telecaller_client, telecaller):
    # The remarks would overflow: the lead's write fails after validation,
    # inside the transaction the call would be written in.
    lead = LeadFactory(creator=telecaller, remarks="x" * 99_990)
    response = _post(telecaller_client, lead, outcome="no_answer", followup_date=LATER,
                     remark="Will come Monday")
    assert response.status_code == 400
    assert CallLog.objects.count() == 0
    assert Lead.objects.get().remarks == "x" * 99_990


def test_opening_the_page_or_tel_link_records_nothing(telecaller_client, telecaller):
    LeadFactory(creator=telecaller, followup_date=datetime.now(IST) + timedelta(minutes=5))
    assert telecaller_client.get(reverse("dashboard:index")).status_code == 200
    assert CallLog.objects.count() == 0


def test_a_telecaller_cannot_record_a_call_on_someone_elses_lead(telecaller_client):
    lead = LeadFactory(creator=UserFactory())
    response = _post(telecaller_client, lead, outcome="connected", followup_date=LATER)
    assert response.status_code == 404
    assert CallLog.objects.count() == 0


def test_a_manager_calling_records_the_manager_as_caller(manager_client, manager, telecaller):
    lead = LeadFactory(creator=telecaller)
    _post(manager_client, lead, outcome="busy", followup_date=LATER)
    call = CallLog.objects.get()
    assert (call.user, call.lead.creator) == (manager, telecaller)


# A real transaction, as in production: inside the test's own transaction the
# request's would be a savepoint (two statements more) and commit nothing.
@pytest.mark.django_db(transaction=True)
def test_recording_a_call_with_its_move_costs_at_most_eight_statements(
        telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, remarks="")
    CallLogFactory(lead=lead)
    with CaptureQueriesContext(connection) as captured:
        response = _post(telecaller_client, lead, outcome="no_answer", followup_date=LATER,
                         remark="No answer again", duration="0")
    assert response.status_code == 302
    assert CallLog.objects.count() == 2
    # Session, user (with the viewer's flags), BEGIN, the lead read locked
    # (once), the update, the work log, the call, COMMIT. The embedded
    # default adds its version tokens' bump, one statement for every scope
    # the commit touched (with Redis, none).
    assert len(captured) <= 8 + TOKEN_STATEMENTS, "\n".join(query["sql"][:90] for query in captured)


@pytest.mark.django_db(transaction=True)
def test_the_budget_holds_while_a_manager_watches_the_team(
        telecaller_client, telecaller, manager_client):
    lead = LeadFactory(creator=telecaller, remarks="")
    manager_client.get(reverse("dashboard:index"))  # today's team view, recently shown
    with CaptureQueriesContext(connection) as captured:
        response = _post(telecaller_client, lead, outcome="no_answer", followup_date=LATER,
                         remark="No answer", duration="0")
    assert response.status_code == 302
    # As above: the team view is recomputed by its next reader, not in this request.
    assert len(captured) <= 8 + TOKEN_STATEMENTS, "\n".join(query["sql"][:90] for query in captured)


# --- the lead's edit page ---------------------------------------------------------


def _edit(lead):
    return reverse("leads:edit", args=[lead.pk])


def _edit_data(lead, **changes):
    return {"status": lead.status, "followup_date": LATER,
            "modified_token": lead.modified_at.isoformat(), **changes}


def test_edit_page_records_a_call_with_its_note(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller, remarks="Wants a quote")
    page = telecaller_client.get(_edit(lead)).content.decode()
    assert f'id="qu-{lead.pk}-outcome-connected" name="outcome" value="connected">' in page
    response = telecaller_client.post(_edit(lead), _edit_data(
        lead, outcome="call_back_later", note="Call after Diwali", duration="30"))
    assert response.status_code == 302
    assert list(CallLog.objects.values_list("outcome", "note", "duration", "user")) == [
        ("call_back_later", "Call after Diwali", 30, telecaller.pk)]


def test_edit_page_without_an_outcome_records_no_call(telecaller_client, telecaller):
    lead = LeadFactory(creator=telecaller)
    response = telecaller_client.post(_edit(lead), _edit_data(lead, note="typed, no outcome"))
    assert response.status_code == 302
    assert CallLog.objects.count() == 0


@pytest.mark.parametrize(("data", "field"), [
    ({"outcome": "answered"}, "outcome"), ({"outcome": "busy", "duration": "99999"}, "duration"),
    ({"outcome": "busy", "note": "n" * 1001}, "note")])
def test_edit_page_bad_call_input_is_a_form_error_and_saves_nothing(
        telecaller_client, telecaller, data, field):
    lead = LeadFactory(creator=telecaller, remarks="kept")
    response = telecaller_client.post(_edit(lead), _edit_data(
        lead, status="confirmed", remark="new line", **data))
    assert response.status_code == 200
    assert list(response.context["call_form"].errors) == [field]
    assert CallLog.objects.count() == 0
    lead.refresh_from_db()
    assert (lead.status, lead.remarks) == ("needs_followup", "kept")
    page = response.content.decode()
    # The remark line typed is offered again (the remarks are append-only).
    assert "\nnew line</textarea>" in page
    assert '<option value="confirmed" selected>' in page
