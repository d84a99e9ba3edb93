"""A recorded call refreshes the caller's, the lead owner's and the team's
dashboard entries, and no one else's."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.signals import leads_changed
from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

INDEX = reverse("dashboard:index")
IST = ZoneInfo("Asia/Kolkata")


@pytest.fixture
def announced():
    seen = []

    def record(sender, *, owner_ids, users_changed=False, **kwargs):
        seen.append((set(owner_ids), users_changed))

    leads_changed.connect(record, dispatch_uid="tests.calls.announced")
    yield seen
    leads_changed.disconnect(dispatch_uid="tests.calls.announced")


def _record_call(client, lead, **data):
    return client.post(reverse("leads:quick_update", args=[lead.pk]), {
        "status": lead.status, "followup_date": "2030-12-01T10:00", "outcome": "busy",
        "next": "/dashboard/", **data})


def test_a_managers_call_announces_the_caller_and_the_owner_once(
        client, manager, telecaller, announced, django_capture_on_commit_callbacks):
    lead = LeadFactory(creator=telecaller)
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert _record_call(client, lead).status_code == 302
    # One announcement for the lead's move, its work-log row and the call.
    assert len(callbacks) == 1
    assert announced == [({manager.pk, telecaller.pk}, False)]


def test_a_call_alone_announces_the_caller_and_the_owner(
        client, manager, telecaller, announced, django_capture_on_commit_callbacks):
    # Already scheduled for the time posted: the lead's row is not written.
    lead = LeadFactory(creator=telecaller, followup_date=datetime(2030, 12, 1, 10, tzinfo=IST))
    modified = lead.modified_at
    announced.clear()
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        assert _record_call(client, lead).status_code == 302
    lead.refresh_from_db()
    assert lead.modified_at == modified
    assert announced == [({manager.pk, telecaller.pk}, False)]


def test_a_call_refreshes_the_callers_owners_and_teams_pages_and_no_others(
        client, telecaller, django_capture_on_commit_callbacks):
    caller = ManagerFactory(username="meera")
    bystander = UserFactory(username="bystander")
    LeadFactory(creator=bystander)
    lead = LeadFactory(creator=telecaller)
    today = timezone.localdate().isoformat()
    client.force_login(caller)
    scopes = {"team": {}, "caller": {"user": caller.pk}, "owner": {"user": telecaller.pk},
              "bystander": {"user": bystander.pk}}

    def outcomes():
        return {name: client.get(INDEX, {"date": today, **query}).wsgi_request.cache_outcome
                for name, query in scopes.items()}

    assert set(outcomes().values()) == {"miss"}
    assert set(outcomes().values()) == {"hit"}
    with django_capture_on_commit_callbacks(execute=True):
        assert _record_call(client, lead).status_code == 302
    assert outcomes() == {"team": "miss", "caller": "miss", "owner": "miss", "bystander": "hit"}
    # The new numbers, not just a recomputation: the caller's call counts for them.
    data = client.get(reverse("dashboard:data"), {"date": today, "user": caller.pk}).json()
    assert data["calls"] == {"attempts": 1, "connected": 0, "connect_pct": 0.0}
    team = client.get(reverse("dashboard:data"), {"date": today}).json()
    assert team["calls"] == {"attempts": 1, "connected": 0, "connect_pct": 0.0}


def test_dashboard_budgets_hold_with_calls(client, manager, telecaller):
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.dashboard.conftest import TOKEN_STATEMENTS
    from tests.factories import CallLogFactory

    today = timezone.localdate()
    leads = [LeadFactory(creator=telecaller, followup_date=timezone.now()) for _ in range(3)]
    for lead in leads:
        CallLogFactory.create_batch(2, lead=lead, user=telecaller)
    CallLogFactory(lead=leads[0], user=manager, outcome="connected")
    client.force_login(manager)

    def statements():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(INDEX, {"date": today.isoformat()})
        assert response.status_code == 200
        return len(captured), response

    for alias in settings.CACHES:
        caches[alias].clear()
    cold, response = statements()
    assert '<span class="card-value" id="calls-attempts">7</span>' in response.content.decode()
    warm, _ = statements()
    # Session, user, the user list, the counters, the day pass, users and
    # snapshots, the due page (with its attempts), the day's calls, the trend.
    assert (cold, warm) == (9 + TOKEN_STATEMENTS, 2 + TOKEN_STATEMENTS)
    assert cold <= 12
