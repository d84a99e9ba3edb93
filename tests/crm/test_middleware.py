import logging
import re

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory

from crm.middleware import QueryTimingMiddleware
from tests.crm.urls import MOBILE

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.crm.urls")]

SERVER_TIMING = re.compile(
    r'^db;dur=(?P<db>\d+\.\d);desc="(?P<count>\d+) queries"'
    r'(?:, cache;desc="(?P<cache>[a-z]+)")?'
    r", total;dur=(?P<total>\d+\.\d)$"
)


def _timing(response):
    match = SERVER_TIMING.match(response.headers["Server-Timing"])
    assert match, response.headers["Server-Timing"]
    return match


def _slow_records(caplog):
    return [r for r in caplog.records if r.name == "crm.slow_query"]


def test_middleware_server_timing_counts_the_statements(client):
    response = client.get("/queries/7/")

    match = _timing(response)
    assert match["count"] == "7"
    assert match["cache"] is None


def test_middleware_server_timing_on_a_view_without_queries(client):
    response = client.get("/queries/0/")

    assert _timing(response)["count"] == "0"


def test_middleware_server_timing_names_the_cache_outcome(client):
    response = client.get("/cached/", {"outcome": "partial"})

    match = _timing(response)
    assert match["count"] == "1"
    assert match["cache"] == "partial"


def test_middleware_server_timing_drops_an_outcome_that_is_not_a_token(client):
    response = client.get("/cached/", {"outcome": 'hit", evil;dur=1'})

    assert _timing(response)["cache"] is None


def test_middleware_server_timing_on_a_streaming_response(client):
    response = client.get("/stream/")

    assert _timing(response)["count"] == "2"
    assert b"".join(response.streaming_content) == b"first\nsecond\n"


def test_middleware_server_timing_on_every_page(client):
    response = client.get("/no-such-page/", follow=False)

    assert response.status_code == 404
    assert _timing(response)


@pytest.mark.urls("crm.urls")
def test_middleware_server_timing_on_a_real_page(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert _timing(response)


def test_middleware_logs_a_slow_statement_only(client, caplog):
    caplog.set_level(logging.WARNING, logger="crm.slow_query")

    response = client.get("/slow/")

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
