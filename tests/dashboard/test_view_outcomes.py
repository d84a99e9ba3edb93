"""Each dashboard request counted per view as a full hit, rebuilt from cached
sections without reading the lead table, or a miss that read it
(dashboard/view_outcomes.py; the load test reports them)."""

import pytest
from django.urls import reverse

from dashboard.cache import cache_stats, invalidate_dashboard
from tests.dashboard.conftest import DAY

pytestmark = pytest.mark.django_db

INDEX = reverse("dashboard:index")
DATA = reverse("dashboard:data")


def _outcomes_of(client, requests):
    """[(view, outcome)] of each (url, params) request, from the counts."""
    seen = []
    for url, params in requests:
        before = cache_stats(window_offset=0)["views"]
        assert client.get(url, {"date": DAY.isoformat(), **params}).status_code == 200
        after = cache_stats(window_offset=0)["views"]
        seen += [(view, outcome) for view, counts in after.items()
                 for outcome, n in counts.items() if n != before[view][outcome]]
    return seen


def test_team_view_hit_rebuilt_from_sections_and_miss(client, manager, crafted):
    client.force_login(manager)
    assert _outcomes_of(client, [(DATA, {}), (DATA, {}), (INDEX, {})]) == [
        ("team", "miss"),   # nothing cached: every section read the database
        ("team", "hit"),
        # The page: its due, day and team sections were cached by the JSON
        # request; the trend it adds reads counters and the work log only.
        ("team", "rebuilt"),
    ]
    invalidate_dashboard(user_ids=[crafted.asha.pk])  # a write to asha's leads
    assert _outcomes_of(client, [(INDEX, {})]) == [("team", "miss")]


def test_a_users_page_reads_the_lead_table_for_new_for_you(client, crafted):
    client.force_login(crafted.asha)
    # After the JSON document, the page's sections are cached but its "New for
    # you (n)", a count over the lead table.
    assert _outcomes_of(client, [(DATA, {}), (INDEX, {}), (INDEX, {})]) == [
        ("user", "miss"), ("user", "miss"), ("user", "hit"),
    ]
