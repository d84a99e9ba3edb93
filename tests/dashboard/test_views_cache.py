"""The dashboard views through the cache: warm budget, freshness after writes, outages."""

import re
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.cache_backend import breakers
from dashboard.cache import hit_stats, invalidate_dashboard, lock_policy
from leads import services
from leads.models import Lead, LeadStatus
from tests.dashboard.conftest import DAY, TOKEN_STATEMENTS, local
from tests.factories import FollowupSnapshotFactory, LeadFactory

pytestmark = pytest.mark.django_db

INDEX = reverse("dashboard:index")
DATA = reverse("dashboard:data")
WARM_BUDGET = 3


def _queries(client, url, params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize("url", [INDEX, DATA], ids=["index", "data"])
def test_warm_requests_stay_within_the_three_statement_budget(client, manager, crafted, url):
    params = {"date": DAY.isoformat()}
    counts = {}
    for viewer, extra in ((manager, {}), (manager, {"user": crafted.asha.pk}), (crafted.asha, {})):
        client.force_login(viewer)
        _queries(client, url, {**params, **extra})  # fills the cache
        statements, response = _queries(client, url, {**params, **extra})
        counts[(viewer.username, bool(extra))] = statements
        assert response.wsgi_request.cache_outcome == "hit"
    # The session row (a primary-key lookup: sessions live in the database
    # only), then the user with the manager and bypass checks in one statement
    # (crm.auth.ViewerBackend); without Redis, the version tokens too. (The
    # budget is 3.)
    warm = 2 + TOKEN_STATEMENTS
    assert counts == {(manager.username, False): warm, (manager.username, True): warm,
                      ("asha", False): warm}


class CacheCalls:
    """Records the default cache's operations, one per round trip (an
    operation that calls another, as locmem's get_many calls get, counts once)."""

    def __init__(self, monkeypatch):
        from django.core.cache import cache as default_cache

        self.calls, self._depth = [], 0
        for name in ("get", "get_many", "set", "set_many", "add", "delete", "incr"):
            monkeypatch.setattr(default_cache, name, self._recording(name,
                                                                     getattr(default_cache, name)))

    def _recording(self, name, real):
        def call(keys, *args, **kwargs):
            if self._depth == 0:
                self.calls.append((name, keys))
            self._depth += 1
            try:
                return real(keys, *args, **kwargs)
            finally:
                self._depth -= 1
        return call

    def version_reads(self):
        return [keys for name, keys in self.calls
                if name == "get_many" and all(key.startswith("dash:ver:") for key in keys)]


@pytest.mark.parametrize("url", [INDEX, DATA], ids=["index", "data"])
def test_cache_round_trips_cold_and_warm(client, manager, crafted, monkeypatch, url):
    # No flush of the hit counts within the requests counted.
    monkeypatch.setattr(hit_stats, "monotonic", lambda: 0.0)
    params = {"date": DAY.isoformat()}
    client.force_login(manager)
    recorded = CacheCalls(monkeypatch)
    assert client.get(url, params).wsgi_request.cache_outcome == "miss"
    # The sections are looked up with the version tokens read for the page
    # (from the cache with Redis; without it, from the database), in one
    # round trip.
    assert [set(keys) for keys in recorded.version_reads()] == [
        {"dash:ver:team", *(("dash:ver:users",) if url == INDEX else ())},
    ][:1 - TOKEN_STATEMENTS]
    recorded.calls.clear()
    assert client.get(url, params).wsgi_request.cache_outcome == "hit"
    # The tokens, then the entry.
    assert [name for name, _ in recorded.calls] == ["get_many"] * (2 - TOKEN_STATEMENTS)


def test_cold_then_warm_serves_the_same_document(client, manager, crafted):
    client.force_login(manager)
    cold = client.get(DATA, {"date": DAY.isoformat()})
    warm = client.get(DATA, {"date": DAY.isoformat()})
    assert cold.wsgi_request.cache_outcome == "miss"
    assert warm.wsgi_request.cache_outcome == "hit"
    assert cold.json() == warm.json()


def _pending(client, **params):
    return client.get(DATA, {"date": DAY.isoformat(), **params}).json()["followups"]["pending"]


def test_committed_write_is_seen_on_the_next_request(
    client, manager, crafted, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    assert _pending(client) == 5
    with django_capture_on_commit_callbacks(execute=True):
        LeadFactory(creator=crafted.ravi, followup_date=local(DAY, 15))
    assert _pending(client) == 6
    lead = crafted.leads.ravi_due_evening
    with django_capture_on_commit_callbacks(execute=True):
        lead.followup_date = None
        lead.save()
    assert _pending(client) == 5


def test_bulk_update_and_admin_action_are_seen(
    client, manager, crafted, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    before = client.get(DATA, {"date": DAY.isoformat()}).json()["status_counts"]
    with django_capture_on_commit_callbacks(execute=True):
        services.leads_set_status(leads=Lead.objects.filter(creator=crafted.ravi),
                                  status=LeadStatus.OPEN)
    after = client.get(DATA, {"date": DAY.isoformat()}).json()["status_counts"]
    assert (before["open"], after["open"]) == (1, 4)


def test_write_to_one_user_keeps_another_users_entries(
    client, manager, crafted, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    asha = {"date": DAY.isoformat(), "user": crafted.asha.pk}
    client.get(DATA, asha)
    client.get(DATA, {"date": DAY.isoformat()})
    with django_capture_on_commit_callbacks(execute=True):
        LeadFactory(creator=crafted.ravi, followup_date=local(DAY, 15))
    assert client.get(DATA, asha).wsgi_request.cache_outcome == "hit"
    assert client.get(DATA, {"date": DAY.isoformat()}).wsgi_request.cache_outcome == "miss"


def test_snapshot_write_is_seen(client, manager, crafted, django_capture_on_commit_callbacks):
    client.force_login(manager)
    ravi = {"date": DAY.isoformat(), "user": crafted.ravi.pk}
    assert client.get(DATA, ravi).json()["snapshot_taken"] is False
    with django_capture_on_commit_callbacks(execute=True):
        FollowupSnapshotFactory(user=crafted.ravi, date=DAY, initial_count=4)
    document = client.get(DATA, ravi).json()
    assert (document["snapshot_taken"], document["followups"]["initial"]) == (True, 4)


def test_unreachable_redis_page_answers_quickly_and_writes_succeed(
    client, manager, crafted, make_redis_unreachable, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    make_redis_unreachable()
    started = time.monotonic()
    responses = [client.get(url, {"date": DAY.isoformat()}) for url in (INDEX, DATA, DATA)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.wsgi_request.cache_outcome for r in responses] == ["down", "down", "down"]
    assert time.monotonic() - started < 5.0  # a closed port answers at once
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(creator=crafted.ravi, followup_date=local(DAY, 15))
    assert Lead.objects.filter(pk=lead.pk).exists()
    assert client.get(DATA, {"date": DAY.isoformat()}).json()["followups"]["pending"] == 6


@pytest.mark.usefixtures("one_stats_window")
def test_cache_page_is_for_managers(client, manager, telecaller):
    client.force_login(telecaller)
    assert client.get(reverse("dashboard:cache_stats")).status_code == 403
    client.force_login(manager)
    client.get(DATA)
    client.get(DATA)
    response = client.get(reverse("dashboard:cache_stats"))
    assert response.status_code == 200
    total = response.context["current"]["total"]
    # Two requests: the first built the document (its 3 sections too), the second was cached.
    assert (total["hits"], total["misses"]) == (1, 1)
    page = response.content.decode()
    assert 'id="current-window-rate">50 %' in page
    # Per view: the first team request read the lead table, the second was whole.
    rows = {row["view"]: row for row in response.context["current"]["view_rows"]}
    assert rows["team"] == {"view": "team", "hit": 1, "rebuilt": 0, "miss": 1, "requests": 2,
                            "hit_rate": 0.5}
    assert rows["user"]["requests"] == 0 and rows["user"]["hit_rate"] is None
    assert 'id="current-window-team-rate">50 %' in page
    assert 'id="current-window-user-rate">–' in page


@pytest.mark.usefixtures("one_stats_window")
def test_cache_stats_command_prints_the_hit_rate(client, manager, capsys):
    client.force_login(manager)
    client.get(DATA)
    client.get(DATA)
    call_command("cache_stats")
    out = capsys.readouterr().out
    assert "current window (300 s)" in out
    assert "  requests        1        1    50.0 %" in out
    assert "  team            1        0        1    50.0 %" in out
    assert "  user            0        0        0         –" in out


def test_dashboard_error_keeps_no_lock(client, manager, monkeypatch):
    # A lock left behind would make the second request wait the whole minute.
    monkeypatch.setattr(lock_policy, "wait_seconds", 60)
    client.force_login(manager)
    assert client.get(DATA, {"page": "5"}).status_code == 400
    started = time.monotonic()
    assert client.get(DATA, {"page": "5"}).status_code == 400
    assert time.monotonic() - started < 30


def test_quick_update_from_the_due_list_moves_the_managers_numbers(
    client, manager, crafted, django_capture_on_commit_callbacks
):
    """A telecaller moves a follow-up from the dashboard; the manager's cached
    dashboard shows it on the next request."""
    params = {"date": DAY.isoformat()}
    client.force_login(manager)
    before = client.get(DATA, params).json()["followups"]
    lead = crafted.leads.asha_due_morning  # asha's day has a snapshot of 5
    client.force_login(crafted.asha)
    next_url = f"{INDEX}?date={DAY.isoformat()}"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("leads:quick_update", args=[lead.pk]), {
            "status": LeadStatus.OPEN, "followup_date": "2030-05-12T10:00",
            "remark": "Call on Sunday", "next": next_url})
    assert (response.status_code, response["Location"]) == (302, next_url)
    client.force_login(manager)
    after = client.get(DATA, params).json()["followups"]
    assert (before["pending"], after["pending"]) == (5, 4)
    assert (before["worked"], after["worked"]) == (2, 3)


def test_server_timing_names_the_cache_outcome(client, manager, crafted):
    client.force_login(manager)
    cold = client.get(INDEX, {"date": DAY.isoformat()})
    warm = client.get(INDEX, {"date": DAY.isoformat()})
    assert 'cache;desc="miss"' in cold["Server-Timing"]
    assert 'cache;desc="hit"' in warm["Server-Timing"]
    # The session, the user (and without Redis the version tokens).
    assert f'desc="{2 + TOKEN_STATEMENTS} queries"' in warm["Server-Timing"]


def test_cached_page_body_gets_each_viewers_own_csrf_token_and_next_url(manager, crafted):
    from django.test import Client

    params = {"date": DAY.isoformat()}
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(manager)
    second.force_login(crafted.asha)  # a different scope: fills its own entry
    second_manager = Client(enforce_csrf_checks=True)
    second_manager.force_login(manager)
    first.get(INDEX, params)
    warm = second_manager.get(INDEX, {**params, "page": 1})
    assert warm.wsgi_request.cache_outcome == "hit"
    html = warm.content.decode()
    assert "__CRM_" not in html
    assert f'name="next" value="{INDEX}?date={DAY.isoformat()}&amp;page=1"' in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    lead = crafted.leads.ravi_due_evening
    response = second_manager.post(reverse("leads:quick_update", args=[lead.pk]), {
        "csrfmiddlewaretoken": token, "status": LeadStatus.OPEN,
        "followup_date": "2030-05-12T10:00", "remark": "", "next": INDEX})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.OPEN


def test_cached_page_body_differs_by_role(client, manager, crafted):
    staff = {"date": DAY.isoformat(), "user": crafted.asha.pk}
    client.force_login(manager)  # staff: admin links in the due list
    assert "Admin</a>" in client.get(INDEX, staff).content.decode()
    client.force_login(crafted.asha)  # same scope, not staff
    html = client.get(INDEX, {"date": DAY.isoformat()}).content.decode()
    assert "/admin/leads/lead/" not in html


def _worked_in_trend(response, day):
    """The follow-up updates on `day`, as the page's trend table shows them
    (a cached page renders no template: there is no context to read)."""
    row = re.search(rf'<tr data-date="{day.isoformat()}"><td>[^<]*</td>'
                    r'<td class="num">\d+</td><td class="num">(\d+)</td>'
                    r'<td class="num">\d+</td></tr>',
                    response.content.decode())
    return int(row.group(1))


def test_quick_update_moves_the_cached_trend(client, manager, crafted,
                                             django_capture_on_commit_callbacks):
    """The charts' entry is invalidated with the rest: a follow-up worked today
    shows up in today's bar of the cached trend, for the team and the worker."""
    today = timezone.localdate()
    lead = LeadFactory(creator=crafted.asha, followup_date=local(today, 10))

    def worked_today(**params):
        response = client.get(INDEX, {"date": today.isoformat(), **params})
        return _worked_in_trend(response, today), response.wsgi_request.cache_outcome

    client.force_login(manager)
    assert [worked_today(), worked_today(user=crafted.asha.pk)] == [(0, "miss"), (0, "miss")]
    assert worked_today() == (0, "hit")
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_quick_update(lead=lead, user=crafted.asha, status=LeadStatus.OPEN,
                                   followup_date=local(today + timedelta(days=2), 10))
    assert [worked_today(), worked_today(user=crafted.asha.pk)] == [(1, "miss"), (1, "miss")]


def test_work_on_someone_elses_lead_moves_the_workers_own_trend(
    client, manager, crafted, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    lead = LeadFactory(creator=crafted.asha, followup_date=local(today, 10))
    mine = {"date": today.isoformat(), "user": manager.pk}
    client.force_login(manager)
    assert _worked_in_trend(client.get(INDEX, mine), today) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_quick_update(lead=lead, user=manager, status=LeadStatus.OPEN,
                                   followup_date=local(today + timedelta(days=1), 10))
    assert _worked_in_trend(client.get(INDEX, mine), today) == 1


def test_placeholder_text_typed_by_a_user_is_not_replaced(client, manager, day):
    LeadFactory(creator=manager, customer_name="__CRM_CSRF_TOKEN__", followup_date=local(day, 10))
    LeadFactory(creator=manager, customer_name="<!--crm:viewer--><!--crm:messages-->",
                followup_date=local(day, 11))
    client.force_login(manager)
    client.get(INDEX, {"date": day.isoformat()})
    html = client.get(INDEX, {"date": day.isoformat()}).content.decode()
    assert '/">__CRM_CSRF_TOKEN__</a>' in html
    assert 'name="csrfmiddlewaretoken" value="__CRM_CSRF_TOKEN__"' not in html
    assert '/">&lt;!--crm:viewer--&gt;&lt;!--crm:messages--&gt;</a>' in html


def _leave_message(client, text):
    from django.contrib import messages
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest, HttpResponse

    storage, response = CookieStorage(HttpRequest()), HttpResponse()
    storage.add(messages.ERROR, text)
    storage.update(response)
    client.cookies.update(response.cookies)


def test_cached_page_names_each_viewer_and_shows_only_their_own_messages(manager, crafted):
    from django.test import Client

    from tests.factories import ManagerFactory

    params = {"date": DAY.isoformat()}
    first, second = Client(), Client()
    first.force_login(manager)
    second.force_login(ManagerFactory(username="meera"))
    first.get(INDEX, params)  # fills the entry both managers share
    # A message waiting for the second manager only (a failed quick update
    # now says so on a page of its own, so the message is set directly).
    lead = crafted.leads.ravi_due_evening
    _leave_message(second, f"{lead.customer_name} not updated. Status: unknown.")

    theirs, mine = second.get(INDEX, params), first.get(INDEX, params)
    assert (theirs.wsgi_request.cache_outcome, mine.wsgi_request.cache_outcome) == ("hit", "hit")
    theirs, mine = theirs.content.decode(), mine.content.decode()
    assert "Log out meera</button>" in theirs and f"Log out {manager.username}</button>" in mine
    assert f"{lead.customer_name} not updated." in theirs
    assert "not updated." not in mine
    assert "<!--crm:" not in theirs + mine
    # Shown once: the next page has no message left.
    assert "not updated." not in second.get(INDEX, params).content.decode()


def test_cached_manager_page_follows_the_active_user_list(client, manager, crafted):
    from django.contrib.auth import get_user_model

    params = {"date": DAY.isoformat()}
    client.force_login(manager)
    page = client.get(INDEX, params).content.decode()
    assert f'<option value="{crafted.ravi.pk}">ravi</option>' in page
    # Only the user list's token moves: the team's numbers did not change.
    get_user_model().objects.filter(pk=crafted.ravi.pk).update(is_active=False)
    invalidate_dashboard(team=False, users_list=True)
    response = client.get(INDEX, params)
    assert response.wsgi_request.cache_outcome == "miss"
    assert f'<option value="{crafted.ravi.pk}"' not in response.content.decode()


def test_cached_page_links_its_pages_by_the_query_it_shows(client, manager, day):
    LeadFactory.create_batch(51, creator=manager, followup_date=local(day, 10))
    client.force_login(manager)
    mine = {"date": day.isoformat(), "user": manager.pk}
    client.get(INDEX, {**mine, "utm_source": "mail"})  # fills the entry
    warm = client.get(INDEX, {**mine, "page": 1})
    assert warm.wsgi_request.cache_outcome == "hit"
    html = warm.content.decode()
    assert f'href="?date={day.isoformat()}&amp;user={manager.pk}&amp;page=2" rel="next"' in html
    assert "utm_source" not in html


def test_cached_json_is_the_document_with_its_content_type(client, manager, crafted):
    client.force_login(manager)
    cold = client.get(DATA, {"date": DAY.isoformat()})
    warm = client.get(DATA, {"date": DAY.isoformat()})
    assert warm.wsgi_request.cache_outcome == "hit"
    assert warm["Content-Type"] == cold["Content-Type"] == "application/json"
    assert warm.content == cold.content


def test_failed_invalidation_makes_warm_pages_compute_from_the_database(
    client, manager, crafted, monkeypatch, django_capture_on_commit_callbacks,
    tokens_in_the_cache
):
    from django.core.cache import cache as default_cache

    def redis_went_away(*args, **kwargs):
        raise ConnectionError("redis went away")

    params = {"date": DAY.isoformat()}
    client.force_login(manager)
    for url in (INDEX, DATA):
        client.get(url, params)  # cached
    before = client.get(DATA, params).json()["totals"]["leads"]
    with monkeypatch.context() as outage:
        outage.setattr(default_cache, "incr", redis_went_away)
        outage.setattr(default_cache, "bump_counters", redis_went_away, raising=False)
        outage.setattr(default_cache, "set", redis_went_away)
        with django_capture_on_commit_callbacks(execute=True):
            LeadFactory(creator=crafted.asha)
    breakers.reset()  # Redis is back, still holding the old entries

    page, document = client.get(INDEX, params), client.get(DATA, params)
    assert [r.wsgi_request.cache_outcome for r in (page, document)] == ["bypass", "bypass"]
    assert f'id="total-leads">{before + 1}<' in page.content.decode()
    assert document.json()["totals"]["leads"] == before + 1


def test_failed_invalidation_bypasses_only_the_scopes_whose_bump_failed(
    client, manager, crafted, monkeypatch, django_capture_on_commit_callbacks,
    tokens_in_the_cache
):
    from django.core.cache import cache as default_cache

    def redis_went_away(*args, **kwargs):
        raise ConnectionError("redis went away")

    day = {"date": DAY.isoformat()}
    asha, ravi = {**day, "user": crafted.asha.pk}, {**day, "user": crafted.ravi.pk}
    client.force_login(manager)
    for params in (day, asha, ravi):
        client.get(DATA, params)  # cached
    with monkeypatch.context() as outage:
        outage.setattr(default_cache, "incr", redis_went_away)
        outage.setattr(default_cache, "bump_counters", redis_went_away, raising=False)
        outage.setattr(default_cache, "set", redis_went_away)
        with django_capture_on_commit_callbacks(execute=True):
            LeadFactory(creator=crafted.asha)  # bumps asha and the team: both fail
    breakers.reset()

    outcomes = [client.get(DATA, params).wsgi_request.cache_outcome for params in (day, asha)]
    assert outcomes == ["bypass", "bypass"]
    statements, response = _queries(client, DATA, ravi)
    # The session row, then the user with its flags: still no statement for the bypass.
    assert (response.wsgi_request.cache_outcome, statements) == ("hit", 2)

    page = client.get(reverse("dashboard:cache_stats")).content.decode()
    assert "the whole team</td>" in page and f"user #{crafted.asha.pk}</td>" in page
    assert f"user #{crafted.ravi.pk}<" not in page
    assert "Bypassed until" in page and "No bypass is active" not in page


def test_cache_page_says_when_no_bypass_is_active(client, manager):
    client.force_login(manager)
    page = client.get(reverse("dashboard:cache_stats")).content.decode()
    assert "No bypass is active" in page


@pytest.mark.parametrize("maxmemory, policy, warning", [
    (0, "noeviction", "Redis runs without <code>maxmemory</code>"),
    (64 * 2**20, "noeviction", "and the policy\n    <code>noeviction</code>"),
    (0, "volatile-lru", "Redis runs without <code>maxmemory</code>"),
    (64 * 2**20, "volatile-lru", None),
], ids=["neither", "noeviction", "no maxmemory", "volatile-lru"])
def test_cache_page_warns_when_redis_would_refuse_writes(
    client, manager, use_private_redis, maxmemory, policy, warning
):
    use_private_redis.admin.config_set("maxmemory", maxmemory)
    use_private_redis.admin.config_set("maxmemory-policy", policy)
    client.force_login(manager)
    page = client.get(reverse("dashboard:cache_stats")).content.decode()
    if warning is None:
        assert "Warning:" not in page
        assert "Redis keeps at most 64.0" in page and "<code>volatile-lru</code>" in page
    else:
        assert "<strong>Warning:</strong>" in page
        assert warning in page


def test_new_for_you_on_the_page_is_fresh_after_an_assignment_and_the_owners_update(
    client, manager, crafted, django_capture_on_commit_callbacks
):
    from leads.ownership import leads_give

    asha = crafted.asha
    client.force_login(asha)
    assert "New for you" not in client.get(INDEX).content.decode()
    lead = LeadFactory(creator=crafted.ravi)
    with django_capture_on_commit_callbacks(execute=True):
        leads_give({lead.pk: asha.pk}, rule="manual", changed_by=manager)
    assert "New for you (1)" in client.get(INDEX).content.decode()
    lead.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_update(lead=lead, user=asha, changes={"remarks": "called"})
    assert "New for you" not in client.get(INDEX).content.decode()
