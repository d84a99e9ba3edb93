from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import SESSION_KEY, aauthenticate, authenticate
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db.models import F
from django.test import RequestFactory
from django.urls import reverse

from accounts import throttling
from accounts.models import LoginFailure, LoginLockout
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")


class CountingHasher(MD5PasswordHasher):
    """The suite's hasher (same algorithm name, so it checks the factories'
    passwords), counting every hash it computes."""

    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.test_throttling.CountingHasher"]
    CountingHasher.calls = 0
    return CountingHasher


def _login(client, username, password="password", address="127.0.0.1", url=LOGIN, **headers):
    return client.post(url, {"username": username, "password": password},
                       REMOTE_ADDR=address, headers=headers)


def _fail(client, username, times, address="127.0.0.1", url=LOGIN, **headers):
    for _ in range(times):
        response = _login(client, username, "wrong", address, url, **headers)
        # The form again: "Please enter a correct username and password..."
        assert response.status_code == 200
        assert response.context["form"].errors["__all__"][0].startswith("Please enter ")


def _logged_in(client):
    return SESSION_KEY in client.session


def _assert_locked(response, *, whole_address=False):
    assert response.status_code == 429
    page = response.content.decode()
    assert "ask a manager to unlock it" in page
    assert ("logging in from here is paused until" in page) is whole_address
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert '<a class="brand" href="/">Lead CRM</a>' in page  # inside the site's layout


def test_a_pair_is_locked_at_the_eleventh_attempt_even_with_the_right_password(client):
    UserFactory(username="asha")
    _fail(client, "asha", 10)

    response = _login(client, "asha")

    _assert_locked(response)
    assert "for “asha” from your network: logging in with this username" in (
        response.content.decode())
    assert not _logged_in(client)
    assert LoginLockout.objects.get().username == "asha"


def test_nine_failures_do_not_lock(client):
    UserFactory(username="asha")
    _fail(client, "asha", 9)
    assert _login(client, "asha").status_code == 302
    assert _logged_in(client)


def test_a_pair_lockout_leaves_other_usernames_and_addresses_alone(client):
    UserFactory(username="asha")
    UserFactory(username="ravi")
    _fail(client, "asha", 10)

    assert _login(client, "ravi").status_code == 302
    client.logout()
    assert _login(client, "asha", address="10.0.0.7").status_code == 302


def test_an_address_is_locked_after_fifty_failures_across_usernames(client):
    UserFactory(username="asha")
    for n in range(10):  # 5 guesses at each of 10 accounts: no pair reaches its limit
        _fail(client, f"user{n}", 5)

    response = _login(client, "asha")

    _assert_locked(response, whole_address=True)
    assert not _logged_in(client)
    lockout = LoginLockout.objects.get()
    assert (lockout.username, lockout.address, lockout.failures) == (None, "127.0.0.1", 50)
    # Another address is not concerned.
    assert _login(client, "asha", address="10.0.0.7").status_code == 302


def test_forty_nine_failures_across_usernames_do_not_lock_the_address(client):
    UserFactory(username="asha")
    for n in range(7):
        _fail(client, f"user{n}", 7)
    assert _login(client, "asha").status_code == 302


def test_a_successful_login_resets_its_pair(client):
    UserFactory(username="asha")
    _fail(client, "asha", 9)
    assert _login(client, "asha").status_code == 302
    client.logout()
    _fail(client, "asha", 9)  # 18 in the window, 9 since the success

    assert _login(client, "asha").status_code == 302


def test_a_successful_login_keeps_the_other_usernames_failures(client):
    # A sprayer holding one valid account cannot reset the address's count.
    UserFactory(username="mole")
    for n in range(7):
        _fail(client, f"user{n}", 7)  # 49
    assert _login(client, "mole").status_code == 302
    client.logout()
    _fail(client, "user7", 1)  # the 50th

    _assert_locked(_login(client, "mole"), whole_address=True)


def test_failures_older_than_the_window_do_not_count(client):
    UserFactory(username="asha")
    _fail(client, "asha", 9)
    LoginFailure.objects.update(at=F("at") - timedelta(minutes=15, seconds=1))
    _fail(client, "asha", 1)

    assert _login(client, "asha").status_code == 302
    # ...and recording a failure deleted the old rows.
    assert LoginFailure.objects.count() == 0


def test_a_lockout_ends_after_fifteen_minutes(client):
    UserFactory(username="asha")
    _fail(client, "asha", 10)
    lockout = LoginLockout.objects.get()
    assert lockout.until - lockout.started_at == timedelta(minutes=15)

    LoginLockout.objects.update(until=F("until") - timedelta(minutes=15))
    LoginFailure.objects.update(at=F("at") - timedelta(minutes=15))

    assert _login(client, "asha").status_code == 302


def test_attempts_refused_while_locked_are_not_counted(client):
    UserFactory(username="asha")
    _fail(client, "asha", 10)
    for _ in range(5):
        assert _login(client, "asha", "wrong").status_code == 429
    assert LoginFailure.objects.count() == 10


def test_no_password_is_hashed_while_locked(client, counting_hasher):
    UserFactory(username="asha")
    counting_hasher.calls = 0
    _fail(client, "asha", 10)
    assert counting_hasher.calls == 10  # unlocked failures do hash: the check itself

    counting_hasher.calls = 0
    assert _login(client, "asha").status_code == 429
    assert _login(client, "asha", "wrong").status_code == 429
    assert counting_hasher.calls == 0

    for n in range(8):
        _fail(client, f"nobody{n}", 5)  # 40 more: 50 from this address
    counting_hasher.calls = 0
    assert _login(client, "someone-else").status_code == 429
    assert counting_hasher.calls == 0


def test_the_admin_login_is_throttled_too(client, manager):
    _fail(client, manager.username, 10, url=ADMIN_LOGIN)

    response = _login(client, manager.username, url=ADMIN_LOGIN)

    _assert_locked(response)
    assert not _logged_in(client)


def test_the_async_path_is_throttled_too(telecaller):
    request = RequestFactory().post(LOGIN, REMOTE_ADDR="10.0.0.9")
    for _ in range(10):
        assert authenticate(request, username=telecaller.username, password="wrong") is None
    refused = async_to_sync(aauthenticate)(request, username=telecaller.username,
                                           password="password")
    assert refused is None
    assert getattr(request, throttling.LOCKOUT_ATTRIBUTE).username == telecaller.username


def test_logins_without_a_request_are_not_counted(telecaller):
    # A shell or a script: no client address to count under.
    for _ in range(12):
        assert authenticate(username=telecaller.username, password="wrong") is None
    assert authenticate(username=telecaller.username, password="password") == telecaller
    assert LoginFailure.objects.count() == 0


def test_the_lockout_page_keeps_the_username_and_next(client):
    UserFactory(username="asha")
    _fail(client, "asha", 10)
    response = client.post(f"{LOGIN}?next=/leads/", {"username": "asha", "password": "x"})
    page = response.content.decode()
    assert response.status_code == 429
    assert 'name="username" value="asha"' in page
    assert 'name="next" value="/leads/"' in page


# --- the client address --------------------------------------------------------


def test_the_proxy_header_is_ignored_by_default(client, settings):
    assert (settings.CRM_CLIENT_IP_HEADER, settings.CRM_TRUSTED_PROXIES) == ("", 0)
    UserFactory(username="asha")
    for n in range(10):  # a forged X-Forwarded-For per attempt changes nothing
        _fail(client, "asha", 1, x_forwarded_for=f"203.0.113.{n}")

    _assert_locked(_login(client, "asha", x_forwarded_for="198.51.100.1"))
    assert set(LoginFailure.objects.values_list("address", flat=True)) == {"127.0.0.1"}


def _address(remote="10.0.0.1", **headers):
    return throttling.client_address(RequestFactory().get("/", REMOTE_ADDR=remote,
                                                          headers=headers))


def test_client_address_is_remote_addr_by_default():
    assert _address() == "10.0.0.1"
    assert _address(x_forwarded_for="203.0.113.5", x_real_ip="203.0.113.6") == "10.0.0.1"
    assert _address("::ffff:10.0.0.2") == "10.0.0.2"
    assert _address("2001:DB8::1") == "2001:db8::1"
    assert _address("") == ""


def test_client_address_from_the_configured_header(settings):
    settings.CRM_CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.CRM_TRUSTED_PROXIES = 1
    # The client's own entries come first; the proxy appends what it saw.
    assert _address(x_forwarded_for="198.51.100.1, 203.0.113.5") == "203.0.113.5"
    assert _address(x_forwarded_for="203.0.113.5") == "203.0.113.5"
    # Not through the proxy, or garbage where the proxy writes: REMOTE_ADDR.
    assert _address() == "10.0.0.1"
    assert _address(x_forwarded_for="not-an-address") == "10.0.0.1"

    settings.CRM_TRUSTED_PROXIES = 2
    assert _address(x_forwarded_for="198.51.100.1, 203.0.113.5, 10.0.0.3") == "203.0.113.5"
    assert _address(x_forwarded_for="203.0.113.5") == "10.0.0.1"

    settings.CRM_CLIENT_IP_HEADER = "X-Real-IP"
    settings.CRM_TRUSTED_PROXIES = 1
    assert _address(x_real_ip="203.0.113.9", x_forwarded_for="198.51.100.1") == "203.0.113.9"


def test_the_configured_header_separates_clients_behind_the_proxy(client, settings):
    settings.CRM_CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.CRM_TRUSTED_PROXIES = 1
    UserFactory(username="asha")
    _fail(client, "asha", 10, address="10.0.0.1", x_forwarded_for="203.0.113.5")

    _assert_locked(_login(client, "asha", address="10.0.0.1", x_forwarded_for="203.0.113.5"))
    assert _login(client, "asha", address="10.0.0.1",
                  x_forwarded_for="203.0.113.5, 203.0.113.6").status_code == 302
