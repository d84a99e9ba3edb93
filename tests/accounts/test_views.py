import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import background
from tests.factories import UserFactory

LOGIN = reverse("login")
RESET = reverse("password_reset")
RESET_PAGES = [
    RESET,
    reverse("password_reset_done"),
    reverse("password_reset_confirm", args=["MQ", "set-password"]),
    reverse("password_reset_complete"),
]


@pytest.fixture
def mail_configured(settings):
    # The test runner's locmem backend collects the mails in mail.outbox.
    settings.PASSWORD_RESET_ENABLED = True


@pytest.mark.django_db
@pytest.mark.parametrize("url", RESET_PAGES)
def test_password_reset_pages_are_absent_without_mail(client, settings, url):
    assert settings.PASSWORD_RESET_ENABLED is False  # no EMAIL_HOST, debug off
    assert client.get(url).status_code == 404
    assert client.post(url, {"email": "asha@example.com"}).status_code == 404


@pytest.mark.django_db
def test_the_login_page_links_to_password_reset_only_with_mail(client, settings):
    assert RESET not in client.get(LOGIN).content.decode()
    settings.PASSWORD_RESET_ENABLED = True
    assert f'href="{RESET}"' in client.get(LOGIN).content.decode()


def _request_reset(client, email):
    with CaptureQueriesContext(connection) as captured:
        response = client.post(RESET, {"email": email})
    return response, len(captured)


@pytest.mark.django_db(transaction=True)
def test_password_reset_mails_a_registered_address_and_answers_unknown_ones_the_same(
    client, mail_configured
):
    UserFactory(username="asha", email="asha@example.com")

    registered, registered_queries = _request_reset(client, "asha@example.com")
    unknown, unknown_queries = _request_reset(client, "nobody@example.com")
    background.wait_until_done()

    # The same answer, and the same work inside the request: the lookup and
    # the mail happen after it.
    assert (registered.status_code, registered.url) == (302, reverse("password_reset_done"))
    assert (unknown.status_code, unknown.url) == (registered.status_code, registered.url)
    assert registered_queries == unknown_queries == 0
    assert [message.to for message in mail.outbox] == [["asha@example.com"]]
    assert "testserver/accounts/reset/" in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_the_mailed_link_sets_a_new_password(client, mail_configured):
    user = UserFactory(username="asha", email="asha@example.com")
    client.post(RESET, {"email": "asha@example.com"})
    background.wait_until_done()
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body)[1]

    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"] is True
    done = client.post(form.redirect_chain[-1][0], {
        "new_password1": "a new long passphrase", "new_password2": "a new long passphrase",
    })

    assert (done.status_code, done.url) == (302, reverse("password_reset_complete"))
    user.refresh_from_db()
    assert user.check_password("a new long passphrase")


@pytest.mark.django_db
def test_a_used_or_forged_link_says_so_in_the_layout(client, mail_configured, telecaller):
    uid = urlsafe_base64_encode(force_bytes(telecaller.pk))
    response = client.get(reverse("password_reset_confirm", args=[uid, "forged-token"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "This link does not work any more" in page
    assert '<a class="brand" href="/">Lead CRM</a>' in page
    assert default_token_generator.check_token(telecaller, "forged-token") is False


@pytest.mark.django_db
def test_the_reset_form_refuses_a_malformed_address(client, mail_configured):
    response = client.post(RESET, {"email": "not an address"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"email": ["Enter a valid email address."]}
