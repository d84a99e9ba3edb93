"""The dashboard listens to ``leads_changed``: a committed write made through
a service retires the cached entries of its owner and the team, no others."""

import pytest

from dashboard.cache import Part, fetch, user_scope
from leads.services import lead_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def cached_counter(user_id):
    """Fetch a part for the scope and return how often it was computed so far."""
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    def fetch_it():
        return fetch([Part("day", user_scope(user_id), {"date": "2026-11-30"}, compute)])

    return fetch_it, calls


def test_lead_created_through_the_service_retires_owner_and_team_entries(
    django_capture_on_commit_callbacks,
):
    alice, bob = UserFactory(), UserFactory()
    views = {name: cached_counter(uid) for name, uid in
             (("team", None), ("alice", alice.pk), ("bob", bob.pk))}
    for fetch_it, _ in views.values():
        fetch_it()
    with django_capture_on_commit_callbacks(execute=True):
        lead_create(creator=alice, customer_name="Ravi", mobile="9876543210")
    outcomes = {name: fetch_it().outcome for name, (fetch_it, _) in views.items()}
    assert outcomes == {"team": "miss", "alice": "miss", "bob": "hit"}

