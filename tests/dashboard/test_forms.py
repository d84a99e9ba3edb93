from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from dashboard.forms import DashboardForm

pytestmark = pytest.mark.django_db

TEAM = [{"id": 7, "username": "asha"}, {"id": 9, "username": "ravi"}]


def _manager_form(data):
    return DashboardForm(data, viewer=None, active_users=TEAM)


def test_dashboard_form_defaults_to_today_in_time_zone_page_one_and_team(monkeypatch):
    # 20:00 UTC on the 9th is 01:30 on the 10th in Asia/Kolkata.
    utc_evening = datetime(2024, 5, 9, 20, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: utc_evening)
    form = _manager_form({})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"date": date(2024, 5, 10), "user": None, "page": 1,
                                 "team_page": 1}


def test_dashboard_form_manager_picks_an_active_user():
    form = _manager_form({"date": "2024-05-10", "user": "9", "page": "3", "team_page": "2"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "date": date(2024, 5, 10), "user": {"id": 9, "username": "ravi"}, "page": 3,
        "team_page": 2}


@pytest.mark.parametrize("value", ["2000-01-01", "2100-12-31"])
def test_dashboard_form_accepts_the_first_and_last_day(value):
    form = _manager_form({"date": value})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["date"] == date.fromisoformat(value)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"date": "2024-02-30"}, {"date": ["Enter a real date as YYYY-MM-DD."]}),
        ({"date": "10/05/2024"}, {"date": ["Enter a real date as YYYY-MM-DD."]}),
        ({"date": "1999-12-31"}, {"date": ["Choose a day from 2000-01-01 to 2100-12-31."]}),
        ({"date": "2101-01-01"}, {"date": ["Choose a day from 2000-01-01 to 2100-12-31."]}),
        ({"user": "abc"}, {"user": ["Enter a user id."]}),
        ({"user": "8"}, {"user": ["Choose an active user."]}),
        ({"user": "999999999999999999999"}, {"user": ["Choose an active user."]}),
        ({"page": "0"}, {"page": ["Ensure this value is greater than or equal to 1."]}),
        ({"page": "x"}, {"page": ["Enter a page number."]}),
    ],
)
def test_dashboard_form_rejects_bad_input(data, errors):
    form = _manager_form(data)
    assert form.is_valid() is False
    assert form.errors == errors


def test_dashboard_form_non_manager_always_views_themselves(telecaller):
    for data in ({}, {"user": str(telecaller.pk)}):
        form = DashboardForm(data, viewer=telecaller)
        assert form.is_valid(), form.errors
        assert form.cleaned_data["user"] == {"id": telecaller.pk, "username": telecaller.username}


def test_dashboard_form_non_manager_asking_for_someone_else_is_forbidden(telecaller):
    form = DashboardForm({"user": str(telecaller.pk + 1)}, viewer=telecaller)
    assert form.is_valid() is False
    assert form.has_error("user", code="forbidden") is True
