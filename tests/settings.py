"""Settings for the test suite (setup.cfg points pytest here): crm/settings.py
plus what only a test run needs. It lives with the tests so nothing in `crm`
can load it by accident.

Tests that start a process of their own (tests/test_settings.py) name
crm.settings themselves, and strip the DJANGO_* variables set here.
"""

import os

from crm.cache_settings import redis_caches, redis_database

# crm/settings.py refuses to start without a secret key when debug is off, as
# it is in a test run. The suite signs nothing that outlives it, and always with
# this key, whatever the developer's shell holds.
os.environ["DJANGO_SECRET_KEY"] = "django-insecure-test-suite-only"

from crm.settings import *  # noqa: E402, F403
from crm.settings import (  # noqa: E402
    DATABASES,
    INSTALLED_APPS,
    MIDDLEWARE,
    REDIS_LOCATION,
    REDIS_SENTINELS,
    STORAGES,
)

# The suite flushes the cache between tests, which with django-redis empties
# the whole Redis database: database 15 on the same server, never the one
# `make run` uses.
if REDIS_LOCATION:
    CACHES = redis_caches(redis_database(REDIS_LOCATION, 15), sentinels=REDIS_SENTINELS)

# A `replica1` test mirror of the primary even without DATABASE_REPLICA_URLS,
# so the replica routing is exercised on every run.
if "replica1" not in DATABASES:
    DATABASES = {
        **DATABASES,
        "replica1": {**DATABASES["default"], "TEST": {"MIRROR": "default"}},
    }
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]

# The manifest storage needs `collectstatic`; tests render `{% static %}` from
# the source folders.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Django forces DEBUG off in tests and the test client speaks plain HTTP, so
# every request would be a redirect. A test about the redirect turns it on
# with the `settings` fixture.
SECURE_SSL_REDIRECT = False

# The toolbar's own system check fails with DEBUG forced off; a developer's
# DJANGO_DEBUG=1 must not bring it into the suite.
DEBUG_TOOLBAR_ENABLED = False
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "debug_toolbar"]
MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith("debug_toolbar.")]
