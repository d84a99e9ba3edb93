"""The bypass after a failed invalidation, per scope: recorded in the database
(a CacheBypass row per scope whose bump failed), because the cache is what
just failed. Only those scopes' entries are bypassed; every other dashboard
keeps its cache."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from crm.db_routers import use_primary
from dashboard.cache.versions import longest_timeout

logger = logging.getLogger(__name__)

# Covers a request that read the database just before the failed write and
# stores its value just after the bypass was recorded.
BYPASS_MARGIN_SECONDS = 60


def _active():
    from dashboard.models import CacheBypass

    return CacheBypass.objects.filter(until__gt=timezone.now())


def bypassed_scopes():
    """The scopes (versions.py) whose entries dashboard reads must neither read
    nor store now, as a frozenset."""
    # On the primary: a replica could still miss a bypass recorded just now.
    with use_primary():
        return frozenset(_active().values_list("scope", flat=True))


def active_bypasses():
    """[(scope, until)] of the bypasses in force, by scope."""
    with use_primary():
        return list(_active().order_by("scope").values_list("scope", "until"))


def record_bypass(scopes, *, cause=None):
    """Bypass the `scopes`' entries until every entry stored before now has
    expired. Raises DatabaseError when the rows cannot be written."""
    from dashboard.models import CacheBypass

    now = timezone.now()
    until = now + timedelta(seconds=longest_timeout() + BYPASS_MARGIN_SECONDS)
    with transaction.atomic():
        CacheBypass.objects.filter(until__lte=now).delete()  # ended: keep the table small
        for scope in sorted(scopes):
            CacheBypass.objects.update_or_create(scope=scope, defaults={"until": until})
    logger.error(
        "Dashboard cache invalidation failed%s; entries of %s bypassed until %s.",
        f" ({type(cause).__name__}: {cause})" if cause is not None else "",
        ", ".join(sorted(scopes)), until.isoformat(),
    )
