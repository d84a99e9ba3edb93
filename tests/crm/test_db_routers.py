"""Read replicas: the router's decisions, and where a dashboard request reads.

Under the test runner `replica1` is a test mirror of the primary (tests/settings.py):
the same database through a second connection. The request tests run with
committed data (transaction=True), as a real replica only sees commits.
"""

from datetime import timedelta

import pytest
from django.core import signing
from django.db import connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm import db_routers
from crm.db_routers import PrimaryReplicaRouter, use_primary, use_replica, wrote_recently
from dashboard.models import CacheBypass
from leads.models import Lead, LeadCountDelta
from tests.factories import LeadFactory, UserFactory

DATA = reverse("dashboard:data")
router = PrimaryReplicaRouter()


def test_router_reads_from_the_primary_outside_a_replica_block():
    assert router.db_for_read(Lead) == "default"


def test_router_reads_from_the_replica_inside_a_replica_block():
    with use_replica():
        assert router.db_for_read(Lead) == "replica1"
        with use_primary():
            assert router.db_for_read(Lead) == "default"
        assert router.db_for_read(Lead) == "replica1"
    assert router.db_for_read(Lead) == "default"


def test_replica_block_inside_use_primary_stays_on_the_primary():
    # What the cache computes for storage may call code that opens a replica
    # block (the page body loads the dashboard data): it must not escape.
    with use_replica(), use_primary():
        with use_replica():
            assert router.db_for_read(Lead) == "default"
        assert router.db_for_read(Lead) == "default"
    with use_replica():
        assert router.db_for_read(Lead) == "replica1"


def test_router_reads_from_the_primary_when_disabled_or_without_replicas(settings):
    with use_replica(enabled=False):
        assert router.db_for_read(Lead) == "default"
    settings.DATABASE_REPLICAS = []
    with use_replica():
        assert router.db_for_read(Lead) == "default"


def test_router_pins_one_of_several_replicas_per_block(settings):
    settings.DATABASE_REPLICAS = ["replica1", "replica2", "replica3"]
    for _ in range(20):
        with use_replica():
            chosen = {router.db_for_read(Lead) for _ in range(10)}
        assert len(chosen) == 1
        assert chosen <= {"replica1", "replica2", "replica3"}


@pytest.mark.django_db
def test_router_reads_from_the_primary_inside_a_transaction():
    with use_replica(), transaction.atomic():
        assert router.db_for_read(Lead) == "default"


def test_router_writes_and_migrates_on_the_primary_only():
    with use_replica():
        assert router.db_for_write(Lead) == "default"
    assert router.allow_migrate("default", "leads") is True
    assert router.allow_migrate("replica1", "leads") is False


# --- read-your-writes ---------------------------------------------------------

def _request_with_cookies(response):
    request = RequestFactory().get("/")
    request.COOKIES = {name: morsel.value for name, morsel in response.cookies.items()}
    return request


def test_wrote_recently_holds_for_the_window_only(settings, monkeypatch):
    settings.CRM_READ_YOUR_WRITES_SECONDS = 5
    fresh = HttpResponse()
    db_routers.mark_write(fresh)
    assert fresh.cookies[db_routers.WROTE_COOKIE]["max-age"] == 5
    assert wrote_recently(_request_with_cookies(fresh)) is True

    # Signed 6 s ago: past the window, even if the browser still sends it.
    real = signing.TimestampSigner.timestamp
    monkeypatch.setattr(
        signing.TimestampSigner, "timestamp",
        lambda self: signing.b62_encode(signing.b62_decode(real(self)) - 6),
    )
    stale = HttpResponse()
    db_routers.mark_write(stale)
    assert wrote_recently(_request_with_cookies(stale)) is False


def test_wrote_recently_ignores_a_forged_cookie():
    request = RequestFactory().get("/")
    request.COOKIES = {db_routers.WROTE_COOKIE: "1"}
    assert wrote_recently(request) is False


def test_no_marker_when_the_window_is_zero(settings):
    settings.CRM_READ_YOUR_WRITES_SECONDS = 0
    response = HttpResponse()
    db_routers.mark_write(response)
    assert db_routers.WROTE_COOKIE not in response.cookies


# --- through a dashboard request ----------------------------------------------

committed_on_both = pytest.mark.django_db(transaction=True, databases=["default", "replica1"])


def _dashboard_queries(client, params):
    """(statements on the primary, statements on replica1) for one data.json request."""
    with CaptureQueriesContext(connections["default"]) as primary, \
            CaptureQueriesContext(connections["replica1"]) as replica:
        response = client.get(DATA, params)
    assert response.status_code == 200
    return (
        [query["sql"] for query in primary.captured_queries],
        [query["sql"] for query in replica.captured_queries],
    )


# The statements that read the lead counters: the all-time totals, and the
# day's counts (which take the leads with a follow-up from them too).
COUNTER_STATEMENTS = 2


def _touches(statements, table):
    return sum(table in sql for sql in statements)


@pytest.fixture
def boss():
    # A superuser sees the team: the Managers group comes from a data
    # migration, which the flush between transactional tests removes.
    return UserFactory(superuser=True)


@pytest.fixture
def _bypass():
    CacheBypass.objects.create(scope="team", until=timezone.now() + timedelta(hours=1))


@committed_on_both
def test_dashboard_reads_uncached_data_from_the_replica(client, boss, _bypass):
    LeadFactory.create_batch(3, creator=boss)
    client.force_login(boss)
    primary, replica = _dashboard_queries(client, {})
    # The selectors (counters, day counts, users, due page) on the replica...
    assert _touches(replica, LeadCountDelta._meta.db_table) == COUNTER_STATEMENTS
    assert _touches(replica, "leads_lead") >= 2
    # ...the session, and the user with the manager and bypass checks, on the primary.
    assert _touches(primary, LeadCountDelta._meta.db_table) == 0
    assert _touches(primary, "leads_lead") == 0
    assert _touches(primary, CacheBypass._meta.db_table) == 1
    assert client.get(DATA).json()["totals"]["leads"] == 3


@committed_on_both
def test_dashboard_computes_what_it_caches_on_the_primary(client, boss):
    LeadFactory.create_batch(3, creator=boss)
    client.force_login(boss)
    primary, replica = _dashboard_queries(client, {})
    assert replica == []
    assert _touches(primary, LeadCountDelta._meta.db_table) == COUNTER_STATEMENTS


@committed_on_both
def test_a_user_who_just_wrote_reads_from_the_primary(client, boss, _bypass):
    lead = LeadFactory(creator=boss)
    client.force_login(boss)
    response = client.post(
        reverse("leads:quick_update", args=[lead.pk]),
        {"status": "confirmed", "followup_date": "2030-01-02 10:00", "next": DATA},
    )
    assert response.status_code == 302
    assert db_routers.WROTE_COOKIE in response.cookies

    primary, replica = _dashboard_queries(client, {})
    assert replica == []
    assert _touches(primary, LeadCountDelta._meta.db_table) == COUNTER_STATEMENTS
    assert client.get(DATA).json()["status_counts"]["confirmed"] == 1

    # Once the marker has gone (the window passed), the replica again.
    client.cookies.pop(db_routers.WROTE_COOKIE)
    primary, replica = _dashboard_queries(client, {})
    assert _touches(replica, LeadCountDelta._meta.db_table) == COUNTER_STATEMENTS


@committed_on_both
def test_failed_or_safe_requests_set_no_marker(client, boss):
    client.force_login(boss)
    assert db_routers.WROTE_COOKIE not in client.get(DATA).cookies
    missing = client.post(reverse("leads:quick_update", args=[999_999]), {"status": "open"})
    assert missing.status_code == 404
    assert db_routers.WROTE_COOKIE not in missing.cookies
