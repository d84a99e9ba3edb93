"""Settings for the lead CRM.

Machine-specific values come from the environment (see README, "Settings", and
.env.example); without any of them the project runs on SQLite and the
local-memory cache. crm/env.py reads the variables: a bad value stops the
process with a message naming the variable. The test suite runs on
tests/settings.py, which imports this module and overrides what only tests need.
"""

import re
import tempfile
from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from crm.cache_settings import redis_caches, sentinel_addresses
from crm.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", default=False)

# The public fallback signs nothing that matters: with debug off the CRM
# refuses to start without a key of its own.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = DEVELOPMENT_SECRET_KEY
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
    "calls",
    "dashboard",
    "accounts",
    "intake",
    "whatsapp",
    "timeline",
    "crm",  # project-wide management commands (migrate_locked)
]

MIDDLEWARE = [
    # Outermost, so its Server-Timing total and query count cover every other
    # middleware (sessions, authentication) as well as the view.
    "crm.middleware.QueryTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy on every page (the policy: "Security", below);
    # outside the input check, so its 400 pages carry the policy too.
    "csp.middleware.CSPMiddleware",
    # Before sessions: a session cookie that cannot be a key is no session;
    # NUL in a path, header, parameter or form field is a 400 (crm/bad_requests.py).
    # Refuses (413) intake uploads and API calls over their size from the
    # Content-Length alone, before the input check or CSRF reads the body.
    "intake.middleware.IntakeBodyLimitMiddleware",
    "crm.bad_requests.InputCheckMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Lead writes made by the request are recorded as the user's (leads/history.py).
    "leads.history.HistoryActorMiddleware",
    # "private, no-store" for browsers with a session (crm/headers.py); after
    # WhiteNoise, so static files keep their long-lived Cache-Control.
    "crm.headers.PrivateCacheControlMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "crm.middleware.ReadYourWritesMiddleware",
    # Innermost: turns a login the throttle refused into its 429 page.
    "accounts.middleware.LoginLockoutMiddleware",
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

DATABASE_URL = env_str("DATABASE_URL").strip()


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
            # The embedded default still has concurrent writers (runserver's
            # threads, a command beside the server). A transaction takes the
            # write lock when it starts and others wait for it (up to 20 s),
            # instead of failing at once with "database is locked" when a
            # reader tries to become a writer.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

# Read replicas (PostgreSQL streaming replicas of DATABASE_URL): `replica1`,
# `replica2`, ... in the order given. crm/db_routers.py sends only the
# dashboard's read side there. Under a test runner each one is a test mirror
# of the primary: no test database is created on the replica server.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS")
if DATABASE_REPLICA_URLS and not DATABASE_URL:
    raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs DATABASE_URL (the primary) as well.")
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    DATABASES[f"replica{_number}"] = {
        **_database(_url, "DATABASE_REPLICA_URLS"),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
DATABASE_ROUTERS = ["crm.db_routers.PrimaryReplicaRouter"]

# After a successful write (POST, ...) a client's dashboard reads stay on the
# primary this long, so a lagging replica never hides the user's own change.
CRM_READ_YOUR_WRITES_SECONDS = env_int("CRM_READ_YOUR_WRITES_SECONDS", 5)

# --- Cache ------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL").strip()

# Redis Sentinel (high availability): the sentinels' addresses and the name of
# the master they watch. When set they replace REDIS_URL: the client asks the
# sentinels for the current master, so a failover needs no configuration change.
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER").strip()
REDIS_SENTINEL_DB = env_int("REDIS_SENTINEL_DB", 0)
REDIS_SENTINELS = sentinel_addresses(env_list("REDIS_SENTINELS"))
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

# The Redis the cache uses (empty: local memory); with sentinels its host
# part is the master's name.
if REDIS_SENTINELS:
    REDIS_LOCATION = f"redis://{REDIS_SENTINEL_MASTER}/{REDIS_SENTINEL_DB}"
else:
    REDIS_LOCATION = REDIS_URL

if REDIS_LOCATION:
    CACHES = redis_caches(REDIS_LOCATION, sentinels=REDIS_SENTINELS)
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "crm-default",
        },
    }

# The dashboard cache's version tokens: beside the entries in Redis, or, with
# the per-process local memory, in the database every process shares, so a
# management command's write reaches the server's cache (dashboard/cache/tokens.py).
DASHBOARD_VERSION_TOKENS = "cache" if REDIS_LOCATION else "database"

# Sessions live in the database only: ending one (logout, password change,
# an administrator deleting rows) takes effect on the next request whatever
# Redis does. A cached copy would outlive a delete that failed during a Redis
# outage; a primary-key lookup per request is the price.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

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

# ModelBackend, plus the viewer's flags (manager rule, dashboard cache bypass)
# loaded with the user: see crm/auth.py. Sessions record their backend and
# resume only while it is listed: the second entry, an alias that logs nobody
# in, keeps sessions opened under the backend's old path valid.
AUTHENTICATION_BACKENDS = ["crm.auth.ViewerBackend", "dashboard.auth.ViewerBackend"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:index"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (accounts/throttling.py): a username from one client address
# is locked after LOGIN_PAIR_FAILURE_LIMIT failures within the window, the
# whole address after LOGIN_ADDRESS_FAILURE_LIMIT across usernames.
LOGIN_PAIR_FAILURE_LIMIT = 10
LOGIN_ADDRESS_FAILURE_LIMIT = 50
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
LOGIN_LOCKOUT_DURATION = timedelta(minutes=15)

# The client address it counts under is REMOTE_ADDR. Behind proxies that
# append the client's address to a header (and overwrite whatever the client
# sent there), name the header and how many proxies sit in front; never by
# default, since any client can send X-Forwarded-For.
CRM_CLIENT_IP_HEADER = env_str("CRM_CLIENT_IP_HEADER").strip()
CRM_TRUSTED_PROXIES = env_int("CRM_TRUSTED_PROXIES", 1 if CRM_CLIENT_IP_HEADER else 0)
if CRM_CLIENT_IP_HEADER and not re.fullmatch(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*", CRM_CLIENT_IP_HEADER):
    raise ImproperlyConfigured(
        "CRM_CLIENT_IP_HEADER must be an HTTP header name such as X-Forwarded-For; "
        f"got {CRM_CLIENT_IP_HEADER!r}."
    )
if bool(CRM_CLIENT_IP_HEADER) != (CRM_TRUSTED_PROXIES > 0):
    raise ImproperlyConfigured(
        "CRM_TRUSTED_PROXIES (how many proxies append to CRM_CLIENT_IP_HEADER) must be 1 or "
        "more with CRM_CLIENT_IP_HEADER, and unset or 0 without it."
    )

# --- Mail -------------------------------------------------------------------

# Mail goes out only through an SMTP server named by EMAIL_HOST; the
# password-reset pages exist only then (without it they could send nothing).
# With debug on and no EMAIL_HOST, mails are printed on the console instead.
EMAIL_HOST = env_str("EMAIL_HOST").strip()
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=EMAIL_PORT == 465)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=not EMAIL_USE_SSL)
if EMAIL_USE_SSL and EMAIL_USE_TLS:
    raise ImproperlyConfigured("Set at most one of EMAIL_USE_SSL and EMAIL_USE_TLS.")
# Seconds; Django's default waits for ever on a server that stops answering.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "crm@localhost").strip()
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
PASSWORD_RESET_ENABLED = bool(EMAIL_HOST) or DEBUG

# --- Internationalisation and time ------------------------------------------

LANGUAGE_CODE = "en-in"
# Dates for people: "30 Nov 2026, 17:30" on every page, admin included.
FORMAT_MODULE_PATH = "crm.formats"
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "Asia/Kolkata")
USE_I18N = True
USE_TZ = True  # the database stores UTC; TIME_ZONE defines the business day

# --- Static files -----------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# WhiteNoise serves the collected files with far-future headers in production.
# The manifest storage needs `collectstatic` to have run, so development keeps
# the plain storage, and WhiteNoise reads the source folders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security ---------------------------------------------------------------

# With debug off everything is on, so `check --deploy` passes without further
# variables; the DJANGO_SECURE_* variables relax it for a plain-HTTP intranet.
# The proxy in front must set X-Forwarded-Proto itself (overwriting a client's).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# Opt-in: a domain on the browsers' preload lists is effectively there for
# good, so only an operator who means it turns this on.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# `check --deploy` warns (security.W021) whenever preload is off; off is the
# deliberate default, so the warning is silenced until preload is on.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp's CSPMiddleware): scripts, styles and
# fetches from this site only, and no inline script, `style` attribute or
# event handler, so markup that escaped escaping runs nothing. The templates
# and the HTML built in template tags keep to it (the browser tests check).
# So does django-debug-toolbar (development): it loads its scripts and styles
# as files and styles through the DOM, so development runs the same policy and
# shows a violation as early as possible.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: for the empty favicon in base.html (no request for /favicon.ico).
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        # The WhatsApp picker's POST answers with a redirect to wa.me, which
        # redirects on to api.whatsapp.com: browsers check form-action on both.
        "form-action": [SELF, "https://wa.me", "https://api.whatsapp.com"],
        "frame-ancestors": [NONE],
    }
}

# --- Intake (imports and the intake API, docs/intake.md) ---------------------

# The import page's limits (the import_leads command has none: it streams).
INTAKE_UPLOAD_MAX_BYTES = 20 * 1024 * 1024
INTAKE_UPLOAD_MAX_ROWS = 100_000
# Where an uploaded file waits between its preview and its import.
INTAKE_UPLOAD_DIR = Path(
    env_str("INTAKE_UPLOAD_DIR") or Path(tempfile.gettempdir()) / "crm-imports"
)
# POST /api/intake/: body size, and requests a minute per token (a token may set its own).
INTAKE_API_MAX_BODY_BYTES = 64 * 1024
INTAKE_API_RATE_PER_MINUTE = env_int("INTAKE_API_RATE_PER_MINUTE", 60)

# --- Logging ----------------------------------------------------------------

# Every record reaches the console once, through the root handler. Django's
# default configuration also gives the `django` logger a console handler of its
# own (active with debug on), which printed each of its lines twice; naming the
# logger here without handlers removes it (and Django's mail_admins handler,
# which sends nothing here: ADMINS is not set). Naming it also resets its child
# `django.server` (runserver's request lines), so that one is declared again
# as Django declares it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# --- Observability ----------------------------------------------------------

# Statements slower than this are logged at WARNING on `crm.slow_query`
# (crm/middleware.py), SQL text only, never parameter values.
CRM_SLOW_QUERY_MS = env_float("CRM_SLOW_QUERY_MS", 100.0)

# --- Development tools ------------------------------------------------------

# Development only: production installs requirements.txt alone, without it
# (tests/settings.py takes it out of test runs).
DEBUG_TOOLBAR_ENABLED = DEBUG and find_spec("debug_toolbar") is not None
if DEBUG_TOOLBAR_ENABLED:
    INSTALLED_APPS.append("debug_toolbar")
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1", "::1"]
    # Collapsed to its handle, so it never covers a form (the phone's login button).
    DEBUG_TOOLBAR_CONFIG = {"SHOW_COLLAPSED": True}
