import json
from datetime import UTC, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from dashboard import selectors
from leads.models import Lead, LeadDayDelta, LeadStatus
from tests.dashboard.conftest import DAY, local
from tests.factories import (
    FollowupSnapshotFactory,
    LeadFactory,
    UserFactory,
    WorkedLeadFactory,
)

pytestmark = pytest.mark.django_db

ZERO_STATUS_COUNTS = dict.fromkeys(LeadStatus.values, 0)
NO_OVERDUE = {"total": 0, "by_age": {"1": 0, "2-7": 0, "8-30": 0, "31+": 0}}
NO_CALLS = {"attempts": 0, "connected": 0, "connect_pct": 0.0}


def _row(user, **numbers):
    row = {
        "user_id": user.pk,
        "username": user.username,
        "initial": 0,
        "worked": 0,
        "pending": 0,
        "completion_pct": 0.0,
        "new_leads": 0,
        "confirmed": 0,
        "completed": 0,
        "overdue": 0,
        "unscheduled": 0,
        "from_snapshot": False,
        "calls": NO_CALLS,
    }
    row.update(numbers)
    return row


# --- dashboard_day_metrics ------------------------------------------------------


def test_day_metrics_team_view_counts_every_lead_and_the_day_bounds(crafted):
    # New within DAY: 00:00:00 (asha), 01:00 (gone, inactive), 12:00 (asha);
    # 23:59:59 the day before and 00:00:00 the day after are outside.
    assert selectors.dashboard_day_metrics(day=DAY, user_id=None) == {
        "totals": {"leads": 9, "new_leads": 3, "with_followup_pct": 77.8},  # 7 of 9
        "status_counts": {
            "did_not_pick_up": 1,
            "needs_followup": 2,
            "confirmed": 2,
            "open": 1,
            "completed": 2,
            "feedback": 1,
            "lost": 0,
        },
        # asha's open lead due at 23:59:59 the day before is 1 day overdue;
        # ravi's feedback lead has no follow-up; closed leads are neither.
        "overdue": {"total": 1, "by_age": {"1": 1, "2-7": 0, "8-30": 0, "31+": 0}},
        "unscheduled": 1,
        "calls": NO_CALLS,
    }


def test_day_metrics_single_user_counts_only_their_leads(crafted):
    assert selectors.dashboard_day_metrics(day=DAY, user_id=crafted.asha.pk) == {
        "totals": {"leads": 5, "new_leads": 2, "with_followup_pct": 80.0},  # 4 of 5
        "status_counts": {**ZERO_STATUS_COUNTS, "needs_followup": 1, "confirmed": 1,
                          "completed": 2, "open": 1},
        "overdue": {"total": 1, "by_age": {"1": 1, "2-7": 0, "8-30": 0, "31+": 0}},
        "unscheduled": 0,  # the lead without a follow-up is completed
        "calls": NO_CALLS,
    }


def test_day_metrics_user_without_leads_is_all_zeros(crafted):
    assert selectors.dashboard_day_metrics(day=DAY, user_id=crafted.idle.pk) == {
        "totals": {"leads": 0, "new_leads": 0, "with_followup_pct": 0.0},
        "status_counts": ZERO_STATUS_COUNTS,
        "overdue": NO_OVERDUE,
        "unscheduled": 0,
        "calls": NO_CALLS,
    }


def test_day_metrics_rounds_percentages_half_up(day):
    # 1 of 16 is 6.25 %: half-up gives 6.3 where float rounding gives 6.2.
    user = UserFactory()
    LeadFactory(creator=user, followup_date=local(day, 10))
    LeadFactory.create_batch(15, creator=user, no_followup=True)
    totals = selectors.dashboard_day_metrics(day=day, user_id=None)["totals"]
    assert totals["with_followup_pct"] == 6.3


# --- dashboard_team_performance -------------------------------------------------


def test_team_performance_team_view_follows_the_definitions(crafted):
    result = selectors.dashboard_team_performance(day=DAY, user_id=None)
    # idle has no leads and gone is inactive: no rows. gone's due lead still
    # counts in the scope's pending.
    assert result == {
        "team": [
            _row(crafted.asha, initial=5, worked=3, pending=2, completion_pct=60.0,
                 new_leads=2, confirmed=1, completed=2, overdue=1, from_snapshot=True),
            _row(crafted.ravi, initial=2, worked=0, pending=2, completion_pct=0.0,
                 new_leads=0, confirmed=1, completed=0, unscheduled=1, from_snapshot=False),
        ],
        "followups": {"initial": 7, "worked": 2, "pending": 5, "completion_pct": 28.6},
        "snapshot_taken": False,
    }


def test_team_performance_snapshot_taken_when_every_row_has_one(crafted):
    # A snapshot smaller than what is pending now: worked stays at 0.
    FollowupSnapshotFactory(user=crafted.ravi, date=DAY, initial_count=1)
    result = selectors.dashboard_team_performance(day=DAY, user_id=None)
    assert [(r["username"], r["initial"], r["worked"], r["from_snapshot"])
            for r in result["team"]] == [("asha", 5, 3, True), ("ravi", 1, 0, True)]
    assert result["followups"] == {"initial": 6, "worked": 1, "pending": 5,
                                   "completion_pct": 16.7}
    assert result["snapshot_taken"] is True


def test_team_performance_single_user_is_their_row_alone(crafted):
    assert selectors.dashboard_team_performance(day=DAY, user_id=crafted.asha.pk) == {
        "team": [_row(crafted.asha, initial=5, worked=3, pending=2, completion_pct=60.0,
                      new_leads=2, confirmed=1, completed=2, overdue=1,
                      from_snapshot=True)],
        "followups": {"initial": 5, "worked": 3, "pending": 2, "completion_pct": 60.0},
        "snapshot_taken": True,
    }


def test_team_performance_user_without_leads_is_a_row_of_zeros(crafted):
    assert selectors.dashboard_team_performance(day=DAY, user_id=crafted.idle.pk) == {
        "team": [_row(crafted.idle)],
        "followups": {"initial": 0, "worked": 0, "pending": 0, "completion_pct": 0.0},
        "snapshot_taken": False,
    }


def test_team_performance_without_any_data_is_empty(db):
    UserFactory()
    assert selectors.dashboard_team_performance(day=DAY, user_id=None) == {
        "team": [],
        "followups": {"initial": 0, "worked": 0, "pending": 0, "completion_pct": 0.0},
        # "every team row's initial came from a snapshot" holds for no rows.
        "snapshot_taken": True,
    }


def test_team_performance_sorts_by_completion_then_initial_then_username(db):
    done = UserFactory(username="zed")
    FollowupSnapshotFactory(user=done, date=DAY, initial_count=2)
    LeadFactory(creator=done, followup_date=local(DAY, 10))  # 1 of 2 worked: 50.0
    for username, due in (("carl", 1), ("bea", 2), ("amy", 1)):
        user = UserFactory(username=username)
        LeadFactory.create_batch(due, creator=user, followup_date=local(DAY, 10))
    team = selectors.dashboard_team_performance(day=DAY, user_id=None)["team"]
    assert [(r["username"], r["completion_pct"], r["initial"]) for r in team] == [
        ("zed", 50.0, 2), ("bea", 0.0, 2), ("amy", 0.0, 1), ("carl", 0.0, 1)]


def test_team_performance_counts_confirmed_and_completed_of_all_time(day):
    user = UserFactory()
    LeadFactory(creator=user, status=LeadStatus.CONFIRMED, no_followup=True,
                created_at=local(day - timedelta(days=400)))
    LeadFactory.create_batch(2, creator=user, status=LeadStatus.COMPLETED,
                             followup_date=local(day + timedelta(days=3)))
    row = selectors.dashboard_team_performance(day=day, user_id=None)["team"][0]
    assert (row["confirmed"], row["completed"], row["new_leads"]) == (1, 2, 0)


# --- dashboard_due_page ---------------------------------------------------------


def test_due_page_lists_the_day_by_followup_then_id(crafted):
    leads = crafted.leads
    due = selectors.dashboard_due_page(day=DAY, user_id=None, page=1)
    assert (due["total"], due["page"], due["pages"]) == (5, 1, 1)
    assert [item["id"] for item in due["items"]] == [
        leads.ravi_due_early.pk, leads.asha_due_morning.pk, leads.gone_due.pk,
        leads.ravi_due_evening.pk, leads.asha_due_last_second.pk]


def test_due_page_item_is_plain_data_with_local_iso_time(crafted):
    lead = crafted.leads.asha_due_last_second
    due = selectors.dashboard_due_page(day=DAY, user_id=crafted.asha.pk, page=1)
    assert due["items"][-1] == {
        "id": lead.pk,
        "customer_name": lead.customer_name,
        "mobile": lead.mobile,
        "car_registration": lead.car_registration,
        "status": "confirmed",
        "followup_date": "2024-05-10T23:59:59+05:30",
        "creator_id": crafted.asha.pk,
        "creator_username": "asha",
        "calls": {"attempts": 0, "last_outcome": None, "last_called_at": None},
    }
    assert [item["id"] for item in due["items"]] == [
        crafted.leads.asha_due_morning.pk, lead.pk]
    # Stored in UTC: the last local second of DAY is 18:29:59 UTC.
    stored = Lead.objects.get(pk=lead.pk).followup_date
    assert (stored.hour, stored.minute, stored.second, stored.tzname()) == (18, 29, 59, "UTC")


def test_due_page_paginates_fifty_a_page(day):
    user = UserFactory()
    # Same follow-up time for all: the id orders them.
    leads = LeadFactory.create_batch(51, creator=user, followup_date=local(day, 10))
    first = selectors.dashboard_due_page(day=day, user_id=None, page=1)
    second = selectors.dashboard_due_page(day=day, user_id=None, page=2)
    assert (first["total"], first["page"], first["pages"], len(first["items"])) == (51, 1, 2, 50)
    assert [item["id"] for item in first["items"]] == [lead.pk for lead in leads[:50]]
    assert (second["total"], second["page"], second["pages"]) == (51, 2, 2)
    assert [item["id"] for item in second["items"]] == [leads[50].pk]


def test_due_page_out_of_range_raises(day):
    LeadFactory(followup_date=local(day, 10))
    with pytest.raises(selectors.DuePageOutOfRange) as excinfo:
        selectors.dashboard_due_page(day=day, user_id=None, page=2)
    assert (excinfo.value.page, excinfo.value.pages) == (2, 1)
    with pytest.raises(selectors.DuePageOutOfRange):
        selectors.dashboard_due_page(day=day, user_id=None, page=999999999999999999999)


def test_due_page_of_an_empty_day_is_page_one_of_one(db):
    assert selectors.dashboard_due_page(day=DAY, user_id=None, page=1) == {
        "total": 0, "page": 1, "pages": 1, "items": []}


# --- assembly, plain data, query counts -----------------------------------------


def test_dashboard_document_assembles_the_three_families(crafted):
    user = {"id": crafted.asha.pk, "username": "asha"}
    metrics = selectors.dashboard_day_metrics(day=DAY, user_id=crafted.asha.pk)
    performance = selectors.dashboard_team_performance(day=DAY, user_id=crafted.asha.pk)
    due = selectors.dashboard_due_page(day=DAY, user_id=crafted.asha.pk, page=1)
    document = selectors.dashboard_document(
        day=DAY, user=user, day_metrics=metrics, team_performance=performance, due=due)
    assert document == {
        "date": "2024-05-10",
        "user": user,
        "snapshot_taken": True,
        "totals": metrics["totals"],
        "status_counts": metrics["status_counts"],
        "overdue": metrics["overdue"],
        "unscheduled": 0,
        "calls": NO_CALLS,
        "followups": performance["followups"],
        "team": performance["team"],
        "due": due,
    }
    # Plain JSON: survives a round trip unchanged.
    assert json.loads(json.dumps(document)) == document


def test_active_users_lists_active_users_by_username(crafted):
    assert selectors.active_users() == [
        {"id": crafted.asha.pk, "username": "asha"},
        {"id": crafted.idle.pk, "username": "idle"},
        {"id": crafted.ravi.pk, "username": "ravi"},
    ]


@pytest.mark.parametrize(
    ("call", "queries"),
    [
        # Each with the day's calls by caller (calls.selectors).
        (lambda: selectors.dashboard_day_metrics(day=DAY, user_id=None), 3),
        (lambda: selectors.dashboard_team_performance(day=DAY, user_id=None), 4),
        # The day's counters (the total), then the page of leads.
        (lambda: selectors.dashboard_due_page(day=DAY, user_id=None, page=1), 2),
        (lambda: selectors.dashboard_trend(day=DAY, user_id=None), 1),
        (selectors.active_users, 1),
    ],
    ids=["day_metrics", "team_performance", "due_page", "trend", "active_users"],
)
def test_each_selector_alone_has_a_fixed_query_count(crafted, django_assert_num_queries,
                                                     call, queries):
    with django_assert_num_queries(queries):
        call()


def test_shared_queries_run_each_lead_aggregate_once(crafted, django_assert_num_queries):
    # Counters, day-bounded pass, users + snapshots, one page of due leads
    # (with its calls), the day's calls by caller.
    with django_assert_num_queries(5), selectors.shared_queries():
        selectors.dashboard_due_page(day=DAY, user_id=None, page=1)
        selectors.dashboard_day_metrics(day=DAY, user_id=None)
        selectors.dashboard_team_performance(day=DAY, user_id=None)


def test_shared_queries_do_not_outlive_the_block(crafted):
    with selectors.shared_queries():
        before = selectors.dashboard_day_metrics(day=DAY, user_id=None)
    LeadFactory(creator=crafted.asha, created_at=local(DAY, 15))
    after = selectors.dashboard_day_metrics(day=DAY, user_id=None)
    assert (before["totals"]["leads"], after["totals"]["leads"]) == (9, 10)
    assert (before["totals"]["new_leads"], after["totals"]["new_leads"]) == (3, 4)


# --- the trend (charts) ------------------------------------------------------------


@pytest.fixture
def trend_book(db):
    """Leads and worked rows around the edges of the 14 days ending on DAY.

    Created at local midnight of DAY is 18:30 UTC on the day before: it must
    count for DAY, as must the last second of the first day of the range.
    """
    asha, ravi = UserFactory(username="asha"), UserFactory(username="ravi")
    gone = UserFactory(username="gone", is_active=False)
    first = DAY - timedelta(days=13)
    for creator, created_at in (
        (asha, local(DAY)),                                   # DAY (UTC: the day before)
        (asha, local(DAY, 23, 59, 59)),                       # DAY
        (ravi, local(DAY - timedelta(days=1), 23, 59, 59)),   # DAY - 1
        (ravi, local(first)),                                 # the first day
        (asha, local(first - timedelta(days=1), 23, 59, 59)), # before the range
        (asha, local(DAY + timedelta(days=1))),               # after the range
    ):
        LeadFactory(creator=creator, created_at=created_at)
    lead = LeadFactory(creator=asha, created_at=local(DAY - timedelta(days=40)))
    for user, work_date in (
        (asha, DAY), (asha, DAY), (ravi, DAY),   # ravi worked asha's lead: his work
        (gone, DAY - timedelta(days=2)),          # an inactive user's work counts for the team
        (asha, first), (asha, first - timedelta(days=1)), (asha, DAY + timedelta(days=1)),
    ):
        WorkedLeadFactory(lead=lead, user=user, work_date=work_date)
    # Closing is a follow-up update; a manager's bulk reschedule is not.
    WorkedLeadFactory(lead=lead, user=ravi, work_date=DAY, kind="closed")
    WorkedLeadFactory(lead=lead, user=asha, work_date=DAY, kind="rescheduled")
    return SimpleNamespace(asha=asha, ravi=ravi, gone=gone, first=first)


def _trend_numbers(trend):
    return {entry["date"]: (entry["new_leads"], entry["updates"]) for entry in trend
            if entry["new_leads"] or entry["updates"]}


def test_trend_has_fourteen_days_ending_on_the_day_zeros_included(trend_book):
    trend = selectors.dashboard_trend(day=DAY, user_id=None)
    assert [entry["date"] for entry in trend] == [
        (trend_book.first + timedelta(days=n)).isoformat() for n in range(14)]
    assert trend[-1]["date"] == "2024-05-10"
    assert trend[5] == {"date": "2024-05-02", "new_leads": 0, "updates": 0, "calls": 0}
    assert list(trend[0]) == ["date", "new_leads", "updates", "calls"]


def test_trend_team_counts_by_local_day(trend_book):
    assert _trend_numbers(selectors.dashboard_trend(day=DAY, user_id=None)) == {
        "2024-04-27": (1, 1),
        "2024-05-08": (0, 1),
        "2024-05-09": (1, 0),
        "2024-05-10": (2, 4),
    }


def test_trend_of_one_user_counts_their_leads_and_their_own_work(trend_book):
    assert _trend_numbers(selectors.dashboard_trend(day=DAY, user_id=trend_book.asha.pk)) == {
        "2024-04-27": (0, 1),
        "2024-05-10": (2, 2),
    }
    assert _trend_numbers(selectors.dashboard_trend(day=DAY, user_id=trend_book.ravi.pk)) == {
        "2024-04-27": (1, 0),
        "2024-05-09": (1, 0),
        "2024-05-10": (0, 2),
    }


def test_trend_days_follow_the_local_calendar_across_a_clock_change(db, settings):
    from datetime import date, datetime

    # Europe/London's clocks went forward at 01:00 UTC on 31 March 2024: that
    # local day lasted 23 hours, ending at 23:00 UTC.
    settings.TIME_ZONE = "Europe/London"
    # The day counters follow the new zone once rebuilt (docs/data-model.md).
    LeadDayDelta.objects.rebuild()
    asha = UserFactory(username="asha")
    for utc in ((2024, 3, 31, 0, 0, 0), (2024, 3, 31, 22, 59, 59),   # 31 March
                (2024, 3, 31, 23, 0, 0), (2024, 4, 1, 22, 59, 59),   # 1 April (BST)
                (2024, 3, 30, 23, 59, 59)):                         # 30 March (GMT)
        LeadFactory(creator=asha, created_at=datetime(*utc, tzinfo=UTC))
    for user_id in (None, asha.pk):
        assert _trend_numbers(selectors.dashboard_trend(day=date(2024, 4, 1), user_id=user_id)) == {
            "2024-03-30": (1, 0), "2024-03-31": (2, 0), "2024-04-01": (2, 0)}


def test_trend_of_an_empty_database_is_fourteen_zero_days(db):
    trend = selectors.dashboard_trend(day=DAY, user_id=None)
    assert len(trend) == 14
    assert {(entry["new_leads"], entry["updates"]) for entry in trend} == {(0, 0)}


@pytest.mark.parametrize("scope", ["team", "user"])
def test_trend_is_one_statement(trend_book, django_assert_num_queries, scope):
    user_id = None if scope == "team" else trend_book.asha.pk
    with django_assert_num_queries(1):
        trend = selectors.dashboard_trend(day=DAY, user_id=user_id)
    assert json.loads(json.dumps(trend)) == trend


def _record_bypass(*, minutes, scope="team"):
    from dashboard.models import CacheBypass

    CacheBypass.objects.update_or_create(
        scope=scope, defaults={"until": timezone.now() + timedelta(minutes=minutes)}
    )


def _sql_says_bypassed():
    from django.db import connection

    sql, params = selectors.cache_bypassed_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        return selectors.cache_bypassed_from_sql(cursor.fetchone()[0])


@pytest.mark.parametrize("minutes, expected", [(None, set()), (1, {"team"}), (-1, set())],
                         ids=["none recorded", "active", "expired"])
def test_cache_bypassed_sql_and_bypassed_scopes_agree(telecaller, django_assert_num_queries,
                                                      minutes, expected):
    from dashboard import cache as dash_cache

    if minutes is not None:
        _record_bypass(minutes=minutes)
    assert dash_cache.bypassed_scopes() == expected
    assert _sql_says_bypassed() == expected
    # A user not loaded by crm.auth.ViewerBackend is asked now, in one statement.
    with django_assert_num_queries(1):
        assert selectors.viewer_bypassed_scopes(telecaller) == expected


def test_cache_bypassed_sql_lists_every_scope_in_force(db):
    from dashboard import cache as dash_cache

    for scope, minutes in (("team", 1), ("u12", 1), ("users", -1), ("u3", 5)):
        _record_bypass(minutes=minutes, scope=scope)
    assert _sql_says_bypassed() == dash_cache.bypassed_scopes() == {"team", "u12", "u3"}


@pytest.mark.parametrize("preloaded", [frozenset({"team"}), frozenset()], ids=["team", "none"])
def test_viewer_bypassed_scopes_trusts_the_answer_loaded_with_the_user(
    telecaller, django_assert_num_queries, preloaded
):
    _record_bypass(minutes=1, scope="u1")
    setattr(telecaller, selectors.CACHE_BYPASSED_ATTRIBUTE, preloaded)
    with django_assert_num_queries(0):
        assert selectors.viewer_bypassed_scopes(telecaller) == preloaded
