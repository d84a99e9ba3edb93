"""Issue 14's definitions on crafted data at the day's edges: closed (completed
or lost), pending, initial without a snapshot, worked, overdue by age,
unscheduled, and the trend's follow-up updates; for the team and one user."""

from datetime import timedelta
from types import SimpleNamespace

import pytest

from dashboard import selectors
from dashboard.benchmark import baseline_document
from leads import services
from leads.models import LeadStatus, WorkedLead
from tests.dashboard.conftest import DAY, local
from tests.factories import (
    FollowupSnapshotFactory,
    LeadFactory,
    ManagerFactory,
    UserFactory,
    WorkedLeadFactory,
)

pytestmark = pytest.mark.django_db


def _days(n):
    return DAY + timedelta(days=n)


@pytest.fixture
def edges():
    """asha (no snapshot on DAY) and ravi (snapshot of 4), with leads at each edge.

    The work log rows are made during DAY unless said otherwise; `old` -> the
    follow-up the lead has now.
    """
    asha, ravi = UserFactory(username="asha"), UserFactory(username="ravi")
    boss = ManagerFactory(username="boss")

    def lead(owner=asha, *, at, status=LeadStatus.NEEDS_FOLLOWUP):
        return LeadFactory(creator=owner, followup_date=at, status=status,
                           created_at=local(_days(-60)))

    def log(lead, *, old, kind="moved", on=DAY, by=asha):
        WorkedLeadFactory(lead=lead, user=by, work_date=on, kind=kind,
                          old_followup_date=old, new_followup_date=lead.followup_date)

    leads = SimpleNamespace(
        # Pending: the first moment of DAY.
        at_start=lead(at=local(DAY)),
        # 1 day overdue: the last minute of the day before.
        last_minute_before=lead(at=local(_days(-1), 23, 59), status=LeadStatus.OPEN),
        # Neither pending nor overdue: the first moment of the next day.
        next_day=lead(at=local(_days(1)), status=LeadStatus.CONFIRMED),
        # Closed during DAY, due within DAY: initial and worked.
        completed_in_day=lead(at=local(DAY, 11), status=LeadStatus.COMPLETED),
        lost_in_day=lead(at=local(DAY, 12), status=LeadStatus.LOST),
        # Moved out of DAY during DAY (twice: counted once): initial and worked.
        moved_out=lead(at=local(_days(3), 10)),
        moved_out_twice=lead(at=local(_days(1), 10), status=LeadStatus.DID_NOT_PICK_UP),
        # Moved into DAY during DAY: pending only.
        moved_in=lead(at=local(DAY, 16)),
        # Moved within DAY: pending, once.
        moved_within=lead(at=local(DAY, 17), status=LeadStatus.FEEDBACK),
        # A manager's reschedule out of DAY: neither initial nor pending.
        rescheduled_out=lead(at=local(_days(5), 10)),
        # Moved out of DAY the day before: not work made during DAY.
        moved_the_day_before=lead(at=local(_days(4), 10)),
        # Overdue ages: 2, 7 ("2-7"), 8, 30 ("8-30"), 31 ("31+").
        age_2=lead(at=local(_days(-2))),
        age_7=lead(at=local(_days(-7), 23, 59, 59)),
        age_8=lead(at=local(_days(-8), 23, 59, 59)),
        age_30=lead(at=local(_days(-30))),
        age_31=lead(at=local(_days(-31), 23, 59, 59), status=LeadStatus.CONFIRMED),
        # Closed leads are never overdue nor unscheduled.
        lost_overdue=lead(at=local(_days(-3)), status=LeadStatus.LOST),
        unscheduled=lead(at=None, status=LeadStatus.OPEN),
        completed_unscheduled=lead(at=None, status=LeadStatus.COMPLETED),
        lost_unscheduled=lead(at=None, status=LeadStatus.LOST),
        ravi_due=lead(ravi, at=local(DAY, 10)),
        ravi_closed_by_boss=lead(ravi, at=local(DAY, 9), status=LeadStatus.COMPLETED),
        ravi_overdue=lead(ravi, at=local(_days(-40), 10)),
        ravi_unscheduled=lead(ravi, at=None),
    )
    log(leads.completed_in_day, old=local(DAY, 11), kind="closed")
    log(leads.lost_in_day, old=local(DAY, 12), kind="closed")
    log(leads.moved_out, old=local(DAY, 15))
    log(leads.moved_out_twice, old=local(DAY, 9))
    log(leads.moved_out_twice, old=local(DAY, 13))
    log(leads.moved_in, old=local(_days(2), 10))
    log(leads.moved_within, old=local(DAY, 8))
    log(leads.rescheduled_out, old=local(DAY, 14), kind="rescheduled", by=boss)
    log(leads.moved_the_day_before, old=local(DAY, 10), on=_days(-1))
    log(leads.ravi_closed_by_boss, old=local(DAY, 9), kind="closed", by=boss)
    FollowupSnapshotFactory(user=ravi, date=DAY, initial_count=4)
    return SimpleNamespace(asha=asha, ravi=ravi, boss=boss, leads=leads)


OVERDUE_ASHA = {"total": 6, "by_age": {"1": 1, "2-7": 2, "8-30": 2, "31+": 1}}
OVERDUE_RAVI = {"total": 1, "by_age": {"1": 0, "2-7": 0, "8-30": 0, "31+": 1}}


def _numbers(row):
    return {key: row[key] for key in ("initial", "worked", "pending", "completion_pct",
                                      "overdue", "unscheduled", "from_snapshot")}


def test_a_users_day_without_a_snapshot(edges):
    result = selectors.dashboard_team_performance(day=DAY, user_id=edges.asha.pk)
    # Pending: at_start, moved_in, moved_within. Worked off the day: completed
    # and lost during it, moved out (one of them twice).
    assert [_numbers(row) for row in result["team"]] == [{
        "initial": 7, "worked": 4, "pending": 3, "completion_pct": 57.1,
        "overdue": 6, "unscheduled": 1, "from_snapshot": False}]
    assert result["followups"] == {"initial": 7, "worked": 4, "pending": 3,
                                   "completion_pct": 57.1}
    metrics = selectors.dashboard_day_metrics(day=DAY, user_id=edges.asha.pk)
    assert (metrics["overdue"], metrics["unscheduled"]) == (OVERDUE_ASHA, 1)


def test_a_snapshot_wins_over_the_work_log(edges):
    result = selectors.dashboard_team_performance(day=DAY, user_id=edges.ravi.pk)
    assert [_numbers(row) for row in result["team"]] == [{
        "initial": 4, "worked": 3, "pending": 1, "completion_pct": 75.0,
        "overdue": 1, "unscheduled": 1, "from_snapshot": True}]
    metrics = selectors.dashboard_day_metrics(day=DAY, user_id=edges.ravi.pk)
    assert (metrics["overdue"], metrics["unscheduled"]) == (OVERDUE_RAVI, 1)


def test_the_teams_day(edges):
    result = selectors.dashboard_team_performance(day=DAY, user_id=None)
    assert {row["username"]: _numbers(row) for row in result["team"]} == {
        "asha": {"initial": 7, "worked": 4, "pending": 3, "completion_pct": 57.1,
                 "overdue": 6, "unscheduled": 1, "from_snapshot": False},
        "ravi": {"initial": 4, "worked": 3, "pending": 1, "completion_pct": 75.0,
                 "overdue": 1, "unscheduled": 1, "from_snapshot": True},
    }
    assert result["followups"] == {"initial": 11, "worked": 7, "pending": 4,
                                   "completion_pct": 63.6}
    assert result["snapshot_taken"] is False
    metrics = selectors.dashboard_day_metrics(day=DAY, user_id=None)
    assert metrics["overdue"] == {"total": 7, "by_age": {"1": 1, "2-7": 2, "8-30": 2, "31+": 2}}
    assert metrics["unscheduled"] == 2
    assert (metrics["status_counts"]["completed"], metrics["status_counts"]["lost"]) == (3, 3)


@pytest.mark.parametrize("scope", ["team", "asha"])
def test_the_due_list_is_exactly_the_pending_leads(edges, scope):
    user_id = None if scope == "team" else edges.asha.pk
    due = selectors.dashboard_due_page(day=DAY, user_id=user_id, page=1)
    leads = edges.leads
    expected = [leads.at_start, leads.moved_in, leads.moved_within]
    if scope == "team":
        expected.insert(1, leads.ravi_due)
    assert [item["id"] for item in due["items"]] == [lead.pk for lead in expected]
    assert due["total"] == len(expected)


def test_the_day_before_counts_from_its_own_edges(edges):
    # For DAY - 1, last_minute_before is pending (not overdue); the move made
    # that day was of a follow-up on DAY, so it took nothing off DAY - 1.
    row = selectors.dashboard_team_performance(day=_days(-1), user_id=edges.asha.pk)["team"][0]
    assert (row["pending"], row["initial"], row["worked"], row["overdue"]) == (1, 1, 0, 5)


def test_the_trend_counts_moves_and_closes_by_whoever_made_them(edges):
    def on(user_id, day):
        trend = selectors.dashboard_trend(day=DAY, user_id=user_id)
        return next(entry["updates"] for entry in trend if entry["date"] == day.isoformat())

    # DAY: asha's 7 rows and boss's close of ravi's lead; not the reschedule.
    assert [on(None, DAY), on(edges.asha.pk, DAY), on(edges.ravi.pk, DAY),
            on(edges.boss.pk, DAY)] == [8, 7, 0, 1]
    assert on(None, _days(-1)) == 1


@pytest.mark.parametrize("who", ["team", "asha", "ravi"])
def test_the_benchmarks_baseline_agrees_on_the_edges(edges, who):
    user = None if who == "team" else getattr(edges, who)
    user_id = user and user.pk
    product = selectors.dashboard_document(
        day=DAY, user=user and {"id": user.pk, "username": user.username},
        day_metrics=selectors.dashboard_day_metrics(day=DAY, user_id=user_id),
        team_performance=selectors.dashboard_team_performance(day=DAY, user_id=user_id),
        due=selectors.dashboard_due_page(day=DAY, user_id=user_id, page=1),
    )
    assert baseline_document(day=DAY, user=user) == product


@pytest.mark.parametrize("scope", ["team", "asha"])
def test_the_definitions_cost_no_extra_statement(edges, django_assert_num_queries, scope):
    user_id = None if scope == "team" else edges.asha.pk
    # Counters, the day pass (overdue, unscheduled and the work log included),
    # users + snapshots, one page of due leads.
    with django_assert_num_queries(5), selectors.shared_queries():
        selectors.dashboard_due_page(day=DAY, user_id=user_id, page=1)
        selectors.dashboard_day_metrics(day=DAY, user_id=user_id)
        selectors.dashboard_team_performance(day=DAY, user_id=user_id)


# --- through the services, during the day ------------------------------------------


@pytest.fixture
def during_day(monkeypatch):
    """timezone.now() at 14:00 on DAY: the services log their work on DAY."""
    now = local(DAY, 14)
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    return now


def test_a_day_of_quick_updates_adds_up(during_day):
    asha = UserFactory(username="asha")
    due = [LeadFactory(creator=asha, followup_date=local(DAY, hour)) for hour in (9, 10, 11, 12)]
    later = LeadFactory(creator=asha, followup_date=local(_days(2), 10))
    before = selectors.dashboard_team_performance(day=DAY, user_id=asha.pk)["followups"]
    assert before == {"initial": 4, "worked": 0, "pending": 4, "completion_pct": 0.0}

    def quick(lead, status, followup, remark=""):
        services.lead_quick_update(lead=lead, user=asha, status=status, followup_date=followup,
                                   remark=remark)

    quick(due[0], LeadStatus.COMPLETED, due[0].followup_date)       # closed, due in DAY
    quick(due[1], LeadStatus.LOST, None, remark="Sold the car")     # closed and cleared
    quick(due[2], LeadStatus.CONFIRMED, local(_days(1), 10))        # moved out
    quick(later, LeadStatus.NEEDS_FOLLOWUP, local(DAY, 18))         # moved in: pending only

    assert list(WorkedLead.objects.order_by("id").values_list("kind", flat=True)) == [
        "closed", "closed", "moved", "moved"]
    after = selectors.dashboard_team_performance(day=DAY, user_id=asha.pk)["followups"]
    # Pending: due[3] and the lead moved in; initial: those + the three worked off.
    assert after == {"initial": 5, "worked": 3, "pending": 2, "completion_pct": 60.0}
    trend = selectors.dashboard_trend(day=DAY, user_id=asha.pk)
    assert trend[-1]["updates"] == 4
