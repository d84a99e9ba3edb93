from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from dashboard import selectors
from leads.models import FOLLOWUP_WORK_KINDS, FollowupSnapshot, Lead, WorkedLead, day_bounds

pytestmark = pytest.mark.django_db

FIELDS = ("customer_name", "mobile", "car_registration", "followup_date", "remarks", "status",
          "created_at", "creator__username")


def _rows():
    return list(Lead.objects.order_by("id").values_list(*FIELDS))


def test_seed_demo_is_deterministic(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--seed", "7", "--leads", "300", "--users", "3")
    first = _rows()
    Lead.objects.all().delete()
    call_command("seed_demo", "--seed", "7", "--leads", "300", "--users", "3")
    assert _rows() == first
    assert len(first) == 300
    Lead.objects.all().delete()
    call_command("seed_demo", "--seed", "8", "--leads", "300", "--users", "3")
    assert _rows() != first


def test_seed_demo_spreads_statuses_and_followups(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--leads", "2000")
    assert sorted(Lead.objects.values_list("status", flat=True).distinct()) == [
        "completed", "confirmed", "did_not_pick_up", "feedback", "lost", "needs_followup",
        "open"]
    assert Lead.objects.filter(followup_date=None).exists()
    from django.utils import timezone
    due_today = Lead.objects.followup_on(timezone.localdate()).count()
    assert 20 <= due_today <= 200  # "a few percent" of 2,000
    assert Lead.objects.values("creator").distinct().count() == 8


def test_seed_demo_creates_the_printed_logins(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo", "--leads", "10", "--users", "2")
    out = capsys.readouterr().out
    assert "admin / admin" in out and "manager / manager" in out
    from django.contrib.auth import authenticate
    manager = authenticate(username="manager", password="manager")
    assert manager.has_perm("leads.view_team_dashboard") is True
    assert authenticate(username="telecaller02", password="telecaller") is not None


def test_seed_demo_if_empty_skips_when_leads_exist(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo", "--leads", "5", "--users", "1")
    capsys.readouterr()
    call_command("seed_demo", "--leads", "5", "--users", "1", "--if-empty")
    assert Lead.objects.count() == 5
    # `make run` runs it every time: the logins are printed every time.
    assert "manager / manager" in capsys.readouterr().out


def test_seed_demo_refuses_debug_off_without_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("seed_demo", "--leads", "5")
    assert Lead.objects.count() == 0
    call_command("seed_demo", "--leads", "5", "--users", "1", "--force")
    assert Lead.objects.count() == 5


@pytest.fixture
def seeded_at_two_pm(settings, monkeypatch):
    """The demo as `make run` seeds it, at 14:00 on 30 Nov 2026 (Asia/Kolkata)."""
    settings.DEBUG = True
    now = datetime(2026, 11, 30, 14, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    call_command("seed_demo", "--leads", "800", "--users", "3")
    return now.date()


def test_seed_demo_writes_fourteen_days_of_snapshots_and_today(seeded_at_two_pm):
    today = seeded_at_two_pm
    per_day = list(FollowupSnapshot.objects.values_list("date").annotate(n=Count("id"))
                   .order_by("date"))
    assert per_day == [(today - timedelta(days=offset), 3) for offset in range(14, -1, -1)]
    assert WorkedLead.objects.filter(work_date__gt=today).count() == 0
    assert WorkedLead.objects.filter(work_date__lt=today - timedelta(days=14)).count() == 0


def test_seeded_dashboard_shows_real_work_and_its_numbers_agree(seeded_at_two_pm):
    today = seeded_at_two_pm
    team = selectors.dashboard_team_performance(day=today, user_id=None)
    followups = team["followups"]
    snapshots = FollowupSnapshot.objects.filter(date=today).aggregate(n=Sum("initial_count"))
    assert team["snapshot_taken"] is True
    assert followups["initial"] == snapshots["n"]
    assert followups["pending"] == Lead.objects.due_on(today).count()
    assert followups["worked"] == followups["initial"] - followups["pending"]
    # The snapshots are what the work log says: without them, the same initial.
    assert followups["worked"] == Lead.objects.worked_off(today).distinct().count()
    # Non-zero, as pinned for this seed and moment.
    assert followups == {"initial": 29, "worked": 8, "pending": 21, "completion_pct": 27.6}
    trend = selectors.dashboard_trend(day=today, user_id=None)
    todays_rows = WorkedLead.objects.filter(work_date=today, kind__in=FOLLOWUP_WORK_KINDS)
    assert (trend[-1]["date"], trend[-1]["updates"]) == (today.isoformat(), todays_rows.count())
    for row in team["team"]:
        assert row["worked"] == row["initial"] - row["pending"]


def test_seed_demo_history_is_deterministic(settings, monkeypatch):
    settings.DEBUG = True
    now = datetime(2026, 11, 30, 14, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)

    def history():
        return (list(WorkedLead.objects.order_by("id").values_list(
                    "lead__mobile", "kind", "work_date", "old_followup_date", "worked_at")),
                list(FollowupSnapshot.objects.order_by("user__username", "date")
                     .values_list("user__username", "date", "initial_count")))

    call_command("seed_demo", "--seed", "7", "--leads", "300", "--users", "2")
    first = history()
    Lead.objects.all().delete()
    FollowupSnapshot.objects.all().delete()
    call_command("seed_demo", "--seed", "7", "--leads", "300", "--users", "2")
    assert history() == first


def test_seeded_work_has_its_calls_and_the_dashboard_counts_them(seeded_at_two_pm):
    from calls.models import CallLog

    today = seeded_at_two_pm
    work = WorkedLead.objects.all()
    assert CallLog.objects.count() == work.count() > 0
    # Each call by the worker, on the lead, minutes before the work.
    for call, row in zip(CallLog.objects.order_by("lead_id"), work.order_by("lead_id"),
                         strict=True):
        assert (call.lead_id, call.user_id) == (row.lead_id, row.user_id)
        assert timedelta(0) < row.worked_at - call.called_at <= timedelta(minutes=5)
    completed = work.filter(kind="closed", lead__status="completed").values("lead_id")
    assert set(CallLog.objects.filter(lead_id__in=completed)
               .values_list("outcome", flat=True)) == {"connected"}
    day = selectors.dashboard_day_metrics(day=today, user_id=None)
    made_today = CallLog.objects.filter(called_at__range=day_bounds(today)).count()
    assert made_today > 0
    trend = selectors.dashboard_trend(day=today, user_id=None)
    assert trend[-1]["calls"] == made_today
    assert day["calls"]["attempts"] == made_today
