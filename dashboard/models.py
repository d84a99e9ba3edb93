from django.db import models


class CacheBypass(models.Model):
    """While `until` is in the future, dashboard reads skip the cache.

    Written when a cache invalidation failed (dashboard/cache/bypass.py): it lives
    in the database because the cache is what just failed.
    """

    SINGLETON = 1

    until = models.DateTimeField()

    def __str__(self):
        return f"dashboard cache bypassed until {self.until.isoformat()}"
