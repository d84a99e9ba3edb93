"""Response headers: Content-Security-Policy on every page (django-csp, the
policy in settings)."""

import pytest
from django.urls import reverse

from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def _policy(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = [part.split() for part in response.headers["Content-Security-Policy"].split(";")]
    return {name: sources for name, *sources in directives}


@pytest.fixture
def telecaller_client(client):
    user = UserFactory(username="asha")
    client.force_login(user)
    client.lead = LeadFactory(creator=user, customer_name="Meera Nair", mobile="9829012345")
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
