"""Project-wide middleware: per-request SQL timing, the slow-query log and the
Server-Timing header; the read-your-writes marker for read replicas.

Every response gets ``Server-Timing: total;dur=45.6``: the time spent inside
this middleware, i.e. everything else in the stack plus the view. Staff users
(and everyone while ``settings.DEBUG`` is on) get the details as well::

    Server-Timing: db;dur=12.3;desc="7 queries", cache;desc="hit", total;dur=45.6

``db`` is the time spent executing SQL (every database alias) and the number
of statements; ``cache`` appears when the view set ``request.cache_outcome``.
The details describe how the server works (how many statements a page costs,
whether the dashboard came from the cache), which is nobody else's business.
For a streaming response the header is set before the body is streamed, so it
covers what ran until then.

A statement slower than ``settings.CRM_SLOW_QUERY_MS`` is logged at WARNING on
the ``crm.slow_query`` logger with its duration and the first 200 characters of
its SQL text as the driver received it: placeholders, never the parameter
values (they can hold customers' phone numbers).
"""

import logging
import re
from contextlib import ExitStack
from time import perf_counter

from django.conf import settings
from django.db import DatabaseError, connections

from crm import db_routers

slow_query_logger = logging.getLogger("crm.slow_query")

SQL_LOG_CHARS = 200
# The outcome goes inside a quoted string: anything but a plain token is dropped.
_OUTCOME_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")


class _StatementTimer:
    """The `execute_wrapper` for one request: counts, sums and reports slow ones."""

    __slots__ = ("count", "seconds", "slow_seconds")

    def __init__(self, slow_seconds):
        self.count = 0
        self.seconds = 0.0
        self.slow_seconds = slow_seconds

    def __call__(self, execute, sql, params, many, context):
        start = perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = perf_counter() - start
            self.count += 1
            self.seconds += elapsed
            if elapsed > self.slow_seconds:
                _log_slow(elapsed, sql, context)


def _log_slow(elapsed, sql, context):
    alias = context["connection"].alias
    duration_ms = round(elapsed * 1000, 1)
    # Only the statement text goes into the record: `params` is never passed.
    text = str(sql)[:SQL_LOG_CHARS]
    slow_query_logger.warning(
        "Slow SQL statement: %.1f ms on %s: %s", duration_ms, alias, text,
        extra={"duration_ms": duration_ms, "db_alias": alias},
    )


class QueryTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timer = _StatementTimer(settings.CRM_SLOW_QUERY_MS / 1000)
        start = perf_counter()
        with ExitStack() as stack:
            for connection in connections.all(initialized_only=False):
                stack.enter_context(connection.execute_wrapper(timer))
            response = self.get_response(request)
        total = perf_counter() - start
        # Asked after the figures are taken: on a page that never looked at
        # the user, the lookup this causes is not the page's own cost.
        if shows_timing_details(request):
            _add_server_timing_details(response, timer, getattr(request, "cache_outcome", None))
        _add_server_timing_entry(response, f"total;dur={total * 1000:.1f}")
        return response


def shows_timing_details(request):
    """Whether this request's Server-Timing header may carry more than `total`."""
    if settings.DEBUG:
        return True
    # Absent when a middleware outside authentication answered on its own.
    user = getattr(request, "user", None)
    if user is None:
        return False
    try:
        return bool(user.is_authenticated and user.is_staff)
    except DatabaseError:
        # The user may load only now; a page that answered (say /healthz's
        # 503 with the database down) must not become a 500 over a header.
        return False


def _add_server_timing_details(response, timer, cache_outcome):
    _add_server_timing_entry(
        response, f'db;dur={timer.seconds * 1000:.1f};desc="{timer.count} queries"'
    )
    if isinstance(cache_outcome, str) and _OUTCOME_RE.fullmatch(cache_outcome):
        _add_server_timing_entry(response, f'cache;desc="{cache_outcome}"')


def _add_server_timing_entry(response, entry):
    # Appends to whatever the inner layers set, so their entries come first.
    existing = response.headers.get("Server-Timing")
    response.headers["Server-Timing"] = f"{existing}, {entry}" if existing else entry


class ReadYourWritesMiddleware:
    """Marks a client that has just written (see crm/db_routers.py).

    Any request with an unsafe method (POST, PUT, PATCH, DELETE) that did not
    fail (status below 400: a save's redirect, a form shown again) may have
    written, and for the next CRM_READ_YOUR_WRITES_SECONDS that client's
    dashboard reads stay on the primary. Marking a request that wrote nothing
    only costs the primary a few reads; missing one would show the user their
    change "lost" on a lagging replica.
    """

    UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method in self.UNSAFE_METHODS and response.status_code < 400:
            db_routers.mark_write(response)
        return response
