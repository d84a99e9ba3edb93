from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from leads.models import FollowupSnapshot
from leads.services import followup_snapshots_take
from tests.factories import FollowupSnapshotFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
DAY = date(2026, 11, 28)


def _ist(*args):
    return datetime(*args, tzinfo=IST)


def _snapshot(*args):
    out = StringIO()
    call_command("snapshot_followups", *args, stdout=out)
    return out.getvalue()


def _rows():
    return sorted(FollowupSnapshot.objects.values_list("user__username", "date", "initial_count"))


@pytest.fixture
def crafted():
    """Follow-ups on both sides of the business day's edges in Asia/Kolkata, and
    closed leads within it."""
    asha, ravi, idle = (UserFactory(username=name) for name in ("asha", "ravi", "idle"))
    UserFactory(username="newcomer")  # no leads at all
    for moment in (_ist(2026, 11, 28, 0, 0, 0), _ist(2026, 11, 28, 23, 59, 59),
                   _ist(2026, 11, 28, 23, 59, 59, 999999)):
        LeadFactory(creator=asha, followup_date=moment)
    LeadFactory(creator=asha, followup_date=_ist(2026, 11, 29, 0, 0, 0))  # next day
    LeadFactory(creator=asha, followup_date=_ist(2026, 11, 27, 23, 59, 59))  # day before
    # Closed leads are no follow-up to make, whatever their date says.
    for status in ("completed", "lost"):
        LeadFactory(creator=asha, followup_date=_ist(2026, 11, 28, 9, 0), status=status)
    LeadFactory(creator=ravi, followup_date=_ist(2026, 11, 28, 12, 0))
    LeadFactory(creator=ravi, followup_date=None)
    LeadFactory(creator=idle, followup_date=_ist(2026, 12, 5, 10, 0))
    gone = UserFactory(username="gone", is_active=False)
    LeadFactory(creator=gone, followup_date=_ist(2026, 11, 28, 10, 0))


def test_snapshot_counts_each_users_followups_within_the_day(crafted):
    output = _snapshot("--date", "2026-11-28")
    assert _rows() == [("asha", DAY, 3), ("idle", DAY, 0), ("ravi", DAY, 1)]
    assert output == "Follow-up snapshot for 2026-11-28: 3 user(s), 4 follow-up(s).\n"


def test_snapshot_of_the_next_day_counts_the_midnight_followup(crafted):
    _snapshot("--date", "2026-11-29")
    assert _rows() == [("asha", date(2026, 11, 29), 1), ("idle", date(2026, 11, 29), 0),
                       ("ravi", date(2026, 11, 29), 0)]


def test_snapshot_is_idempotent(crafted):
    _snapshot("--date", "2026-11-28")
    first = list(FollowupSnapshot.objects.order_by("pk").values_list("pk", "user", "date",
                                                                     "initial_count"))
    _snapshot("--date", "2026-11-28")
    again = list(FollowupSnapshot.objects.order_by("pk").values_list("pk", "user", "date",
                                                                     "initial_count"))
    assert again == first
    assert len(first) == 3


def test_snapshot_rerun_overwrites_the_count_and_keeps_other_days():
    user = UserFactory(username="asha")
    FollowupSnapshotFactory(user=user, date=DAY, initial_count=9)
    FollowupSnapshotFactory(user=user, date=date(2026, 11, 27), initial_count=4)
    LeadFactory(creator=user, followup_date=_ist(2026, 11, 28, 9, 0))
    _snapshot("--date", "2026-11-28")
    assert _rows() == [("asha", date(2026, 11, 27), 4), ("asha", DAY, 1)]


def test_snapshot_defaults_to_today_in_time_zone(monkeypatch):
    # 19:00 UTC on the 28th is 00:30 on the 29th in Asia/Kolkata.
    monkeypatch.setattr("django.utils.timezone.now",
                        lambda: datetime(2026, 11, 28, 19, 0, tzinfo=ZoneInfo("UTC")))
    LeadFactory(creator=UserFactory(username="asha"), followup_date=_ist(2026, 11, 29, 11, 0))
    output = _snapshot()
    assert _rows() == [("asha", date(2026, 11, 29), 1)]
    assert output == "Follow-up snapshot for 2026-11-29: 1 user(s), 1 follow-up(s).\n"


@pytest.mark.parametrize("users", [3, 30])
def test_snapshot_runs_two_queries_whatever_the_number_of_users(users, django_assert_num_queries):
    for _ in range(users):
        LeadFactory(followup_date=_ist(2026, 11, 28, 10, 0))
    # The SELECT and the upsert; on PostgreSQL also the advisory lock and unlock.
    with django_assert_num_queries(4 if connection.vendor == "postgresql" else 2):
        _snapshot("--date", "2026-11-28")
    assert FollowupSnapshot.objects.filter(date=DAY, initial_count=1).count() == users


def test_snapshot_service_returns_the_rows_written(crafted):
    snapshots = followup_snapshots_take(day=DAY)
    assert sorted((s.user.username, s.initial_count) for s in snapshots) == [
        ("asha", 3), ("idle", 0), ("ravi", 1)]


def test_snapshot_with_no_users_with_leads_writes_nothing():
    UserFactory()
    assert _snapshot("--date", "2026-11-28") == (
        "Follow-up snapshot for 2026-11-28: 0 user(s), 0 follow-up(s).\n")
    assert _rows() == []


@pytest.mark.parametrize("value", ["2026-13-01", "28/11/2026", "tomorrow", ""])
def test_snapshot_refuses_a_bad_date(value):
    with pytest.raises(CommandError) as excinfo:
        _snapshot("--date", value)
    assert str(excinfo.value) == (
        f"--date must be a calendar date as YYYY-MM-DD (e.g. 2026-11-28); got {value!r}.")
    assert _rows() == []


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
def test_snapshot_refuses_a_date_outside_2000_to_2100(value):
    with pytest.raises(CommandError, match="between 2000-01-01 and 2100-12-31"):
        _snapshot("--date", value)
    assert _rows() == []
