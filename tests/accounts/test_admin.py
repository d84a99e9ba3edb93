import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from accounts.models import LoginFailure, LoginLockout
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
CHANGELIST = reverse("admin:accounts_loginlockout_changelist")


def _lock(username, address="127.0.0.1"):
    browser = Client(REMOTE_ADDR=address)
    for _ in range(10):
        browser.post(LOGIN, {"username": username, "password": "wrong"})
    assert browser.post(LOGIN, {"username": username, "password": "password"}).status_code == 429
    return browser


def _unlock(client, *lockouts):
    return client.post(CHANGELIST, {
        "action": "unlock", "_selected_action": [lockout.pk for lockout in lockouts],
    }, follow=True)


def test_a_manager_finds_the_lockouts_in_admin(client, manager):
    UserFactory(username="asha")
    _lock("asha")
    client.force_login(manager)

    index = client.get(reverse("admin:index"))
    assert CHANGELIST in index.content.decode()
    listing = client.get(CHANGELIST, {"q": "asha"})
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == list(LoginLockout.objects.all())
    actions = [name for name, _ in listing.context["action_form"].fields["action"].choices]
    assert actions == ["", "unlock"]


def test_a_manager_unlocks_a_user(client, manager):
    UserFactory(username="asha")
    UserFactory(username="ravi")
    browser = _lock("asha")
    browser.post(LOGIN, {"username": "ravi", "password": "wrong"})  # not asha's: stays
    client.force_login(manager)

    response = _unlock(client, LoginLockout.objects.get())

    assert response.status_code == 200
    assert "Unlocked 1 lockout(s)" in response.content.decode()
    assert LoginLockout.objects.count() == 0
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["ravi"]
    # The next failure does not lock again: the ten are forgotten.
    browser.post(LOGIN, {"username": "asha", "password": "wrong"})
    assert browser.post(LOGIN, {"username": "asha", "password": "password"}).status_code == 302
    assert SESSION_KEY in browser.session


def test_a_manager_unlocks_an_address(client, manager):
    UserFactory(username="asha")
    browser = Client(REMOTE_ADDR="10.0.0.5")
    for n in range(50):
        browser.post(LOGIN, {"username": f"user{n % 10}", "password": "wrong"})
    assert browser.post(LOGIN, {"username": "asha", "password": "password"}).status_code == 429
    client.force_login(manager)

    _unlock(client, LoginLockout.objects.get(username=None))

    assert LoginFailure.objects.count() == 0
    assert browser.post(LOGIN, {"username": "asha", "password": "password"}).status_code == 302


def test_the_object_page_is_read_only_and_its_delete_unlocks(client, manager):
    UserFactory(username="asha")
    _lock("asha")
    lockout = LoginLockout.objects.get()
    client.force_login(manager)

    page = client.get(reverse("admin:accounts_loginlockout_change", args=[lockout.pk]))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert client.get(reverse("admin:accounts_loginlockout_add")).status_code == 403

    delete = reverse("admin:accounts_loginlockout_delete", args=[lockout.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert (LoginLockout.objects.count(), LoginFailure.objects.count()) == (0, 0)


def test_telecallers_cannot_reach_the_lockouts(client, telecaller):
    client.force_login(telecaller)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
