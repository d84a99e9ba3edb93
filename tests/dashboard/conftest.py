from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from leads.models import LeadStatus
from tests.factories import FollowupSnapshotFactory, LeadFactory, UserFactory

# The business day most tests look at.
DAY = date(2024, 5, 10)

# On the embedded default (no Redis) the dashboard reads its version tokens
# from the database (dashboard/cache/tokens.py): one statement more per
# dashboard request, warm or cold. With Redis, none.
TOKEN_STATEMENTS = 1 if django_settings.DASHBOARD_VERSION_TOKENS == "database" else 0


def local(day, hour=0, minute=0, second=0):
    """An aware datetime at the given wall-clock time of `day` in TIME_ZONE."""
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute, second))


@pytest.fixture
def day():
    return DAY


@pytest.fixture
def one_stats_window(monkeypatch):
    """Hit counts stay in one stats window however long the test takes."""
    from dashboard.cache import hit_stats

    monkeypatch.setattr(hit_stats, "clock", lambda: 1000 * hit_stats.window_seconds)


@pytest.fixture
def crafted(db):
    """A small team on DAY, with the edges of the definitions.

    asha (active, snapshot of 5 on DAY), ravi (active, no snapshot on DAY),
    idle (active, no leads), gone (inactive, one lead due on DAY).
    """
    before, after = DAY - timedelta(days=1), DAY + timedelta(days=1)
    asha = UserFactory(username="asha")
    ravi = UserFactory(username="ravi")
    idle = UserFactory(username="idle")
    gone = UserFactory(username="gone", is_active=False)
    leads = SimpleNamespace(
        asha_due_morning=LeadFactory(
            creator=asha,
            followup_date=local(DAY, 10),
            created_at=local(DAY - timedelta(days=5), 10),
        ),
        # The last second of DAY: due within DAY and created within DAY.
        asha_due_last_second=LeadFactory(
            creator=asha,
            followup_date=local(DAY, 23, 59, 59),
            created_at=local(DAY),
            status=LeadStatus.CONFIRMED,
        ),
        # The first second of the next day: neither due nor created within DAY.
        asha_next_day=LeadFactory(
            creator=asha,
            followup_date=local(after),
            created_at=local(after),
            status=LeadStatus.COMPLETED,
        ),
        asha_no_followup=LeadFactory(
            creator=asha, no_followup=True, created_at=local(DAY, 12), status=LeadStatus.COMPLETED
        ),
        asha_due_yesterday=LeadFactory(
            creator=asha,
            followup_date=local(before, 23, 59, 59),
            created_at=local(DAY - timedelta(days=30)),
            status=LeadStatus.OPEN,
        ),
        ravi_due_early=LeadFactory(
            creator=ravi,
            followup_date=local(DAY, 9),
            created_at=local(DAY - timedelta(days=2)),
            status=LeadStatus.CONFIRMED,
        ),
        ravi_due_evening=LeadFactory(
            creator=ravi, followup_date=local(DAY, 18), created_at=local(before, 23, 59, 59)
        ),
        ravi_no_followup=LeadFactory(
            creator=ravi,
            no_followup=True,
            created_at=local(DAY - timedelta(days=3)),
            status=LeadStatus.FEEDBACK,
        ),
        gone_due=LeadFactory(
            creator=gone,
            followup_date=local(DAY, 11),
            created_at=local(DAY, 1),
            status=LeadStatus.DID_NOT_PICK_UP,
        ),
    )
    FollowupSnapshotFactory(user=asha, date=DAY, initial_count=5)
    # Another day's snapshot must not count for DAY.
    FollowupSnapshotFactory(user=ravi, date=before, initial_count=9)
    return SimpleNamespace(asha=asha, ravi=ravi, idle=idle, gone=gone, leads=leads)
