from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.auth import ViewerBackend, user_with_viewer_flags
from dashboard import selectors as dashboard_selectors
from dashboard.models import CacheBypass
from leads.permissions import user_sees_all_leads
from tests.dashboard.conftest import TOKEN_STATEMENTS
from tests.factories import UserFactory
from tests.leads.test_permissions import CASES, user_for

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("dashboard:index")
OLD_PATH = "dashboard.auth.ViewerBackend"


def _flags(user):
    return (user.sees_all_leads, user.dashboard_cache_bypassed)


def _bypass_for_a_minute():
    CacheBypass.objects.create(scope="team", until=timezone.now() + timedelta(minutes=1))


def test_get_user_loads_the_user_and_both_flags_in_one_statement(
    manager, telecaller, django_assert_num_queries
):
    backend = ViewerBackend()
    with django_assert_num_queries(1):
        loaded = backend.get_user(manager.pk)
        # The readers take the flags as loaded: no statement of their own.
        assert user_sees_all_leads(loaded) is True
        assert dashboard_selectors.viewer_bypassed_scopes(loaded) == frozenset()
    assert (loaded, _flags(loaded)) == (manager, (True, frozenset()))
    _bypass_for_a_minute()
    assert _flags(backend.get_user(telecaller.pk)) == (False, frozenset({"team"}))
    assert _flags(backend.get_user(manager.pk)) == (True, frozenset({"team"}))


def test_get_user_refuses_inactive_and_unknown_users(db):
    gone = UserFactory(username="gone", is_active=False)
    assert ViewerBackend().get_user(gone.pk) is None
    assert ViewerBackend().get_user(987654) is None
    assert user_with_viewer_flags(987654) is None


@pytest.mark.parametrize("how, traits, expected", CASES)
def test_the_preloaded_manager_flag_follows_the_rule(how, traits, expected):
    user = user_for(how, traits)
    assert user_sees_all_leads(user) is expected  # the ORM form, on a fresh user
    assert user_with_viewer_flags(user.pk).sees_all_leads is expected


def test_aget_user_loads_the_flags_too(manager, django_assert_num_queries):
    backend = ViewerBackend()
    _bypass_for_a_minute()
    with django_assert_num_queries(1):
        loaded = async_to_sync(backend.aget_user)(manager.pk)
    assert (loaded, _flags(loaded)) == (manager, (True, frozenset({"team"})))
    gone = UserFactory(username="gone", is_active=False)
    assert async_to_sync(backend.aget_user)(gone.pk) is None
    assert async_to_sync(backend.aget_user)(987654) is None


def test_request_auser_reaches_aget_user(client, telecaller):
    # What AuthenticationMiddleware's request.auser() does for async code.
    client.force_login(telecaller)
    request = RequestFactory().get("/")
    request.session = client.session
    loaded = async_to_sync(auth.aget_user)(request)
    assert (loaded, _flags(loaded)) == (telecaller, (False, frozenset()))


def test_a_new_login_records_the_project_backend(client):
    UserFactory(username="asha")
    response = client.post(reverse("login"), {"username": "asha", "password": "password"})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "crm.auth.ViewerBackend"


def test_a_session_recorded_under_the_old_path_still_works(client, manager):
    client.force_login(manager, backend=OLD_PATH)
    assert client.session[BACKEND_SESSION_KEY] == OLD_PATH
    first = client.get(DASHBOARD)  # fills the cache
    with CaptureQueriesContext(connection) as captured:
        warm = client.get(DASHBOARD)
    assert (first.status_code, warm.status_code) == (200, 200)
    assert warm.wsgi_request.user == manager
    assert _flags(warm.wsgi_request.user) == (True, frozenset())
    # The session row, then the user with its flags, as under the new path
    # (and without Redis the dashboard's version tokens).
    assert len(captured) == 2 + TOKEN_STATEMENTS
    assert client.get(reverse("leads:list")).status_code == 200


def test_the_old_path_logs_nobody_in(db):
    from dashboard.auth import ViewerBackend as OldPathBackend

    UserFactory(username="asha")
    backend = OldPathBackend()
    assert backend.authenticate(None, username="asha", password="password") is None
    assert async_to_sync(backend.aauthenticate)(
        None, username="asha", password="password"
    ) is None
    # ...but resumes sessions like the project backend.
    assert isinstance(backend, ViewerBackend)
