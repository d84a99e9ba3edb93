"""`GET /healthz` for load balancers: can this process reach its database and
its cache?

200 ``{"database": "ok", "cache": "ok"}``, or 503 with ``"error"`` for the
one that failed. No authentication and no detail beyond ok/error: the reason
goes to the log. With a reachable Redis cache, ``"cache_memory"`` adds how
Redis treats a full memory, without changing the status: ``"ok"``
(``maxmemory`` set and a policy that evicts), ``"warning"`` (``noeviction``,
or no ``maxmemory``: a full Redis then refuses writes, the dashboard's
version bumps included, and every failed bump bypasses the cache for minutes)
or ``"unknown"`` (the server would not say); docs/operations.md, "Redis".
Served over plain HTTP too (``SECURE_REDIRECT_EXEMPT``). Both checks are
bounded by the connection timeouts in settings (the cache's 0.25 s socket
timeouts, and its breaker; PostgreSQL's ``connect_timeout``).
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

from crm.cache_backend import memory_policy

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


def check_cache_memory():
    """The default cache's MemoryPolicy status, or None when it is not Redis."""
    policy = memory_policy(caches["default"])
    return policy and policy.status


CHECKS = {"database": check_database, "cache": check_cache}
# Reported, never a reason for a 503: a load balancer should not drop a
# server over a Redis setting.
ADVISORIES = {"cache_memory": check_cache_memory}


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
    if results["cache"] == "ok":
        for name, advise in ADVISORIES.items():
            answer = advise()
            if answer is not None:
                results[name] = answer
    return JsonResponse(results, status=200 if healthy else 503)
