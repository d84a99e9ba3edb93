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
    form = LeadEditForm({"status": "open", "followup_date": "2026-12-01T00:00", "remarks": "",
                         "modified_token": "2026-11-28T05:00:00.123456+00:00"}, instance=lead)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["followup_date"] == datetime(2026, 11, 30, 18, 30,
                                                          tzinfo=ZoneInfo("UTC"))
    assert form.cleaned_data["modified_token"] == datetime(2026, 11, 28, 5, 0, 0, 123456,
                                                           tzinfo=ZoneInfo("UTC"))
    assert form.changes() == {"status": "open", "remarks": "",
                              "followup_date": datetime(2026, 12, 1, tzinfo=IST)}


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["", "yesterday", "2026-11-28T05:00:00"])
def test_lead_edit_form_refuses_a_missing_bad_or_naive_token(token):
    form = LeadEditForm({"status": "open", "followup_date": "", "remarks": "",
                         "modified_token": token}, instance=LeadFactory())
    assert form.is_valid() is False
    assert list(form.errors) == ["modified_token"]


@pytest.mark.django_db
def test_quick_update_form_first_error_names_the_field():
    form = QuickUpdateForm({"status": "open", "followup_date": "31-31-2026"}, lead=LeadFactory())
    assert form.is_valid() is False
    assert form.first_error() == "Next follow-up: Enter a date and time, e.g. 2026-11-28 16:30."


@pytest.mark.django_db
def test_quick_update_form_keeps_an_echoed_followup():
    lead = LeadFactory(followup_date=STORED)
    form = QuickUpdateForm({"status": "open", "followup_date": "2026-11-28T10:15"}, lead=lead)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["followup_date"] == STORED


@pytest.mark.django_db
@pytest.mark.parametrize(("q", "valid"), [("+91 98290-12345", True), ("rj14", True), ("", True),
                                          ("a.b", False), ("Ravi-Kumar!", False)])
def test_lead_list_filter_form_accepts_only_searchable_terms(q, valid):
    form = LeadListFilterForm({"q": q}, show_user_filter=False)
    assert form.is_valid() is valid


@pytest.mark.django_db
def test_lead_list_filter_form_has_a_user_filter_only_for_managers():
    assert "user" in LeadListFilterForm({}, show_user_filter=True).fields
    assert "user" not in LeadListFilterForm({}, show_user_filter=False).fields
