"""The dashboard's calls numbers (the day's, each team row's, the trend's),
read from the call counters, equal a direct count of the calls on crafted
data: edges of the day, several callers, answered and unanswered outcomes,
calls moved and deleted after they were made."""

import random
from datetime import timedelta

import pytest

from calls.models import ANSWERED_OUTCOMES, CallLog, CallOutcome
from dashboard import selectors
from leads.models import day_bounds
from tests.dashboard.conftest import DAY, local
from tests.factories import CallLogFactory, LeadFactory, ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def direct(*, day, user_id=None):
    start, end = day_bounds(day)
    calls = CallLog.objects.filter(called_at__gte=start, called_at__lt=end)
    if user_id is not None:
        calls = calls.filter(user_id=user_id)
    attempts = calls.count()
    connected = calls.filter(outcome__in=ANSWERED_OUTCOMES).count()
    return attempts, connected


@pytest.fixture
def callers():
    rng = random.Random(7)
    users = [UserFactory(username=f"caller{n}") for n in range(3)] + [ManagerFactory()]
    leads = [LeadFactory(creator=users[n % 3]) for n in range(6)]
    outcomes = list(CallOutcome.values)
    for back in range(16):  # the trend's 14 days and a little beyond
        day = DAY - timedelta(days=back)
        for hour, minute, second in [(0, 0, 0), (9, 30, 0), (23, 59, 59)] * 3:
            CallLogFactory(lead=rng.choice(leads), user=rng.choice(users),
                           outcome=rng.choice(outcomes), called_at=local(day, hour, minute, second))
    moved = CallLog.objects.filter(called_at__lt=local(DAY - timedelta(days=3))).order_by("pk")
    CallLog.objects.filter(pk__in=moved.values("pk")[:5]).update(called_at=local(DAY, 12))
    CallLog.objects.filter(pk__in=moved.values("pk")[5:9]).delete()
    return users


def test_the_day_and_team_rows_equal_a_direct_count(callers):
    attempts, connected = direct(day=DAY)
    assert attempts > 9
    metrics = selectors.dashboard_day_metrics(day=DAY, user_id=None)["calls"]
    assert (metrics["attempts"], metrics["connected"]) == (attempts, connected)
    team = selectors.dashboard_team_performance(day=DAY, user_id=None)["team"]
    assert {row["user_id"]: (row["calls"]["attempts"], row["calls"]["connected"])
            for row in team} == {user.pk: direct(day=DAY, user_id=user.pk)
                                 for user in callers[:3]}
    for user in callers:
        mine = selectors.dashboard_day_metrics(day=DAY, user_id=user.pk)["calls"]
        assert (mine["attempts"], mine["connected"]) == direct(day=DAY, user_id=user.pk)


def test_the_trend_equals_a_direct_count(callers):
    team = selectors.dashboard_trend(day=DAY, user_id=None)
    assert [entry["calls"] for entry in team] == [
        direct(day=DAY - timedelta(days=back))[0] for back in range(13, -1, -1)]
    for user in callers:
        mine = selectors.dashboard_trend(day=DAY, user_id=user.pk)
        assert [entry["calls"] for entry in mine] == [
            direct(day=DAY - timedelta(days=back), user_id=user.pk)[0]
            for back in range(13, -1, -1)]
