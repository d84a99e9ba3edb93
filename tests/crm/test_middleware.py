import logging
import re

import pytest
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from crm.middleware import QueryTimingMiddleware
from tests.crm.urls import MOBILE
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.crm.urls")]

SERVER_TIMING = re.compile(
    r'^db;dur=(?P<db>\d+\.\d);desc="(?P<count>\d+) queries"'
    r'(?:, cache;desc="(?P<cache>[a-z]+)")?'
    r", total;dur=(?P<total>\d+\.\d)$"
)
TOTAL_ALONE = re.compile(r"total;dur=\d+\.\d")


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(staff=True))
    return client


def _timing(response):
    match = SERVER_TIMING.match(response.headers["Server-Timing"])
    assert match, response.headers["Server-Timing"]
    return match


def _slow_records(caplog):
    return [r for r in caplog.records if r.name == "crm.slow_query"]


def test_middleware_server_timing_counts_the_statements(staff_client):
    response = staff_client.get("/queries/7/")

    match = _timing(response)
    assert match["count"] == "7"
    assert match["cache"] is None


def test_middleware_server_timing_on_a_view_without_queries(staff_client):
    response = staff_client.get("/queries/0/")

    assert _timing(response)["count"] == "0"


def test_middleware_server_timing_names_the_cache_outcome(staff_client):
    response = staff_client.get("/cached/", {"outcome": "partial"})

    match = _timing(response)
    assert match["count"] == "1"
    assert match["cache"] == "partial"


def test_middleware_server_timing_drops_an_outcome_that_is_not_a_token(staff_client):
    response = staff_client.get("/cached/", {"outcome": 'hit", evil;dur=1'})

    assert _timing(response)["cache"] is None


def test_middleware_server_timing_on_a_streaming_response(staff_client):
    response = staff_client.get("/stream/")

    assert _timing(response)["count"] == "2"
    assert b"".join(response.streaming_content) == b"first\nsecond\n"


def test_middleware_server_timing_on_every_page(staff_client):
    response = staff_client.get("/no-such-page/", follow=False)

    assert response.status_code == 404
    assert _timing(response)


@pytest.mark.urls("crm.urls")
def test_middleware_server_timing_on_a_real_page(staff_client):
    response = staff_client.get("/accounts/login/")

    assert response.status_code == 200
    assert _timing(response)


def test_middleware_server_timing_gives_a_telecaller_the_total_alone(client, telecaller):
    client.force_login(telecaller)

    response = client.get("/cached/", {"outcome": "hit"})

    assert TOTAL_ALONE.fullmatch(response.headers["Server-Timing"])


def test_middleware_server_timing_gives_an_anonymous_visitor_the_total_alone(client):
    response = client.get("/cached/", {"outcome": "hit"})

    assert TOTAL_ALONE.fullmatch(response.headers["Server-Timing"])


def test_middleware_server_timing_gives_a_staff_user_the_details(staff_client):
    response = staff_client.get("/cached/", {"outcome": "hit"})

    match = _timing(response)
    assert (match["count"], match["cache"]) == ("1", "hit")


@pytest.mark.parametrize("who", ["anonymous", "telecaller"])
def test_middleware_server_timing_gives_everyone_the_details_with_debug_on(
    client, telecaller, settings, who
):
    settings.DEBUG = True
    if who == "telecaller":
        client.force_login(telecaller)

    response = client.get("/cached/", {"outcome": "miss"})

    match = _timing(response)
    assert (match["count"], match["cache"]) == ("1", "miss")


@pytest.mark.urls("crm.urls")
def test_middleware_server_timing_on_the_dashboard_by_role(client, telecaller, manager):
    client.force_login(telecaller)
    telecaller_header = client.get(reverse("dashboard:index")).headers["Server-Timing"]
    client.force_login(manager)
    manager_response = client.get(reverse("dashboard:index"))

    assert TOTAL_ALONE.fullmatch(telecaller_header)
    assert _timing(manager_response)["cache"] == "miss"


def test_middleware_server_timing_without_a_user_gives_the_total_alone():
    # A middleware outside authentication (e.g. an HTTPS redirect) answered.
    response = QueryTimingMiddleware(lambda request: HttpResponse())(RequestFactory().get("/"))

    assert TOTAL_ALONE.fullmatch(response.headers["Server-Timing"])


class _UserBehindADownDatabase:
    @property
    def is_authenticated(self):
        raise DatabaseError("connection refused")


def test_middleware_server_timing_keeps_the_response_when_the_user_cannot_load():
    def view(request):
        request.user = _UserBehindADownDatabase()
        return HttpResponse(status=503)

    response = QueryTimingMiddleware(view)(RequestFactory().get("/healthz"))

    assert response.status_code == 503
    assert TOTAL_ALONE.fullmatch(response.headers["Server-Timing"])


def test_middleware_logs_a_slow_statement_only(staff_client, caplog):
    caplog.set_level(logging.WARNING, logger="crm.slow_query")

    response = staff_client.get("/slow/")

    assert _timing(response)["count"] == "3"
    records = _slow_records(caplog)
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.WARNING
    assert record.db_alias == "default"
    assert record.duration_ms >= 150
    assert "sleep(" in record.getMessage()


def test_middleware_logs_no_parameter_values(client, caplog, settings):
    settings.CRM_SLOW_QUERY_MS = 0
    caplog.set_level(logging.WARNING, logger="crm.slow_query")

    client.get("/mobile/")

    records = _slow_records(caplog)
    assert len(records) == 1
    assert "SELECT %s" in records[0].getMessage()
    assert MOBILE not in caplog.text
    assert all(MOBILE not in repr(value) for value in vars(records[0]).values())


def test_middleware_logs_at_most_200_characters_of_sql(caplog, settings):
    settings.CRM_SLOW_QUERY_MS = 0
    caplog.set_level(logging.WARNING, logger="crm.slow_query")
    long_sql = "SELECT 1 AS " + "a" * 300

    def view(request):
        with connection.cursor() as cursor:
            cursor.execute(long_sql)
        return HttpResponse()

    QueryTimingMiddleware(view)(RequestFactory().get("/"))

    (record,) = _slow_records(caplog)
    assert record.getMessage().endswith(": " + long_sql[:200])


def test_middleware_stops_timing_after_the_request(client, caplog, settings):
    settings.CRM_SLOW_QUERY_MS = 0
    caplog.set_level(logging.WARNING, logger="crm.slow_query")
    client.get("/queries/1/")
    caplog.clear()

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")

    assert _slow_records(caplog) == []
    assert connection.execute_wrappers == []
