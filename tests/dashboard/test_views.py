import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.selectors import TEAM_PAGE_SIZE
from leads.models import FollowupSnapshot, Lead, LeadStatus
from tests.dashboard.conftest import DAY, TOKEN_STATEMENTS, local
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

INDEX = reverse("dashboard:index")
DATA = reverse("dashboard:data")
# A cold dashboard request, session and authentication included: the budget
# for the day's work, the intake and the calls together (issues 14-16); the
# embedded default's version-token read counts too.
QUERY_BUDGET = 12


def _get_json(client, **params):
    response = client.get(DATA, params)
    return response.status_code, response.json()


# --- URLs and authentication ------------------------------------------------------


def test_urls_are_namespaced():
    assert (INDEX, DATA) == ("/dashboard/", "/dashboard/data.json")


def test_root_redirects_to_the_dashboard(client):
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, "/dashboard/")


def test_index_sends_anonymous_users_to_login(client):
    response = client.get(INDEX, {"date": "2024-05-10"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/%3Fdate%3D2024-05-10"


def test_data_refuses_anonymous_users_with_json_403(client):
    response = client.get(DATA)
    assert response.status_code == 403
    assert response.json() == {"error": "Log in to see the dashboard."}


def test_login_lands_on_the_dashboard(client, telecaller):
    response = client.post(reverse("login"), {"username": telecaller.username,
                                              "password": "password"})
    assert (response.status_code, response["Location"]) == (302, "/dashboard/")


def test_dashboard_refuses_post(client, manager):
    client.force_login(manager)
    assert (client.post(INDEX).status_code, client.post(DATA).status_code) == (405, 405)


# --- Scopes and permissions --------------------------------------------------------


def test_data_manager_team_view_matches_the_definitions(client, manager, crafted):
    client.force_login(manager)
    status, body = _get_json(client, date="2024-05-10")
    assert status == 200
    assert body["date"] == "2024-05-10"
    assert body["user"] is None
    assert body["totals"] == {"leads": 9, "new_leads": 3, "with_followup_pct": 77.8}
    assert body["followups"] == {"initial": 7, "worked": 2, "pending": 5, "completion_pct": 28.6}
    assert [row["username"] for row in body["team"]] == ["asha", "ravi"]
    assert body["snapshot_taken"] is False
    assert (body["due"]["total"], body["due"]["pages"], len(body["due"]["items"])) == (5, 1, 5)
    assert body["overdue"] == {"total": 1, "by_age": {"1": 1, "2-7": 0, "8-30": 0, "31+": 0}}
    assert body["unscheduled"] == 1
    assert [(row["overdue"], row["unscheduled"]) for row in body["team"]] == [(1, 0), (0, 1)]
    assert list(body) == ["date", "user", "snapshot_taken", "totals", "status_counts",
                          "overdue", "unscheduled", "calls", "followups", "team", "due"]


def test_data_manager_can_pick_one_active_user(client, manager, crafted):
    client.force_login(manager)
    status, body = _get_json(client, date="2024-05-10", user=crafted.ravi.pk)
    assert status == 200
    assert body["user"] == {"id": crafted.ravi.pk, "username": "ravi"}
    assert body["totals"] == {"leads": 3, "new_leads": 0, "with_followup_pct": 66.7}
    assert [row["username"] for row in body["team"]] == ["ravi"]
    assert [item["id"] for item in body["due"]["items"]] == [
        crafted.leads.ravi_due_early.pk, crafted.leads.ravi_due_evening.pk]


def test_data_telecaller_sees_only_their_own_leads(client, crafted):
    client.force_login(crafted.asha)
    status, body = _get_json(client, date="2024-05-10")
    assert status == 200
    assert body["user"] == {"id": crafted.asha.pk, "username": "asha"}
    assert body["totals"] == {"leads": 5, "new_leads": 2, "with_followup_pct": 80.0}
    assert body["followups"] == {"initial": 5, "worked": 3, "pending": 2, "completion_pct": 60.0}
    assert body["snapshot_taken"] is True
    assert [item["creator_id"] for item in body["due"]["items"]] == [crafted.asha.pk] * 2
    # Their own id is the same request.
    assert _get_json(client, date="2024-05-10", user=crafted.asha.pk) == (200, body)


def test_telecaller_asking_for_another_user_gets_403(client, crafted):
    client.force_login(crafted.asha)
    json_response = client.get(DATA, {"user": crafted.ravi.pk})
    assert json_response.status_code == 403
    assert json_response.json() == {"error": "You can only see your own dashboard."}
    assert client.get(INDEX, {"user": crafted.ravi.pk}).status_code == 403
    # An id that does not exist is someone else's too: no probing for users.
    assert client.get(DATA, {"user": 999999}).status_code == 403


def test_superuser_and_direct_permission_holder_are_managers(client, crafted):
    boss = UserFactory(superuser=True, username="boss")
    lead_reader = UserFactory(username="reader")
    lead_reader.user_permissions.add(Permission.objects.get(codename="view_team_dashboard"))
    for user in (boss, lead_reader):
        client.force_login(user)
        status, body = _get_json(client, date="2024-05-10")
        assert (status, body["user"], body["totals"]["leads"]) == (200, None, 9)


# --- 400s --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"user": "abc"}, {"user": ["Enter a user id."]}),
        ({"page": "0"}, {"page": ["Ensure this value is greater than or equal to 1."]}),
        ({"page": "999999999999999999999"},
         {"page": ["Page 999999999999999999999 does not exist: the due list has 1 page."]}),
        ({"page": "2"}, {"page": ["Page 2 does not exist: the due list has 1 page."]}),
        ({"date": "2024-02-30"}, {"date": ["Enter a real date as YYYY-MM-DD."]}),
        ({"date": "2101-01-01"}, {"date": ["Choose a day from 2000-01-01 to 2100-12-31."]}),
        ({"date": "x", "user": "x"},
         {"date": ["Enter a real date as YYYY-MM-DD."], "user": ["Enter a user id."]}),
    ],
)
def test_bad_input_is_a_400_with_the_form_errors(client, manager, crafted, params, errors):
    client.force_login(manager)
    assert _get_json(client, **params) == (400, {"errors": errors})
    page = client.get(INDEX, params)
    assert page.status_code == 400
    assert page.context["data"] is None
    html = page.content.decode()
    for messages in errors.values():
        for message in messages:
            assert message in html


@pytest.mark.parametrize("who", ["unknown", "inactive"])
def test_manager_asking_for_an_unknown_or_inactive_user_gets_400(client, manager, crafted, who):
    user_id = 999999 if who == "unknown" else crafted.gone.pk
    client.force_login(manager)
    errors = {"user": ["Choose an active user."]}
    assert _get_json(client, user=user_id) == (400, {"errors": errors})
    assert client.get(INDEX, {"user": user_id}).status_code == 400


# --- The page ----------------------------------------------------------------------


def test_index_and_data_show_the_same_numbers(client, manager, crafted):
    client.force_login(manager)
    for params in ({"date": "2024-05-10"}, {"date": "2024-05-10", "user": crafted.asha.pk}):
        page = client.get(INDEX, params)
        status, body = _get_json(client, **params)
        assert (page.status_code, status) == (200, 200)
        assert page.context["data"] == body
        html = page.content.decode()
        for element_id, value in (
            ("total-leads", body["totals"]["leads"]),
            ("total-new-leads", body["totals"]["new_leads"]),
            ("total-with-followup-pct", f'{body["totals"]["with_followup_pct"]:.1f}%'),
            ("followups-initial", body["followups"]["initial"]),
            ("followups-worked", body["followups"]["worked"]),
            ("followups-pending", body["followups"]["pending"]),
            ("followups-completion-pct", f'{body["followups"]["completion_pct"]:.1f}%'),
        ):
            assert f'id="{element_id}">{value}<' in html


def test_index_shows_the_due_list_with_contact_links(client, manager, crafted):
    lead = crafted.leads.asha_due_last_second
    client.force_login(manager)
    html = client.get(INDEX, {"date": "2024-05-10"}).content.decode()
    assert '<time datetime="2024-05-10T23:59:59+05:30">10 May 2024, 23:59</time>' in html
    assert f'href="tel:+91{lead.mobile}"' in html
    assert f'<a class="button whatsapp" href="/leads/{lead.pk}/whatsapp/">WhatsApp' in html
    assert f'href="/leads/{lead.pk}/"' in html
    assert f'href="{reverse("admin:leads_lead_change", args=[lead.pk])}"' in html
    assert html.count('class="quick-update"') == 5
    assert f'action="/leads/{lead.pk}/quick-update/"' in html
    # The status once per card: the quick update's selected status.
    card = re.search(rf'<tr class="due-card" id="lead-{lead.pk}".*?</tr>', html).group(0)
    assert 'class="status' not in card
    assert re.findall(r'<option value="(\w+)" selected>', card) == [lead.status]
    assert ('<tr data-status="needs_followup"><td>Needs Followup</td>'
            '<td class="num">2</td></tr>') in html


def test_index_manager_gets_the_user_menu_and_team_table(client, manager, crafted):
    client.force_login(manager)
    html = client.get(INDEX, {"date": "2024-05-10", "user": crafted.ravi.pk}).content.decode()
    assert '<input type="date" name="date"' in html and 'value="2024-05-10"' in html
    assert '<select name="user" id="dashboard-user">' in html
    assert f'<option value="{crafted.ravi.pk}" selected>ravi</option>' in html
    assert f'<option value="{crafted.gone.pk}"' not in html  # inactive
    assert f'<tr data-user="{crafted.ravi.pk}">' in html


def _due_headers(html):
    table = re.search(r'<table class="data due">.*?</thead>', html, re.S).group(0)
    return re.findall(r'<th scope="col" class="due-\w+">([^<]*)</th>', table)


def test_due_cards_show_the_owner_in_the_managers_team_view_only(client, manager, crafted):
    client.force_login(manager)
    team = client.get(INDEX, {"date": "2024-05-10"}).content.decode()
    one = client.get(INDEX, {"date": "2024-05-10", "user": crafted.asha.pk}).content.decode()
    client.force_login(crafted.asha)
    own = client.get(INDEX, {"date": "2024-05-10"}).content.decode()
    assert _due_headers(team) == ["Follow-up", "Customer", "Mobile", "Registration", "Owner",
                                  "Update"]
    assert _due_headers(one) == _due_headers(own) == [
        "Follow-up", "Customer", "Mobile", "Registration", "Update"]
    assert team.count('class="due-owner"') == team.count('class="due-card"') + 1  # + header
    assert 'class="due-owner"' not in one and 'class="due-owner"' not in own


def test_telecallers_due_list_comes_before_the_numbers(client, manager, crafted):
    client.force_login(crafted.asha)
    own = client.get(INDEX, {"date": "2024-05-10"}).content.decode()
    assert own.index('id="due-heading"') < own.index('aria-label="Summary"')
    client.force_login(manager)
    team = client.get(INDEX, {"date": "2024-05-10"}).content.decode()
    assert team.index('aria-label="Summary"') < team.index('id="due-heading"')


def test_index_telecaller_has_no_user_menu_nor_team_table(client, crafted):
    client.force_login(crafted.asha)
    html = client.get(INDEX, {"date": "2024-05-10"}).content.decode()
    assert 'name="user"' not in html
    assert 'class="data team"' not in html
    assert f'data-lead="{crafted.leads.asha_due_morning.pk}"' in html
    # Not staff: no admin link.
    assert "/admin/leads/lead/" not in html


def test_index_of_a_day_without_data_shows_zeros(client, manager):
    client.force_login(manager)
    response = client.get(INDEX, {"date": "2030-01-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="total-leads">0<' in html
    assert 'id="followups-completion-pct">0.0%<' in html
    assert "No follow-ups due on this day." in html


def test_index_paginates_the_due_list(client, manager, day):
    leads = LeadFactory.create_batch(51, creator=manager, followup_date=local(day, 10))
    client.force_login(manager)
    first = client.get(INDEX, {"date": "2024-05-10"})
    second = client.get(INDEX, {"date": "2024-05-10", "page": 2})
    first_html, second_html = first.content.decode(), second.content.decode()
    assert first.context["data"]["due"]["pages"] == 2
    assert first_html.count('<tr class="due-card"') == 50
    assert 'href="?date=2024-05-10&amp;page=2" rel="next"' in first_html
    assert re.findall(r'<tr class="due-card" id="lead-\d+" data-lead="(\d+)"', second_html) == [
        str(leads[50].pk)]
    assert 'href="?date=2024-05-10&amp;page=1" rel="prev"' in second_html
    # Each quick-update form comes back to the page it was posted from.
    assert 'name="next" value="/dashboard/?date=2024-05-10&amp;page=2"' in second_html


# --- Query budget and read-only GETs --------------------------------------------------


def _bulk_team(*, users, leads, also, first=0):
    """`users` new active telecallers who, with the user `also`, own `leads` new leads
    spread around DAY; half of the new users have a snapshot for DAY. Bulk inserts:
    fast enough for thousands of leads."""
    user_model = get_user_model()
    created = user_model.objects.bulk_create(
        [user_model(username=f"bulk{first + n:03d}", password="!") for n in range(users)])
    created = list(user_model.objects.filter(username__in=[u.username for u in created]))
    owners = [*created, also]
    statuses = LeadStatus.values
    Lead.objects.bulk_create(
        [
            Lead(
                creator=owners[n % len(owners)],
                customer_name=f"Bulk customer {n}",
                mobile=f"9{n:09d}",
                status=statuses[n % len(statuses)],
                followup_date=local(DAY + timedelta(days=n % 3 - 1), n % 24) if n % 4 else None,
                created_at=local(DAY - timedelta(days=n % 5), n % 24),
            )
            for n in range(first * 1000, first * 1000 + leads)
        ],
        batch_size=1000,
    )
    FollowupSnapshot.objects.bulk_create(
        [FollowupSnapshot(user=user, date=DAY, initial_count=3) for user in created[::2]])


def _cold_request_queries(client, url, params):
    # Nothing cached (the session is read from the database in any case).
    for alias in django_settings.CACHES:
        caches[alias].clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", [INDEX, DATA], ids=["index", "data"])
@pytest.mark.parametrize("viewer", ["manager", "telecaller"])
def test_dashboard_query_count_is_bounded_and_independent_of_data_size(
    client, manager, telecaller, django_assert_max_num_queries, url, viewer
):
    params = {"date": DAY.isoformat()}
    LeadFactory(creator=telecaller, followup_date=local(DAY, 10))
    client.force_login(manager if viewer == "manager" else telecaller)

    _bulk_team(users=1, leads=9, also=telecaller)  # 3 users (with the manager), 10 leads
    with django_assert_max_num_queries(QUERY_BUDGET):
        small = _cold_request_queries(client, url, params)

    _bulk_team(users=57, leads=4990, also=telecaller, first=1)  # 60 users, 5,000 leads
    assert (get_user_model().objects.count(), Lead.objects.count()) == (60, 5000)
    with django_assert_max_num_queries(QUERY_BUDGET):
        large = _cold_request_queries(client, url, params)
    assert small == large


def test_dashboard_query_counts_pinned(client, manager, telecaller, crafted):
    """Session and user with the manager + cache-bypass check (one statement)
    are 2; the data is the rest."""
    params = {"date": DAY.isoformat()}
    counts = {}
    for viewer in (manager, crafted.asha):
        client.force_login(viewer)
        counts[viewer.username] = (_cold_request_queries(client, INDEX, params),
                                   _cold_request_queries(client, DATA, params))
    # Manager: + active users for the menu, all-time pass, users + snapshots,
    # the day pass and the team's due page; the page adds the trend for its charts
    # (the JSON document has none). The JSON team view needs no user list. A
    # telecaller: day pass, all-time pass, user + snapshot, due page, the
    # page's trend and their "New for you". The day's calls by caller are one
    # more (calls.selectors), for every view. Without Redis, the version
    # tokens are one more.
    extra = TOKEN_STATEMENTS
    assert counts == {manager.username: (9 + extra, 7 + extra), "asha": (9 + extra, 7 + extra)}


def test_dashboard_get_writes_nothing(client, manager, crafted):
    client.force_login(manager)
    before = (Lead.objects.count(), FollowupSnapshot.objects.count(),
              list(Lead.objects.order_by("id").values_list("modified_at", flat=True)))
    with CaptureQueriesContext(connection) as captured:
        for url in (INDEX, DATA):
            for params in ({}, {"date": "2024-05-10"}, {"user": crafted.asha.pk},
                           {"page": "9"}):
                client.get(url, params)
    statements = [query["sql"].lstrip("( ").split(None, 1)[0].upper() for query in captured]
    assert set(statements) == {"SELECT"}
    assert (Lead.objects.count(), FollowupSnapshot.objects.count(),
            list(Lead.objects.order_by("id").values_list("modified_at", flat=True))) == before


def test_index_renders_the_charts_as_inline_svg(client, manager, crafted):
    client.force_login(manager)
    response = client.get(INDEX, {"date": "2024-05-10"})
    html = response.content.decode()
    trend = response.context["trend"]
    assert (len(trend), trend[-1]) == (14, {"date": "2024-05-10", "new_leads": 3, "updates": 0,
                                                "calls": 0})
    assert html.count('<rect class="bar bar-') == 42  # new leads, updates, calls
    assert html.count('<rect class="bar status-') == 7
    assert '<title id="trend-chart-title">New leads, follow-up updates and calls per day, ' \
           'Sat 27 Apr to Fri 10 May</title>' in html
    assert '<tr data-date="2024-05-10"><td>Fri 10 May</td><td class="num">3</td>' in html
    assert 'src="/static/js/dashboard.js" defer' in html


def test_due_list_escapes_what_users_typed(client, manager, day):
    LeadFactory(creator=manager, customer_name='<script>alert("x")</script> & Sons',
                followup_date=local(day, 10))
    client.force_login(manager)
    html = client.get(INDEX, {"date": day.isoformat()}).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons" in html
    escaped_label = "Update &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons"
    assert f'aria-label="{escaped_label}"' in html


def test_index_links_the_overdue_and_unscheduled_queues_with_their_counts(
        client, manager, telecaller):
    yesterday = local(DAY - timedelta(days=1), 10)
    LeadFactory.create_batch(2, creator=telecaller, followup_date=yesterday)
    LeadFactory(creator=telecaller, followup_date=yesterday, status=LeadStatus.LOST)
    LeadFactory(creator=telecaller, followup_date=None)
    client.force_login(telecaller)
    html = client.get(INDEX, {"date": DAY.isoformat()}).content.decode()
    assert re.findall(r'id="(\w+)-queue" href="([^"]+)">([^<]+)</a>', html) == [
        ("overdue", "/leads/?due=overdue", "Overdue (2)"),
        ("unscheduled", "/leads/?due=unscheduled", "Unscheduled (1)")]
    client.force_login(manager)
    html = client.get(INDEX, {"date": DAY.isoformat(), "user": telecaller.pk}).content.decode()
    assert re.findall(r'id="overdue-queue" href="([^"]+)"', html) == [
        f"/leads/?due=overdue&amp;user={telecaller.pk}"]


def test_index_pages_the_team_table_and_the_json_keeps_every_row(client, manager, telecaller):
    _bulk_team(users=TEAM_PAGE_SIZE + 9, leads=600, also=telecaller)  # 61 owners
    client.force_login(manager)
    params = {"date": DAY.isoformat()}
    status, document = _get_json(client, **params, team_page=2)
    assert status == 200
    team_ids = [row["user_id"] for row in document["team"]]
    assert len(team_ids) == TEAM_PAGE_SIZE + 10

    first = client.get(INDEX, params).content.decode()
    second = client.get(INDEX, {**params, "team_page": 2}).content.decode()
    # The JSON's order, paged.
    assert re.findall(r'<tr data-user="(\d+)"', first) == [str(i) for i in team_ids[:50]]
    assert re.findall(r'<tr data-user="(\d+)"', second) == [str(i) for i in team_ids[50:]]
    assert "Team page 1 of 2" in first
    assert 'href="?date=2024-05-10&amp;page=1&amp;team_page=2" rel="next"' in first
    assert 'href="?date=2024-05-10&amp;page=1" rel="prev"' in second
    # The due list's pager keeps the team table's page.
    assert 'href="?date=2024-05-10&amp;page=2&amp;team_page=2" rel="next"' in second

    missing = client.get(INDEX, {**params, "team_page": 3})
    assert missing.status_code == 400
    assert "Page 3 of the team table does not exist: it has 2 pages." in missing.content.decode()
    assert _get_json(client, **params, team_page=0) == (
        400, {"errors": {"team_page": ["Ensure this value is greater than or equal to 1."]}})


def test_cold_team_view_statements_do_not_grow_to_500_users(client, manager, telecaller):
    params = {"date": DAY.isoformat()}
    client.force_login(manager)
    _bulk_team(users=3, leads=50, also=telecaller)
    few = (_cold_request_queries(client, INDEX, params),
           _cold_request_queries(client, DATA, params))
    _bulk_team(users=497, leads=2000, also=telecaller, first=3)
    assert get_user_model().objects.filter(username__startswith="bulk").count() == 500
    assert (_cold_request_queries(client, INDEX, params),
            _cold_request_queries(client, DATA, params)) == few
