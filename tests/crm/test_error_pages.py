"""403 and 404 pages: in the site's layout, with the view's reason and links
to the dashboard and the lead list."""

from html import unescape

import pytest
from django.test import Client

from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _login(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _shown(response):
    html = response.content.decode()
    assert 'class="topbar"' in html  # base.html's layout
    assert '<a href="/dashboard/">Your dashboard</a>' in html
    assert '<a href="/leads/">Your leads</a>' in html
    start = html.index('<p class="message error" role="alert">') + 38
    return unescape(html[start:html.index("</p>", start)])


@pytest.mark.parametrize(("url", "reason"), [
    ("/dashboard/?user={other}", "You can only see your own dashboard."),
    ("/dashboard/cache/", "Only managers can see the cache statistics."),
])
def test_forbidden_page_says_why_in_the_layout(url, reason):
    telecaller, other = UserFactory(), UserFactory()
    response = _login(telecaller).get(url.format(other=other.pk))
    assert response.status_code == 403
    assert _shown(response) == reason


def test_forbidden_page_without_a_reason_gives_the_generic_one():
    # The admin refuses a staff user without permissions, with no message.
    response = _login(UserFactory(staff=True)).get("/admin/auth/user/")
    assert response.status_code == 403
    assert _shown(response) == "Your account may not open this page."


@pytest.mark.parametrize("path", ["/leads/{pk}/edit/", "/leads/{pk}/quick-update/"])
def test_someone_elses_lead_is_not_found_with_the_reason(path):
    lead = LeadFactory(creator=UserFactory())
    client = _login(UserFactory())
    response = client.post(path.format(pk=lead.pk)) if "quick" in path else client.get(
        path.format(pk=lead.pk))
    assert response.status_code == 404
    assert _shown(response) == "This lead does not exist or is not yours."


def test_unknown_address_is_not_found_in_the_layout():
    response = _login(ManagerFactory()).get("/no-such-page/")
    assert response.status_code == 404
    assert _shown(response) == "There is no page at this address."
