from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from leads.forms import (
    LeadCreateForm,
    LeadEditForm,
    LeadListFilterForm,
    QuickUpdateForm,
    keep_stored_followup,
)
from tests.factories import LeadFactory

IST = ZoneInfo("Asia/Kolkata")
STORED = datetime(2026, 11, 28, 10, 15, 42, 123456, tzinfo=IST)


@pytest.mark.parametrize(
    ("submitted", "kept"),
    [
        (datetime(2026, 11, 28, 10, 15, tzinfo=IST), STORED),  # echoed to the minute
        (datetime(2026, 11, 28, 10, 15, 42, tzinfo=IST), STORED),  # echoed to the second
        (datetime(2026, 11, 28, 10, 16, tzinfo=IST), datetime(2026, 11, 28, 10, 16, tzinfo=IST)),
        (None, None),
    ],
)
def test_keep_stored_followup(submitted, kept):
    assert keep_stored_followup(submitted, STORED) == kept


def test_keep_stored_followup_without_a_stored_value():
    new = datetime(2026, 11, 28, 10, 15, tzinfo=IST)
    assert keep_stored_followup(new, None) == new


@pytest.mark.django_db
def test_lead_create_form_normalises_through_the_model():
    form = LeadCreateForm({"customer_name": " Asha ", "mobile": "+91 98290-12345",
                           "car_registration": "rj 14 ab 1234", "status": "open",
                           "followup_date": "2026-12-01T16:30", "remarks": ""})
    assert form.is_valid(), form.errors
    assert form.lead_data() == {
        "customer_name": "Asha", "mobile": "9829012345", "car_registration": "RJ14AB1234",
        "status": "open", "followup_date": datetime(2026, 12, 1, 16, 30, tzinfo=IST),
        "remarks": ""}


@pytest.mark.django_db
def test_lead_edit_form_reads_the_followup_in_time_zone_and_parses_the_token():
    lead = LeadFactory()
    form = LeadEditForm({"status": "open", "followup_date": "2030-12-01T00:00", "remark": "",
                         "modified_token": "2026-11-28T05:00:00.123456+00:00"}, instance=lead)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["followup_date"] == datetime(2030, 11, 30, 18, 30,
                                                          tzinfo=ZoneInfo("UTC"))
    assert form.cleaned_data["modified_token"] == datetime(2026, 11, 28, 5, 0, 0, 123456,
                                                           tzinfo=ZoneInfo("UTC"))
    assert form.changes() == {"status": "open",
                              "followup_date": datetime(2030, 12, 1, tzinfo=IST)}


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["", "yesterday", "2026-11-28T05:00:00"])
def test_lead_edit_form_refuses_a_missing_bad_or_naive_token(token):
    form = LeadEditForm({"status": "open", "followup_date": "", "no_followup": "on",
                         "remarks": "", "modified_token": token}, instance=LeadFactory())
    assert form.is_valid() is False
    assert list(form.errors) == ["modified_token"]


@pytest.mark.django_db
def test_quick_update_form_first_error_names_the_field():
    form = QuickUpdateForm({"status": "open", "followup_date": "31-31-2026"}, lead=LeadFactory())
    assert form.is_valid() is False
    assert form.first_error() == "Next follow-up: Enter a date and time, e.g. 2026-11-28 16:30."


@pytest.mark.django_db
def test_quick_update_form_keeps_an_echoed_followup():
    stored = STORED.replace(year=2030)
    lead = LeadFactory(followup_date=stored)
    form = QuickUpdateForm({"status": "open", "followup_date": "2030-11-28T10:15"}, lead=lead)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["followup_date"] == stored


@pytest.mark.django_db
@pytest.mark.parametrize(("q", "valid"), [("+91 98290-12345", True), ("rj14", True), ("", True),
                                          ("a.b", True), ("Ravi-Kumar!", True), ("%_'\\", True),
                                          ("x" * 100, True), ("x" * 101, False)])
def test_lead_list_filter_form_takes_any_term_up_to_100_characters(q, valid):
    form = LeadListFilterForm({"q": q}, show_user_filter=False)
    assert form.is_valid() is valid


@pytest.mark.django_db
def test_lead_list_filter_form_has_a_user_filter_only_for_managers():
    assert "user" in LeadListFilterForm({}, show_user_filter=True).fields
    assert "user" not in LeadListFilterForm({}, show_user_filter=False).fields


# --- the next step: a lead that stays open needs a follow-up later than now -------

NOW = datetime(2026, 11, 28, 10, 15, tzinfo=IST)


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


@pytest.mark.django_db
@pytest.mark.parametrize("followup", ["2026-11-27T18:00", "2026-11-28T10:15", ""],
                         ids=["past", "now", "empty"])
def test_quick_update_form_refuses_an_open_lead_without_a_later_followup(frozen_now, followup):
    form = QuickUpdateForm({"status": "confirmed", "followup_date": followup},
                           lead=LeadFactory(followup_date=None))
    assert form.is_valid() is False
    assert form.first_error() == "Next follow-up: Set the next follow-up or close the lead."


@pytest.mark.django_db
def test_quick_update_form_refuses_the_stored_past_followup_sent_back(frozen_now):
    lead = LeadFactory(followup_date=datetime(2026, 11, 28, 9, 0, 37, tzinfo=IST))
    form = QuickUpdateForm({"status": "did_not_pick_up", "followup_date": "2026-11-28T09:00"},
                           lead=lead)
    assert form.errors == {"followup_date": ["Set the next follow-up or close the lead."]}


@pytest.mark.django_db
def test_quick_update_form_takes_a_followup_a_minute_from_now(frozen_now):
    form = QuickUpdateForm({"status": "confirmed", "followup_date": "2026-11-28T10:16"},
                           lead=LeadFactory())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["followup_date"] == datetime(2026, 11, 28, 10, 16, tzinfo=IST)


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "remark"), [("completed", ""), ("lost", "Sold the car")])
def test_quick_update_form_closes_without_a_followup(frozen_now, status, remark):
    past = datetime(2026, 11, 20, 11, 0, tzinfo=IST)
    form = QuickUpdateForm({"status": status, "followup_date": "2026-11-20T11:00",
                            "remark": remark}, lead=LeadFactory(followup_date=past))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["followup_date"] == past


@pytest.mark.django_db
@pytest.mark.parametrize("followup", ["", "2026-11-20T11:00"])
def test_quick_update_form_no_followup_tick_leaves_the_lead_unscheduled(frozen_now, followup):
    form = QuickUpdateForm({"status": "needs_followup", "followup_date": followup,
                            "no_followup": "on"}, lead=LeadFactory())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["followup_date"] is None


@pytest.mark.django_db
def test_quick_update_form_a_later_followup_wins_over_the_tick(frozen_now):
    form = QuickUpdateForm({"status": "needs_followup", "followup_date": "2026-11-29T10:00",
                            "no_followup": "on"}, lead=LeadFactory())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["followup_date"] == datetime(2026, 11, 29, 10, 0, tzinfo=IST)


@pytest.mark.django_db
@pytest.mark.parametrize(("shortcut", "followup"), [
    ("2h", datetime(2026, 11, 28, 12, 15, tzinfo=IST)),
    ("tomorrow", datetime(2026, 11, 29, 10, 15, tzinfo=IST)),
    ("3d", datetime(2026, 12, 1, 10, 15, tzinfo=IST)),
    ("week", datetime(2026, 12, 5, 10, 15, tzinfo=IST)),
])
def test_quick_update_form_resolves_a_shortcut_server_side(frozen_now, shortcut, followup):
    # The no-JavaScript path: the shortcut is the submit button pressed, and
    # it replaces whatever the field held (here a past value).
    form = QuickUpdateForm({"status": "did_not_pick_up", "followup_date": "2026-11-20T11:00",
                            "followup_shortcut": shortcut}, lead=LeadFactory())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["followup_date"] == followup


@pytest.mark.django_db
def test_quick_update_form_refuses_an_unknown_shortcut():
    form = QuickUpdateForm({"status": "open", "followup_shortcut": "someday"}, lead=LeadFactory())
    assert form.errors["followup_shortcut"] == ["Unknown follow-up shortcut."]


def _edit_form(lead, **data):
    return LeadEditForm({"status": lead.status, "followup_date": "", "remarks": lead.remarks,
                         "modified_token": lead.modified_at.isoformat(), **data}, instance=lead)


@pytest.mark.django_db
def test_lead_edit_form_refuses_the_stored_past_followup_unchanged(frozen_now):
    lead = LeadFactory(followup_date=datetime(2026, 11, 27, 16, 30, tzinfo=IST))
    form = _edit_form(lead, followup_date="2026-11-27T16:30", remarks="Called")
    assert form.errors == {"followup_date": ["Set the next follow-up or close the lead."]}


@pytest.mark.django_db
def test_lead_edit_form_closes_with_a_past_followup(frozen_now):
    lead = LeadFactory(followup_date=datetime(2026, 11, 27, 16, 30, tzinfo=IST))
    form = _edit_form(lead, status="completed", followup_date="2026-11-27T16:30")
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_lead_edit_form_resolves_a_shortcut(frozen_now):
    form = _edit_form(LeadFactory(followup_date=None), followup_shortcut="tomorrow")
    assert form.is_valid(), form.errors
    assert form.changes()["followup_date"] == datetime(2026, 11, 29, 10, 15, tzinfo=IST)


@pytest.mark.django_db
def test_lead_edit_form_ticks_no_followup_for_an_unscheduled_open_lead():
    assert LeadEditForm(instance=LeadFactory(followup_date=None))["no_followup"].initial is True
    assert LeadEditForm(instance=LeadFactory(followup_date=NOW))["no_followup"].initial is False
    closed = LeadFactory(followup_date=None, status="completed")
    assert LeadEditForm(instance=closed)["no_followup"].initial is False
