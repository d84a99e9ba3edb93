from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.rendering import attempts_html, attempts_text, ordinal, outcome_fields_html
from tests.factories import CallLogFactory, LeadFactory

IST = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize(("n", "text"), [
    (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
    (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (111, "111th"), (112, "112th")])
def test_ordinal(n, text):
    assert ordinal(n) == text


def test_attempts_text_shows_the_time_today_and_the_date_otherwise():
    calls = {"attempts": 3, "last_outcome": "no_answer",
             "last_called_at": "2026-11-30T11:05:00+05:30"}
    assert attempts_text(calls, today=date(2026, 11, 30)) == "3rd try · last: No answer, 11:05"
    assert attempts_text(calls, today=date(2026, 12, 1)) == (
        "3rd try · last: No answer, 30 Nov 2026, 11:05")
    # Stored in UTC, shown in the business time zone.
    utc = {**calls, "attempts": 1, "last_called_at": "2026-11-30T05:35:00+00:00"}
    assert attempts_text(utc, today=date(2026, 11, 30)) == "1st try · last: No answer, 11:05"


def test_no_calls_no_line():
    none = {"attempts": 0, "last_outcome": None, "last_called_at": None}
    assert (attempts_text(none), attempts_html(none), attempts_html(None)) == ("", "", "")


def test_outcome_fields_keep_a_posted_outcome_and_length():
    html = outcome_fields_html(7, outcome="busy", duration="90")
    assert html.count(" checked") == 1
    assert 'id="qu-7-outcome-busy" name="outcome" value="busy" checked>' in html
    assert 'value="90"' in html
    # An unknown value checks nothing but "No call".
    assert 'value="" checked>' in outcome_fields_html(7, outcome="<x>")
    assert "<x>" not in outcome_fields_html(7, outcome="<x>", duration="<x>")


@pytest.mark.django_db
def test_due_card_shows_the_attempts_and_the_last_outcome(client, telecaller):
    now = timezone.localtime()
    lead = LeadFactory(creator=telecaller,
                       followup_date=now.replace(hour=23, minute=58, second=0, microsecond=0))
    today = now.date()
    for hour, outcome in ((9, "busy"), (10, "switched_off"), (11, "no_answer")):
        CallLogFactory(lead=lead, user=telecaller, outcome=outcome,
                       called_at=datetime(today.year, today.month, today.day, hour, 5, tzinfo=IST))
    client.force_login(telecaller)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert '<p class="call-attempts">3rd try · last: No answer, 11:05</p>' in page
