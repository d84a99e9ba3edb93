"""The team view rebuilt from per-owner parts (dashboard/team_parts.py): equal
to a fresh computation, without reading the lead table once the parts are
current, and a write retires only its owners' parts (and the team's entries)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard import selectors
from dashboard.cache import (
    PART_FAMILY,
    cache_stats,
    invalidate_dashboard,
    read_versions,
    user_scope,
)
from dashboard.team_parts import FEW_OWNERS, compute_parts, owner_part
from leads import services
from leads.models import LeadStatus, WorkedLead
from tests.dashboard.conftest import DAY, local
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

DATA = reverse("dashboard:data")
INDEX = reverse("dashboard:index")


def _reads_lead_table(captured):
    return [q["sql"] for q in captured if '"leads_lead"' in q["sql"]
            and not q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]


def _plain_team_view(day, page=1):
    with selectors.shared_queries():
        return (selectors.dashboard_day_metrics(day=day, user_id=None),
                selectors.dashboard_team_performance(day=day, user_id=None),
                selectors.dashboard_due_page(day=day, user_id=None, page=page),
                selectors.dashboard_trend(day=day, user_id=None))


def _team_view_from(day, parts):
    with selectors.team_from_parts(day=day, parts=parts):
        return _plain_team_view(day)


@pytest.fixture
def busy_team(crafted):
    """crafted, plus more due leads than a page (spread over owners so the
    team's first page interleaves them) and work-log rows."""
    for n in range(70):
        owner = (crafted.asha, crafted.ravi, crafted.gone)[n % 3]
        LeadFactory(creator=owner, followup_date=local(DAY, n % 24, n % 60),
                    created_at=local(DAY - timedelta(days=n % 16), 9),
                    status=(LeadStatus.OPEN, LeadStatus.COMPLETED, LeadStatus.CONFIRMED)[n % 3])
    services.lead_quick_update(lead=crafted.leads.ravi_due_evening, user=crafted.ravi,
                               status=LeadStatus.OPEN, followup_date=local(DAY + timedelta(2), 9),
                               remark="called")
    return crafted


@pytest.fixture
def refreshing_writes(settings):
    """Writes refresh their owners' parts (CRM_DASHBOARD_REFRESH_PARTS=1; off
    by default: it costs the write statements, docs/cache.md)."""
    settings.DASHBOARD_REFRESH_PARTS = True


@pytest.mark.parametrize("one_by_one", [True, False], ids=["one by one", "together"])
@pytest.mark.parametrize("offset", [0, -1, 3])
def test_a_team_view_from_parts_equals_a_fresh_computation(busy_team, one_by_one, offset):
    day = DAY + timedelta(days=offset)
    owners = selectors.team_part_owners()
    assert len(owners) == 3  # asha, ravi and the inactive gone: every owner of leads
    parts = selectors.team_parts(day=day, owners=owners, one_by_one=one_by_one)
    with CaptureQueriesContext(connection) as captured:
        rebuilt = _team_view_from(day, parts)
    assert rebuilt == _plain_team_view(day)
    # Only the due page reads leads: one page through the follow-up index.
    (due_page,) = _reads_lead_table(captured)
    assert "LIMIT 50" in due_page
    assert rebuilt[2]["total"] > selectors.DUE_PAGE_SIZE or offset != 0


def test_parts_computed_together_cost_the_same_statements_for_any_team(busy_team):
    owners = selectors.team_part_owners()
    with CaptureQueriesContext(connection) as few:
        selectors.team_parts(day=DAY, owners=owners[:1])
    more = [UserFactory() for _ in range(6)]
    for user in more:
        LeadFactory(creator=user, followup_date=local(DAY, 12))
    owners = selectors.team_part_owners()
    with CaptureQueriesContext(connection) as many:
        selectors.team_parts(day=DAY, owners=owners)
    # The team's day pass: the day and status counters, and the day's
    # work-log leads, in one statement.
    assert len(few) == len(many) == 1


def test_a_write_retires_only_its_owners_part_and_the_team(
    client, manager, busy_team, django_capture_on_commit_callbacks, refreshing_writes):
    asha, ravi = busy_team.asha.pk, busy_team.ravi.pk
    # Tokens exist, as after any earlier write (a scope's first bump creates
    # its token from the clock: its parts are then left to the next rebuild).
    invalidate_dashboard(user_ids={asha, ravi})
    client.force_login(manager)
    assert client.get(DATA, {"date": DAY.isoformat()}).status_code == 200  # parts stored
    before = read_versions([user_scope(asha), user_scope(ravi), "team"])
    with django_capture_on_commit_callbacks(execute=True):
        LeadFactory(creator=busy_team.asha, followup_date=local(DAY, 16))
    after = read_versions([user_scope(asha), user_scope(ravi), "team"])
    assert after[user_scope(ravi)] == before[user_scope(ravi)]
    assert after[user_scope(asha)] > before[user_scope(asha)]
    assert after["team"] > before["team"]

    # Which parts are still current: computing any other fails the test.
    asked = []

    def compute(missing):
        asked.extend(part.params["owner"] for part in missing)
        return compute_parts(missing, one_by_one=True)

    from dashboard.cache import fetch_parts

    parts = [owner_part(DAY, owner) for owner in selectors.team_part_owners()]
    # The write refreshed asha's part for the day whose team view was shown.
    assert fetch_parts(parts, compute)[1] == 0
    assert asked == []


def test_after_a_write_the_team_view_is_rebuilt_reading_one_page_of_leads(
    client, manager, busy_team, django_capture_on_commit_callbacks, one_stats_window,
    refreshing_writes,
):
    invalidate_dashboard(user_ids={busy_team.asha.pk})  # asha's token exists
    client.force_login(manager)
    params = {"date": DAY.isoformat()}
    for url in (DATA, INDEX):
        client.get(url, params)
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            services.lead_quick_update(
                lead=busy_team.leads.asha_due_morning, user=busy_team.asha,
                status=LeadStatus.OPEN, followup_date=local(DAY, 20, n), remark=f"call {n}")
        for url in (DATA, INDEX):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, params)
            assert response.wsgi_request.cache_outcome == "miss"
            # Bounded reads only: the due page (one page through the index,
            # unless the page shares the document's) and, when a part is
            # recomputed, the day pass over the counters.
            reads = _reads_lead_table(captured)
            assert sum("LIMIT 50" in sql for sql in reads) <= 1
            assert all("LIMIT 50" in sql or "leads_leaddaydelta" in sql
                                 for sql in reads)
    document = client.get(DATA, params).json()
    day_metrics, team, due, _ = _plain_team_view(DAY)
    assert (document["totals"], document["team"], document["due"]) == (
        day_metrics["totals"], team["team"], due)
    # Each write's JSON document read the due page (a miss, as its first
    # computation did); each page after it took its sections from the
    # document's and its trend from the parts (rebuilt), the last a hit.
    assert cache_stats()["views"]["team"] == {"hit": 1, "rebuilt": 4, "miss": 4}


def test_a_write_to_many_owners_leaves_their_parts_to_the_next_rebuild(
    client, manager, busy_team, django_capture_on_commit_callbacks
):
    from leads.models import Lead

    owners = [UserFactory() for _ in range(FEW_OWNERS + 1)]
    with django_capture_on_commit_callbacks(execute=True):
        for owner in owners:
            LeadFactory(creator=owner, followup_date=local(DAY, 8))
    client.force_login(manager)
    params = {"date": DAY.isoformat()}
    client.get(DATA, params)
    with django_capture_on_commit_callbacks(execute=True):
        services.leads_set_status(leads=Lead.objects.filter(creator__in=owners),
                                  status=LeadStatus.COMPLETED)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(DATA, params)
    assert response.json()["due"] == _plain_team_view(DAY)[2]
    assert response.json()["followups"] == _plain_team_view(DAY)[1]["followups"]
    assert _reads_lead_table(captured)  # the five parts, computed together


def test_a_bypassed_team_is_computed_without_parts(client, manager, busy_team):
    from django.utils import timezone

    from dashboard.models import CacheBypass

    client.force_login(manager)
    CacheBypass.objects.create(scope="team", until=timezone.now() + timedelta(minutes=5))
    response = client.get(DATA, {"date": DAY.isoformat()})
    assert response.wsgi_request.cache_outcome == "bypass"
    parts = next(f for f in cache_stats()["families"] if f["family"] == PART_FAMILY)
    assert parts["hits"] + parts["misses"] == 0
    assert cache_stats()["views"]["team"] == {"hit": 0, "rebuilt": 0, "miss": 1}


def test_work_log_rows_reach_the_rebuilt_trend(
    client, manager, busy_team, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    client.get(INDEX, {"date": DAY.isoformat()})
    worked = WorkedLead.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_quick_update(lead=busy_team.leads.ravi_due_early, user=busy_team.ravi,
                                   status=LeadStatus.OPEN, followup_date=local(DAY, 21),
                                   remark="again")
    assert WorkedLead.objects.count() == worked + 1
    assert _plain_team_view(DAY)[3] == _team_view_from(
        DAY, selectors.team_parts(day=DAY, owners=selectors.team_part_owners()))[3]


def test_a_part_computed_across_another_writes_bump_is_not_stored(
    client, manager, busy_team, monkeypatch, refreshing_writes):
    from dashboard import team_parts
    from dashboard.cache import fetch_parts

    asha = busy_team.asha.pk
    invalidate_dashboard(user_ids={asha})
    client.force_login(manager)
    client.get(DATA, {"date": DAY.isoformat()})  # the day's team view: parts refreshed for it
    real = selectors.team_parts

    def with_a_concurrent_write(**kwargs):
        computed = real(**kwargs)
        invalidate_dashboard(user_ids={asha})  # another write's bump, after our read
        return computed

    monkeypatch.setattr(selectors, "team_parts", with_a_concurrent_write)
    team_parts.invalidate_and_refresh({asha})
    monkeypatch.undo()
    computed = fetch_parts([owner_part(DAY, asha)], lambda missing: compute_parts(
        missing, one_by_one=True))[1]
    assert computed == 1  # not stored under a token it might not reflect

    team_parts.invalidate_and_refresh({asha})  # alone: stored
    assert fetch_parts([owner_part(DAY, asha)], lambda missing: pytest.fail("computed"))[1] == 0


def test_without_the_refresh_a_write_leaves_its_owners_part_to_the_next_rebuild(
    client, manager, busy_team, settings, django_capture_on_commit_callbacks
):
    from dashboard.cache import fetch_parts

    settings.DASHBOARD_REFRESH_PARTS = False
    asha = busy_team.asha.pk
    invalidate_dashboard(user_ids={asha})
    client.force_login(manager)
    client.get(DATA, {"date": DAY.isoformat()})
    with (CaptureQueriesContext(connection) as write,
          django_capture_on_commit_callbacks(execute=True)):
        LeadFactory(creator=busy_team.asha, followup_date=local(DAY, 16))
    assert _reads_lead_table(write) == []  # the write computed no part
    parts = [owner_part(DAY, owner) for owner in selectors.team_part_owners()]
    asked = []

    def compute(missing):
        asked.extend(part.params["owner"] for part in missing)
        return compute_parts(missing, one_by_one=True)

    assert fetch_parts(parts, compute)[1] == 1
    assert asked == [asha]  # the other owners' parts stayed current


def test_a_failing_refresh_never_stops_the_invalidation(
    busy_team, monkeypatch, caplog, refreshing_writes
):
    from dashboard import team_parts

    asha = busy_team.asha.pk
    invalidate_dashboard(user_ids={asha})
    from dashboard.cache import remember_team_day

    remember_team_day(DAY.isoformat())  # the refresh runs for a recently shown day
    before = read_versions([user_scope(asha), "team"])

    def broken(**kwargs):
        raise RuntimeError("a bug in the parts")

    monkeypatch.setattr(selectors, "team_parts", broken)
    team_parts.invalidate_and_refresh({asha})
    after = read_versions([user_scope(asha), "team"])
    assert after[user_scope(asha)] > before[user_scope(asha)]
    assert after["team"] > before["team"]
    assert "not refreshed" in caplog.text
