"""The bypass after a failed invalidation: recorded in the database (the
CacheBypass row), because the cache is what just failed."""

import logging
from datetime import timedelta

from django.utils import timezone

from crm.db_routers import use_primary
from dashboard.cache.versions import longest_timeout

logger = logging.getLogger(__name__)

# Covers a request that read the database just before the failed write and
# stores its value just after the bypass was recorded.
BYPASS_MARGIN_SECONDS = 60


def _active_bypass():
    from dashboard.models import CacheBypass

    return CacheBypass.objects.filter(pk=CacheBypass.SINGLETON, until__gt=timezone.now())


def bypass_active():
    """True while dashboard reads must neither read nor store entries."""
    # On the primary: a replica could still miss a bypass recorded just now.
    with use_primary():
        return _active_bypass().exists()


def record_bypass():
    """Bypass the cache until every entry stored before now has expired.
    Raises DatabaseError when the row cannot be written."""
    from dashboard.models import CacheBypass

    until = timezone.now() + timedelta(seconds=longest_timeout() + BYPASS_MARGIN_SECONDS)
    CacheBypass.objects.update_or_create(pk=CacheBypass.SINGLETON, defaults={"until": until})
    logger.error(
        "Dashboard cache invalidation failed; dashboard entries bypassed until %s.",
        until.isoformat(),
    )
