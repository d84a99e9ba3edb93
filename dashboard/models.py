from django.db import models


class CacheBypass(models.Model):
    """While `until` is in the future, dashboard reads skip the cache for
    `scope` ("team", "users" or "u<user id>": dashboard/cache/versions.py).

    Written when that scope's cache invalidation failed (dashboard/cache/bypass.py):
    it lives in the database because the cache is what just failed.
    """

    # Unique: the bypass query reads every row in force, with the user.
    scope = models.CharField(max_length=32, unique=True)
    until = models.DateTimeField()

    def __str__(self):
        return f"dashboard cache bypassed for {self.scope} until {self.until.isoformat()}"


class CacheVersion(models.Model):
    """A dashboard scope's version token, when the cache is per process (no
    Redis): every process on the same database reads and bumps the same row
    (dashboard/cache/tokens.py). With Redis the tokens live in Redis and this
    table stays empty."""

    scope = models.CharField(max_length=32, primary_key=True)
    version = models.BigIntegerField()

    def __str__(self):
        return f"dashboard cache version {self.version} of {self.scope}"
