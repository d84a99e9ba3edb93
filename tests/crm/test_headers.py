"""Response headers: Content-Security-Policy on every page (django-csp, the
policy in settings) and Cache-Control on what shows customer data
(crm/headers.py)."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse

from crm.headers import PrivateCacheControlMiddleware
from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'", "https://wa.me", "https://api.whatsapp.com"],
    "frame-ancestors": ["'none'"],
}


def _policy(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = [part.split() for part in response.headers["Content-Security-Policy"].split(";")]
    return {name: sources for name, *sources in directives}


def _cache_directives(response):
    return {part.strip() for part in response.headers["Cache-Control"].split(",")}


@pytest.fixture
def telecaller_client(client):
    user = UserFactory(username="asha")
    client.force_login(user)
    client.lead = LeadFactory(creator=user, customer_name="Meera Nair", mobile="9829012345")
    return client


@pytest.fixture
def manager_client(client):
    manager = ManagerFactory(username="meera")
    client.force_login(manager)
    client.lead = LeadFactory(customer_name="Kabir Shah", mobile="9829054321")
    return client


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(superuser=True, username="boss"))
    client.lead = LeadFactory(customer_name="Kabir Shah", mobile="9829054321")
    return client


# --- Content-Security-Policy ------------------------------------------------


def test_csp_on_the_login_page(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert _policy(response) == POLICY


@pytest.mark.parametrize("url", ["/dashboard/", "/leads/", "/leads/new/", "/admin/",
                                 "/admin/leads/lead/", "/dashboard/data.json"])
def test_csp_on_pages_for_a_logged_in_user(superuser_client, url):
    response = superuser_client.get(url)

    assert response.status_code == 200
    assert _policy(response) == POLICY


def test_csp_on_an_error_page(telecaller_client):
    response = telecaller_client.get("/leads/999999/edit/")

    assert response.status_code == 404
    assert _policy(response) == POLICY


def test_csp_on_the_crafted_input_400_page(telecaller_client):
    # The input check answers before the view; the policy still applies.
    response = telecaller_client.get("/leads/", {"q": "\x00"})

    assert response.status_code == 400
    assert _policy(response) == POLICY


# --- Cache-Control ----------------------------------------------------------


def _lead_urls(client):
    return {
        "dashboard": reverse("dashboard:index"),
        "dashboard-json": reverse("dashboard:data"),
        "lead-list": reverse("leads:list"),
        "lead-search": reverse("leads:list") + "?q=98290",
        "lead-create": reverse("leads:create"),
        "lead-edit": reverse("leads:edit", args=[client.lead.pk]),
    }


@pytest.mark.parametrize("shown", ["dashboard", "dashboard-json", "lead-list", "lead-search",
                                  "lead-create", "lead-edit"])
@pytest.mark.parametrize("role", ["telecaller", "manager"])
def test_pages_with_customer_data_are_private_and_not_stored(request, role, shown):
    client = request.getfixturevalue(f"{role}_client")

    response = client.get(_lead_urls(client)[shown])

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


def test_cache_stats_page_is_private_and_not_stored(manager_client):
    response = manager_client.get(reverse("dashboard:cache_stats"))

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_dashboard_from_the_whole_page_cache_is_private_too(telecaller_client):
    first = telecaller_client.get(reverse("dashboard:index"))
    again = telecaller_client.get(reverse("dashboard:index"))

    assert first.wsgi_request.cache_outcome == "miss"
    assert again.wsgi_request.cache_outcome == "hit"
    assert again.headers["Cache-Control"] == "private, no-store"


def test_json_from_the_cache_is_private_too(telecaller_client):
    telecaller_client.get(reverse("dashboard:data"))
    again = telecaller_client.get(reverse("dashboard:data"))

    assert again.wsgi_request.cache_outcome == "hit"
    assert again.headers["Cache-Control"] == "private, no-store"


def test_duplicate_warning_is_private_and_not_stored(telecaller_client):
    response = telecaller_client.post(reverse("leads:create"), {
        "customer_name": "Another Name", "mobile": "9829012345", "status": "needs_followup",
    })

    assert response.status_code == 200
    assert "Meera Nair" in response.content.decode()
    assert response.headers["Cache-Control"] == "private, no-store"


def test_form_errors_are_private_and_not_stored(telecaller_client):
    response = telecaller_client.get(reverse("dashboard:index"), {"date": "not a day"})

    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("url", [
    "/admin/",
    "/admin/leads/lead/",
    "/admin/leads/lead/?q=98290",
    "/admin/leads/lead/add/",
    "/admin/autocomplete/?app_label=leads&model_name=lead&field_name=creator&term=b",
])
def test_admin_pages_are_private_and_not_stored(superuser_client, url):
    response = superuser_client.get(url)

    assert response.status_code == 200
    # Django's own never_cache: private and no-store among its directives.
    assert {"private", "no-store"} <= _cache_directives(response)


def test_admin_change_page_is_private_and_not_stored(superuser_client):
    lead = superuser_client.lead
    response = superuser_client.get(reverse("admin:leads_lead_change", args=[lead.pk]))

    assert response.status_code == 200
    assert {"private", "no-store"} <= _cache_directives(response)


def test_admin_csv_export_is_private_and_not_stored(superuser_client):
    lead = superuser_client.lead
    response = superuser_client.post(reverse("admin:leads_lead_changelist"), {
        "action": "export_csv", "_selected_action": [lead.pk], "index": 0,
    })

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert {"private", "no-store"} <= _cache_directives(response)


def test_static_files_keep_their_public_cache_headers(telecaller_client):
    response = telecaller_client.get(static("css/crm.css"))

    assert response.status_code == 200
    directives = _cache_directives(response)
    assert "public" in directives
    assert "no-store" not in directives
    assert "private" not in directives


def test_login_page_is_not_stored(client):
    response = client.get(reverse("login"))

    assert {"private", "no-store"} <= _cache_directives(response)


# --- The middleware on its own ----------------------------------------------


def _answer(request, response):
    return PrivateCacheControlMiddleware(lambda request: response)(request)


def _with_session(rf):
    rf.cookies[settings.SESSION_COOKIE_NAME] = "a-session-key"
    return rf.get("/")


def test_middleware_marks_an_answer_to_a_browser_with_a_session(rf):
    response = _answer(_with_session(rf), HttpResponse("ok"))

    assert response.headers["Cache-Control"] == "private, no-store"


def test_middleware_leaves_a_views_own_cache_control(rf):
    response = HttpResponse("ok", headers={"Cache-Control": "private, max-age=30"})

    assert _answer(_with_session(rf), response).headers["Cache-Control"] == "private, max-age=30"


def test_middleware_leaves_answers_without_a_session_alone(rf):
    assert "Cache-Control" not in _answer(rf.get("/"), HttpResponse("ok")).headers


@pytest.mark.urls("tests.crm.urls")
def test_middleware_costs_a_view_that_never_looks_at_the_user_no_query(client):
    client.force_login(UserFactory(staff=True))

    response = client.get("/queries/0/")

    assert response.headers["Cache-Control"] == "private, no-store"
    # Server-Timing counts every statement made inside it, this middleware's included.
    assert response.headers["Server-Timing"].startswith('db;dur=0.0;desc="0 queries"')
