"""Test-only views for the middleware tests (`pytest.mark.urls`)."""

import time

from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import include, path

MOBILE = "9829012345"


def _run(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sleep(seconds):
    time.sleep(seconds)
    return 0


def slow_statement(seconds):
    """One statement that takes `seconds` on the database side, on either backend."""
    if connection.vendor == "postgresql":
        _run("SELECT pg_sleep(%s)", [seconds])
    else:
        connection.ensure_connection()
        connection.connection.create_function("crm_test_sleep", 1, _sleep)
        _run("SELECT crm_test_sleep(%s)", [seconds])


def queries(request, count):
    for _ in range(count):
        _run("SELECT 1")
    return HttpResponse("ok")


def slow_and_fast(request):
    _run("SELECT 1")
    slow_statement(0.15)
    _run("SELECT 2")
    return HttpResponse("ok")


def mobile_lookup(request):
    _run("SELECT %s", [MOBILE])
    return HttpResponse("ok")


def cached(request):
    _run("SELECT 1")
    request.cache_outcome = request.GET.get("outcome", "hit")
    return HttpResponse("ok")


def streaming(request):
    _run("SELECT 1")
    _run("SELECT 2")

    def body():
        yield "first\n"
        _run("SELECT 3")  # after the header was set: not counted, not wrapped
        yield "second\n"

    return StreamingHttpResponse(body())


urlpatterns = [
    path("queries/<int:count>/", queries),
    path("slow/", slow_and_fast),
    path("mobile/", mobile_lookup),
    path("cached/", cached),
    path("stream/", streaming),
    # The site's own URLs too: the error pages' layout links to them.
    path("", include("crm.urls")),
]
