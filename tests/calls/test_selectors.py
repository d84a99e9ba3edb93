"""The calls' numbers: per lead (due cards), per caller and day (dashboard)."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls.selectors import call_attempts_sql, call_counts_by_user
from dashboard import selectors
from leads.models import Lead
from tests.dashboard.conftest import local
from tests.factories import CallLogFactory, LeadFactory, ManagerFactory, UserFactory
from timeline.sources import calls as timeline_calls

pytestmark = pytest.mark.django_db

DAY = date(2024, 5, 10)


@pytest.fixture
def calls():
    """asha and ravi own leads; a manager calls too. On DAY: asha 7 calls
    (connected, call back later, not interested, wrong number: 4 answered;
    no answer, busy, switched off), ravi 3 (1 connected), the manager 1
    (connected, on asha's lead). Outside DAY: 23:59:59 the day before and
    00:00 the day after."""
    asha, ravi = UserFactory(username="asha"), UserFactory(username="ravi")
    boss = ManagerFactory(username="boss")
    lead_a, lead_r = LeadFactory(creator=asha), LeadFactory(creator=ravi)
    for minute, outcome in enumerate(["connected", "call_back_later", "not_interested",
                                      "wrong_number", "no_answer", "busy", "switched_off"]):
        CallLogFactory(lead=lead_a, user=asha, outcome=outcome, called_at=local(DAY, 10, minute))
    for outcome in ["connected", "no_answer", "no_answer"]:
        CallLogFactory(lead=lead_r, user=ravi, outcome=outcome, called_at=local(DAY, 0))
    CallLogFactory(lead=lead_a, user=boss, outcome="connected", called_at=local(DAY, 23, 59, 59))
    CallLogFactory(lead=lead_a, user=asha, called_at=local(DAY - timedelta(days=1), 23, 59, 59))
    CallLogFactory(lead=lead_a, user=asha, called_at=local(DAY + timedelta(days=1)))
    return type("Calls", (), {"asha": asha, "ravi": ravi, "boss": boss, "lead_a": lead_a,
                              "lead_r": lead_r})


def test_counts_by_caller_within_the_day(calls):
    assert call_counts_by_user(day=DAY, user_id=None) == {
        calls.asha.pk: {"attempts": 7, "connected": 4},
        calls.ravi.pk: {"attempts": 3, "connected": 1},
        calls.boss.pk: {"attempts": 1, "connected": 1},
    }
    assert call_counts_by_user(day=DAY, user_id=calls.ravi.pk) == {
        calls.ravi.pk: {"attempts": 3, "connected": 1}}


def test_dashboard_calls_at_the_top_and_per_team_row(calls):
    metrics = selectors.dashboard_day_metrics(day=DAY, user_id=None)
    # 6 of 11 answered: 54.5454… → 54.5.
    assert metrics["calls"] == {"attempts": 11, "connected": 6, "connect_pct": 54.5}
    team = selectors.dashboard_team_performance(day=DAY, user_id=None)["team"]
    # 4 of 7 is 57.142…; 1 of 3 is 33.3. The manager owns no lead: no row,
    # but the call counts for the team.
    assert {row["username"]: row["calls"] for row in team} == {
        "asha": {"attempts": 7, "connected": 4, "connect_pct": 57.1},
        "ravi": {"attempts": 3, "connected": 1, "connect_pct": 33.3},
    }
    mine = selectors.dashboard_day_metrics(day=DAY, user_id=calls.boss.pk)
    assert mine["calls"] == {"attempts": 1, "connected": 1, "connect_pct": 100.0}


def test_connect_pct_rounds_half_up(db):
    # 1 of 16 is 6.25 %: half-up gives 6.3 where float rounding gives 6.2.
    user = UserFactory()
    lead = LeadFactory(creator=user)
    CallLogFactory(lead=lead, outcome="connected", called_at=local(DAY, 9))
    CallLogFactory.create_batch(15, lead=lead, outcome="busy", called_at=local(DAY, 9))
    assert selectors.dashboard_day_metrics(day=DAY, user_id=None)["calls"] == {
        "attempts": 16, "connected": 1, "connect_pct": 6.3}


def test_no_calls_is_zero_percent(db):
    user = UserFactory()
    LeadFactory(creator=user)
    assert selectors.dashboard_day_metrics(day=DAY, user_id=user.pk)["calls"] == {
        "attempts": 0, "connected": 0, "connect_pct": 0.0}


def test_trend_counts_the_calls_of_each_day(calls):
    team = selectors.dashboard_trend(day=DAY, user_id=None)
    assert [(entry["date"], entry["calls"]) for entry in team[-2:]] == [
        ("2024-05-09", 1), ("2024-05-10", 11)]
    asha = selectors.dashboard_trend(day=DAY, user_id=calls.asha.pk)
    assert [entry["calls"] for entry in asha[-2:]] == [1, 7]
    assert sum(entry["calls"] for entry in asha) == 8  # the day after is not in the trend


def test_due_page_items_carry_attempts_and_the_last_call_in_one_statement(calls):
    calls.lead_a.followup_date = local(DAY, 12)
    calls.lead_r.followup_date = local(DAY, 13)
    Lead.objects.bulk_update([calls.lead_a, calls.lead_r], ["followup_date"])
    untouched = LeadFactory(creator=calls.asha, followup_date=local(DAY, 14))
    with CaptureQueriesContext(connection) as captured, selectors.shared_queries():
        selectors.dashboard_day_metrics(day=DAY, user_id=None)  # the shared aggregates first
        before = len(captured)
        due = selectors.dashboard_due_page(day=DAY, user_id=None, page=1)
    assert len(captured) - before == 1
    assert {item["id"]: item["calls"] for item in due["items"]} == {
        # The manager's call at 23:59:59 is asha's lead's last; the day after counts too.
        calls.lead_a.pk: {"attempts": 10, "last_outcome": "no_answer",
                          "last_called_at": "2024-05-11T00:00:00+05:30"},
        calls.lead_r.pk: {"attempts": 3, "last_outcome": "no_answer",
                          "last_called_at": "2024-05-10T00:00:00+05:30"},
        untouched.pk: {"attempts": 0, "last_outcome": None, "last_called_at": None},
    }


def test_a_leads_calls_on_its_timeline_newest_first_with_the_caller(
    calls, django_assert_num_queries
):
    with django_assert_num_queries(1):
        events = timeline_calls(calls.lead_a, limit=50)
    rows = [(event.at, event.actor) for event in events]
    assert rows == sorted(rows, reverse=True)
    assert (len(rows), rows[0][1], rows[1][1]) == (10, "asha", "boss")


def test_attempt_columns_for_any_statement_over_leads(calls):
    lead = connection.ops.quote_name(Lead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {call_attempts_sql(connection.alias, lead_id=f'{lead}.id')} "
                       f"FROM {lead} ORDER BY {lead}.id")
        rows = cursor.fetchall()
    assert [(attempts, outcome) for attempts, outcome, _ in rows] == [
        (10, "no_answer"), (3, "no_answer")]
