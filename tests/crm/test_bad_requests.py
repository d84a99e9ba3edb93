"""Crafted input and oversized requests: a 400 that says why, in the site's
layout (JSON on JSON endpoints), never a 500; impossible cookies ignored."""

from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from leads.models import Lead
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "contains a NUL character (%00), which this site does not accept."


@pytest.fixture
def superuser():
    return UserFactory(superuser=True, username="root")


def _login(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _shown(response):
    """The refusal's text, from the page in the layout."""
    html = response.content.decode()
    assert 'class="topbar"' in html  # base.html's layout
    start = html.index('<p class="message error" role="alert">') + 38
    return unescape(html[start:html.index("</p>", start)])


@pytest.mark.parametrize("user", ["manager", "superuser"])
@pytest.mark.parametrize(("url", "parameter"), [
    ("/admin/leads/lead/?status__exact=%00", "status__exact"),
    ("/admin/autocomplete/?app_label=leads&model_name=lead&field_name=creator&term=%00", "term"),
])
def test_nul_in_an_admin_query_parameter_is_a_400_page(request, user, url, parameter):
    response = _login(request.getfixturevalue(user)).get(url)
    assert response.status_code == 400
    assert _shown(response) == f"The query parameter “{parameter}” {NUL_MESSAGE}"


def test_the_400_page_keeps_the_signed_in_users_navigation(manager):
    response = _login(manager).get("/dashboard/", headers={"Accept-Language": "\x00"})
    assert response.status_code == 400
    assert _shown(response) == (
        "The Accept-Language header contains a NUL character, which this site does not accept.")
    assert f"Log out {manager.username}" in response.content.decode()


def test_nul_in_a_json_endpoints_query_is_a_json_400(telecaller):
    response = _login(telecaller).get("/dashboard/data.json?date=%00")
    assert response.status_code == 400
    assert response.json() == {"error": f"The query parameter “date” {NUL_MESSAGE}"}


def test_nul_in_a_header_is_a_400_naming_it(telecaller):
    response = _login(telecaller).get("/leads/", headers={"User-Agent": "x\x00y"})
    assert response.status_code == 400
    assert _shown(response) == (
        "The User-Agent header contains a NUL character, which this site does not accept.")


def test_nul_in_a_form_field_is_a_400_and_saves_nothing(telecaller):
    lead = LeadFactory(creator=telecaller, remarks="")
    response = _login(telecaller).post(
        reverse("leads:quick_update", args=[lead.pk]),
        {"status": "open", "followup_date": "", "remark": "called\x00"})
    assert response.status_code == 400
    assert _shown(response) == f"The form field “remark” {NUL_MESSAGE}"
    lead.refresh_from_db()
    assert (lead.status, lead.remarks) == ("needs_followup", "")


@pytest.mark.parametrize("cookie", [
    'sessionid="\\000abcdefghijklmnopqrstuvwxyz012345"',  # the attack: an escaped NUL
    "sessionid=abc\x00defghijklmnopqrstuvwxyz012345",
])
def test_a_session_cookie_that_cannot_be_a_key_is_no_session(cookie):
    client = Client(raise_request_exception=False)
    page = client.get("/dashboard/", HTTP_COOKIE=cookie)
    data = client.get("/dashboard/data.json", HTTP_COOKIE=cookie)
    assert (page.status_code, page["Location"]) == (302, "/accounts/login/?next=/dashboard/")
    assert (data.status_code, data.json()) == (403, {"error": "Log in to see the dashboard."})


def test_a_genuine_session_cookie_still_signs_in_beside_ignored_cookies(telecaller):
    session = _login(telecaller).cookies["sessionid"].value
    response = Client().get("/dashboard/", HTTP_COOKIE=f"sessionid={session}; junk=\x00")
    assert response.status_code == 200


def test_a_post_over_the_upload_size_limit_is_a_400_page_saying_so(telecaller):
    response = _login(telecaller).post(reverse("leads:create"), {
        "customer_name": "Asha", "mobile": "9829012345", "status": "open",
        "remarks": "x" * 3_000_000})
    assert response.status_code == 400
    assert _shown(response) == (
        "What was sent is too large: at most 2.5\xa0MB can be sent at once. Nothing was saved. "
        "Shorten the text (long remarks, for example) and try again.")
    assert Lead.objects.count() == 0


def test_too_many_query_fields_on_a_json_endpoint_is_a_json_400(telecaller, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"f{number}=1" for number in range(11))
    response = _login(telecaller).get(f"/dashboard/data.json?{query}")
    assert response.status_code == 400
    assert response.json() == {
        "error": "What was sent has too many fields: at most 10 are accepted. Nothing was saved."}


def test_too_many_files_is_a_400_page_saying_so(telecaller, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [SimpleUploadedFile(f"f{number}.txt", b"x") for number in range(3)]
    response = _login(telecaller).post(reverse("leads:create"), {"customer_name": "Asha",
                                                                  "attachment": files})
    assert response.status_code == 400
    assert _shown(response) == (
        "What was sent has too many files: at most 2 are accepted. Nothing was saved.")


def test_other_bad_requests_get_the_page_without_internal_details(superuser):
    # The admin refuses an unknown `_to_field` with SuspiciousOperation.
    response = _login(superuser).get("/admin/leads/lead/?_to_field=mobile")
    assert response.status_code == 400
    assert _shown(response) == "The request could not be understood. Go back and try again."
