from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from dashboard import selectors
from leads.models import Lead, LeadStatus, WorkedLead, day_bounds
from leads.rescheduling import RescheduleError, leads_reschedule, spread_days
from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _local(moment):
    return timezone.localtime(moment)


def test_spread_days_skips_sundays_unless_told():
    saturday = date(2026, 11, 28)
    assert spread_days(5, start=saturday, per_day=2) == [
        saturday, saturday, date(2026, 11, 30), date(2026, 11, 30), date(2026, 12, 1)]
    assert spread_days(3, start=saturday, per_day=2, skip_sundays=False) == [
        saturday, saturday, date(2026, 11, 29)]
    with pytest.raises(RescheduleError, match="at least 1"):
        spread_days(1, start=saturday, per_day=0)


def test_reschedule_to_one_date_logs_rescheduled_rows_by_the_manager():
    boss = ManagerFactory(username="boss")
    owner = UserFactory(username="owner")
    leads = LeadFactory.create_batch(2, creator=owner)
    closed = LeadFactory(creator=owner, status=LeadStatus.COMPLETED)
    target = timezone.now() + timedelta(days=5)
    moved = leads_reschedule(leads=Lead.objects.filter(creator=owner), by_user=boss, to=target)
    assert moved == 2
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads])
               .values_list("followup_date", flat=True)) == {target}
    closed_before = closed.followup_date
    closed.refresh_from_db()
    assert closed.followup_date == closed_before
    rows = list(WorkedLead.objects.order_by("lead_id").values_list(
        "lead_id", "user__username", "kind", "old_followup_date", "new_followup_date"))
    assert rows == [(lead.pk, "boss", "rescheduled", lead.followup_date, target)
                    for lead in leads]


def test_spread_n_a_day_oldest_first_unscheduled_last():
    boss = ManagerFactory(username="boss")
    owner = UserFactory()
    now = timezone.now()
    unscheduled = LeadFactory(creator=owner, followup_date=None)
    older = LeadFactory(creator=owner, followup_date=now - timedelta(days=9))
    newer = LeadFactory(creator=owner, followup_date=now - timedelta(days=2))
    saturday = date(2026, 11, 28)
    leads_reschedule(leads=Lead.objects.all(), by_user=boss, start=saturday, per_day=2,
                     at_time=time(9, 30))
    placed = {pk: _local(followup) for pk, followup in
              Lead.objects.values_list("pk", "followup_date")}
    assert placed[older.pk] == placed[newer.pk] == _local(
        timezone.make_aware(datetime(2026, 11, 28, 9, 30)))
    assert placed[unscheduled.pk].date() == date(2026, 11, 30)  # Sunday skipped


def test_reschedule_needs_one_way_and_writes_nothing_otherwise():
    boss = ManagerFactory()
    LeadFactory()
    with pytest.raises(RescheduleError):
        leads_reschedule(leads=Lead.objects.all(), by_user=boss)
    assert WorkedLead.objects.count() == 0


def test_statements_do_not_grow_with_the_leads(django_assert_max_num_queries):
    boss = ManagerFactory()
    LeadFactory.create_batch(40, creator=UserFactory())
    # Lock + read (1), one UPDATE and one INSERT per batch (2), savepoints.
    with django_assert_max_num_queries(5):
        assert leads_reschedule(leads=Lead.objects.all(), by_user=boss,
                                to=timezone.now() + timedelta(days=3)) == 40


def test_a_reschedule_is_not_worked_by_the_telecaller(django_capture_on_commit_callbacks):
    """docs/dashboard.md: without a snapshot, initial counts pending plus the
    leads worked off the day by `moved` or `closed` rows only, so a manager's
    reschedule out of the day adds nothing to worked, nor to the trend's
    follow-up updates, for the telecaller or the manager."""
    boss = ManagerFactory(username="boss")
    owner = UserFactory(username="owner")
    today = timezone.localdate()
    end_of_today = day_bounds(today)[1] - timedelta(minutes=1)
    LeadFactory(creator=owner, followup_date=end_of_today)
    moved_by_owner = LeadFactory(creator=owner, followup_date=end_of_today)

    def row():
        team = selectors.dashboard_team_performance(day=today, user_id=owner.pk)["team"]
        return {key: team[0][key] for key in ("initial", "worked", "pending")}

    def updates(user):
        return selectors.dashboard_trend(day=today, user_id=user.pk)[-1]["updates"]

    assert row() == {"initial": 2, "worked": 0, "pending": 2}
    with django_capture_on_commit_callbacks(execute=True):
        leads_reschedule(leads=Lead.objects.exclude(pk=moved_by_owner.pk), by_user=boss,
                         to=end_of_today + timedelta(days=2))
    assert row() == {"initial": 1, "worked": 0, "pending": 1}
    assert (updates(owner), updates(boss)) == (0, 0)
