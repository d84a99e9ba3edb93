"""`GET /healthz` for load balancers: can this process reach its database and
its cache?

200 ``{"database": "ok", "cache": "ok"}``, or 503 with ``"error"`` for the
one that failed. No authentication and no detail beyond ok/error: the reason
goes to the log. Served over plain HTTP too (``SECURE_REDIRECT_EXEMPT``).
Both checks are bounded by the connection timeouts in settings (the cache's
0.25 s socket timeouts, PostgreSQL's ``connect_timeout``).
"""

import logging
import os
import socket
import threading
import time

from django.core.cache import caches
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 10  # seconds; the probe key expires by itself


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def check_cache():
    # One key per process and thread, so concurrent probes never read each
    # other's value; the dashboard alias raises on errors.
    cache = caches["default"]
    key = f"healthz:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    token = time.time_ns()
    cache.set(key, token, PROBE_TIMEOUT)
    return cache.get(key) == token


CHECKS = {"database": check_database, "cache": check_cache}


def _run(name, check):
    try:
        ok = check()
    except Exception as exc:  # any failure is an "error", never a traceback
        logger.warning("Health check %s failed: %s: %s", name, type(exc).__name__, exc)
        return "error"
    if not ok:
        logger.warning("Health check %s failed: unexpected answer", name)
        return "error"
    return "ok"


@never_cache
@require_safe
def healthz(request):
    results = {name: _run(name, check) for name, check in CHECKS.items()}
    healthy = all(result == "ok" for result in results.values())
    return JsonResponse(results, status=200 if healthy else 503)
