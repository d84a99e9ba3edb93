"""Settings for the lead CRM.

Machine-specific values come from the environment (see README, "Settings");
without any of them the project runs on SQLite and the local-memory cache.
"""

import os
import re
import sys
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}.")


def _env_number(name, default, convert, description):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = convert(value.strip())
    except ValueError:
        number = None
    if number is None or not 0 <= number < float("inf"):
        raise ImproperlyConfigured(f"{name} must be {description} >= 0; got {value!r}.")
    return number


def env_int(name, default):
    return _env_number(name, default, int, "a whole number")


def env_float(name, default):
    return _env_number(name, default, float, "a number")


def env_list(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


# The test runner needs no secret key from the environment: it never serves
# real users and Django forces DEBUG off during tests.
# pytest sets PYTEST_VERSION for its run; the module check keeps a stray
# variable in a production environment from counting on its own.
TESTING = (
    "PYTEST_VERSION" in os.environ and "pytest" in sys.modules
) or sys.argv[1:2] == ["test"]

# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", default=False)

_DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = _DEVELOPMENT_SECRET_KEY
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG off the CRM refuses to start "
            "without a secret key: set DJANGO_SECRET_KEY to a long random value "
            "(or set DJANGO_DEBUG=1 for local development)."
        )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list(
    "DJANGO_CSRF_TRUSTED_ORIGINS", ["http://localhost:8000", "http://127.0.0.1:8000"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "leads",
    "dashboard",
    "crm",  # project-wide management commands (migrate_locked)
]

MIDDLEWARE = [
    # Outermost, so its Server-Timing total and query count cover every other
    # middleware (sessions, authentication) as well as the view.
    "crm.middleware.QueryTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "crm.middleware.ReadYourWritesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Database ---------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()


def _database(url, name):
    try:
        database = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ImproperlyConfigured(f"{name} could not be parsed: {exc}") from exc
    if database["ENGINE"] == "django.db.backends.postgresql":
        # An unreachable server fails fast (and /healthz answers) instead of
        # hanging for the operating system's TCP timeout; the URL may override it.
        database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    return database


if DATABASE_URL:
    DATABASES = {"default": _database(DATABASE_URL, "DATABASE_URL")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
        }
    }

# Read replicas (PostgreSQL streaming replicas of DATABASE_URL): `replica1`,
# `replica2`, ... in the order given. crm/db_routers.py sends only the
# dashboard's read side there. Under the test runner each one is a test
# mirror of the primary (no test database is created on the replica server),
# and a `replica1` mirror exists even without the variable, so the routing is
# tested on every run.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", [])
if DATABASE_REPLICA_URLS and not DATABASE_URL:
    raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs DATABASE_URL (the primary) as well.")
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    DATABASES[f"replica{_number}"] = _database(_url, "DATABASE_REPLICA_URLS")
if TESTING and not DATABASE_REPLICA_URLS:
    DATABASES["replica1"] = dict(DATABASES["default"])
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
for _alias in DATABASE_REPLICAS:
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["crm.db_routers.PrimaryReplicaRouter"]

# After a successful write (POST, ...) a client's dashboard reads stay on the
# primary this long, so a lagging replica never hides the user's own change.
CRM_READ_YOUR_WRITES_SECONDS = env_int("CRM_READ_YOUR_WRITES_SECONDS", 5)

# --- Cache ------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "").strip()

# Redis Sentinel (high availability): the sentinels' addresses and the name of
# the master they watch. When set they replace REDIS_URL: the client asks the
# sentinels for the current master, so a failover needs no configuration change.
REDIS_SENTINEL_MASTER = os.environ.get("REDIS_SENTINEL_MASTER", "").strip()
REDIS_SENTINEL_DB = env_int("REDIS_SENTINEL_DB", 0)


def _sentinel_addresses(items):
    addresses = []
    for item in items:
        host, _, port = item.rpartition(":")
        host = host.strip("[]")
        if not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
            raise ImproperlyConfigured(
                f"REDIS_SENTINELS must be comma-separated host:port pairs; got {item!r}."
            )
        addresses.append((host, int(port)))
    return addresses


REDIS_SENTINELS = _sentinel_addresses(env_list("REDIS_SENTINELS", []))
if bool(REDIS_SENTINELS) != bool(REDIS_SENTINEL_MASTER):
    raise ImproperlyConfigured(
        "Set REDIS_SENTINELS and REDIS_SENTINEL_MASTER together, or neither."
    )
# The name becomes the host part of a URL, which urllib lower-cases.
if REDIS_SENTINEL_MASTER and not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", REDIS_SENTINEL_MASTER):
    raise ImproperlyConfigured(
        "REDIS_SENTINEL_MASTER must use lower-case letters, digits, '.', '_' and '-'; "
        f"got {REDIS_SENTINEL_MASTER!r}."
    )


def _redis_test_url(url):
    """The same Redis server, database 15: the suite flushes its cache between
    tests and must never wipe the database `make run` uses."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/15", parts.query, parts.fragment))


def _redis_cache(location, *, ignore_exceptions, sentinels=()):
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # A dead Redis must not make every request slow: short timeouts and no
    # client-side retries (for the sentinels too).
    timeouts = {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25}
    options = {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        **timeouts,
        "CONNECTION_POOL_KWARGS": {"retry": Retry(NoBackoff(), 0)},
        "IGNORE_EXCEPTIONS": ignore_exceptions,
    }
    if sentinels:
        options.update({
            "CLIENT_CLASS": "django_redis.client.SentinelClient",
            "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
            "SENTINELS": list(sentinels),
            "SENTINEL_KWARGS": {
                **{name.lower(): value for name, value in timeouts.items()},
                "retry": Retry(NoBackoff(), 0),
            },
        })
        # Given one URL as a string, SentinelClient would send reads to
        # replicas. The dashboard cache must read its own writes (version
        # tokens, locks) and sessions too, so a one-item list: master only.
        location = [location]
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": "crm",
        "OPTIONS": options,
    }


if REDIS_SENTINELS:
    _location = f"redis://{REDIS_SENTINEL_MASTER}/{REDIS_SENTINEL_DB}"
elif REDIS_URL:
    _location = REDIS_URL
else:
    _location = ""

if _location:
    if TESTING:
        _location = _redis_test_url(_location)
    CACHES = {
        # The dashboard cache raises on errors: dashboard/cache.py must know
        # when an invalidation failed (and handles every error itself).
        "default": _redis_cache(_location, ignore_exceptions=False, sentinels=REDIS_SENTINELS),
        # Sessions fall back to the database when Redis is unreachable.
        "sessions": _redis_cache(_location, ignore_exceptions=True, sentinels=REDIS_SENTINELS),
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "crm-default",
        },
        "sessions": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "crm-sessions",
        },
    }

# A warm dashboard request reads its session from the cache, not the table.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"

# Dashboard entry lifetimes in seconds (the performance guide's figures).
DASHBOARD_DAY_METRICS_TTL = env_int("CRM_DASHBOARD_DAY_TTL", 300)
DASHBOARD_TEAM_PERFORMANCE_TTL = env_int("CRM_DASHBOARD_TEAM_TTL", 600)

# --- Authentication ---------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# ModelBackend, plus the dashboard's viewer flags loaded with the user (one
# statement fewer on every dashboard request). Sessions record their backend:
# ones created under another backend end, and those users log in again.
AUTHENTICATION_BACKENDS = ["dashboard.auth.ViewerBackend"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:index"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation and time ------------------------------------------

LANGUAGE_CODE = "en-in"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Asia/Kolkata")
USE_I18N = True
USE_TZ = True  # the database stores UTC; TIME_ZONE defines the business day

# --- Static files -----------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# WhiteNoise serves the collected files with far-future headers in production.
# The manifest storage needs `collectstatic` to have run, so development and
# tests keep the plain storage, and WhiteNoise reads the source folders.
_PLAIN_STATIC = DEBUG or TESTING
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if _PLAIN_STATIC
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = _PLAIN_STATIC
WHITENOISE_AUTOREFRESH = _PLAIN_STATIC

# --- Security ---------------------------------------------------------------

# With debug off everything is on, so `check --deploy` passes without further
# variables; the DJANGO_SECURE_* variables relax it for a plain-HTTP intranet.
# The proxy in front must set X-Forwarded-Proto itself (overwriting a client's).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Never under the test runner: Django forces DEBUG off there and the test
# client speaks plain HTTP, so every request would be a redirect. A test that
# is about the redirect turns it on with the `settings` fixture.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG) and not TESTING
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Logging ----------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}

# --- Observability ----------------------------------------------------------

# Statements slower than this are logged at WARNING on `crm.slow_query`
# (crm/middleware.py), SQL text only, never parameter values.
CRM_SLOW_QUERY_MS = env_float("CRM_SLOW_QUERY_MS", 100.0)

# --- Development tools ------------------------------------------------------

# The toolbar's own system check fails under tests, and it has no place in
# production, so it loads only for a DEBUG process that is not a test run.
DEBUG_TOOLBAR_ENABLED = DEBUG and not TESTING and find_spec("debug_toolbar") is not None
if DEBUG_TOOLBAR_ENABLED:
    INSTALLED_APPS.append("debug_toolbar")
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1", "::1"]
