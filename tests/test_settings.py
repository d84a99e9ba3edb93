import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _import_settings(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "print(settings.DEBUG, settings.TIME_ZONE)"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )


def test_settings_refuse_to_start_without_secret_key_when_debug_off():
    result = _import_settings(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_settings_start_with_a_secret_key_when_debug_off():
    result = _import_settings(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "Asia/Kolkata"]


def test_settings_debug_uses_the_development_key_and_reads_time_zone():
    result = _import_settings(DJANGO_DEBUG="1", DJANGO_TIME_ZONE="UTC")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "UTC"]


def test_settings_reject_a_malformed_boolean():
    result = _import_settings(DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr


def _django(code, settings_module="crm.settings", **env):
    """Run `code` in a fresh process after django.setup(), with `env` in place of
    the caller's DJANGO_*, REDIS_* and CRM_* variables."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "REDIS_", "CRM_"))}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = settings_module
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings\n"
         + code],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )


def _setting(expression, **env):
    return _django(f"print({expression})", **env)


def test_settings_leave_the_debug_toolbar_out_of_tests():
    from django.conf import settings

    assert "debug_toolbar" not in settings.INSTALLED_APPS
    assert all("debug_toolbar" not in name for name in settings.MIDDLEWARE)


def test_settings_load_the_debug_toolbar_in_development():
    result = _setting(
        "'debug_toolbar' in settings.INSTALLED_APPS, "
        "settings.MIDDLEWARE[0] == 'debug_toolbar.middleware.DebugToolbarMiddleware'",
        DJANGO_DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_settings_slow_query_threshold_from_the_environment():
    result = _setting("settings.CRM_SLOW_QUERY_MS", DJANGO_DEBUG="1", CRM_SLOW_QUERY_MS="250")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["250.0"]


def test_settings_reject_a_malformed_slow_query_threshold():
    result = _setting("settings.CRM_SLOW_QUERY_MS", DJANGO_DEBUG="1", CRM_SLOW_QUERY_MS="fast")
    assert result.returncode != 0
    assert "CRM_SLOW_QUERY_MS must be a number" in result.stderr


MAIL = ("settings.EMAIL_BACKEND.rsplit('.', 2)[1], settings.PASSWORD_RESET_ENABLED, "
        "settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL, settings.EMAIL_TIMEOUT")


def test_settings_send_no_mail_and_offer_no_password_reset_without_email_host():
    result = _setting(MAIL, DJANGO_SECRET_KEY="x" * 50, EMAIL_HOST="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["dummy", "False"]


def test_settings_print_mail_on_the_console_in_development():
    result = _setting(MAIL, DJANGO_DEBUG="1", EMAIL_HOST="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["console", "True"]


def test_settings_send_mail_through_email_host():
    result = _setting(MAIL, DJANGO_SECRET_KEY="x" * 50, EMAIL_HOST="smtp.example.com")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["smtp", "True", "True", "False", "10"]
    implicit_tls = _setting(MAIL, DJANGO_SECRET_KEY="x" * 50, EMAIL_HOST="smtp.example.com",
                            EMAIL_PORT="465")
    assert implicit_tls.stdout.split() == ["smtp", "True", "False", "True", "10"]


def test_settings_refuse_ssl_and_tls_together():
    result = _setting(MAIL, DJANGO_DEBUG="1", EMAIL_HOST="smtp.example.com",
                      EMAIL_USE_SSL="1", EMAIL_USE_TLS="1")
    assert result.returncode != 0
    assert "Set at most one of EMAIL_USE_SSL and EMAIL_USE_TLS" in result.stderr


PROXY = "repr(settings.CRM_CLIENT_IP_HEADER), settings.CRM_TRUSTED_PROXIES"


def test_settings_trust_no_proxy_header_by_default():
    result = _setting(PROXY, DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["''", "0"]


def test_settings_read_the_proxy_header_and_count():
    result = _setting(PROXY, DJANGO_DEBUG="1", CRM_CLIENT_IP_HEADER="X-Forwarded-For")
    assert result.stdout.split() == ["'X-Forwarded-For'", "1"]
    result = _setting(PROXY, DJANGO_DEBUG="1", CRM_CLIENT_IP_HEADER="X-Forwarded-For",
                      CRM_TRUSTED_PROXIES="2")
    assert result.stdout.split() == ["'X-Forwarded-For'", "2"]


@pytest.mark.parametrize(("env", "message"), [
    ({"CRM_TRUSTED_PROXIES": "1"}, "CRM_TRUSTED_PROXIES (how many proxies"),
    ({"CRM_CLIENT_IP_HEADER": "X-Forwarded-For", "CRM_TRUSTED_PROXIES": "0"},
     "CRM_TRUSTED_PROXIES (how many proxies"),
    ({"CRM_CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR"}, "CRM_CLIENT_IP_HEADER must be an HTTP"),
])
def test_settings_refuse_a_half_or_malformed_proxy_setting(env, message):
    result = _setting(PROXY, DJANGO_DEBUG="1", **env)
    assert result.returncode != 0
    assert message in result.stderr


PRODUCTION_KEY = "k3Y-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2


def _deploy_check(**env):
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "REDIS_", "CRM_"))}
    clean.update(DJANGO_SETTINGS_MODULE="crm.settings", DJANGO_SECRET_KEY=PRODUCTION_KEY, **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )


def test_settings_pass_the_deploy_check_with_only_a_secret_key():
    result = _deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_are_secure_by_default_in_production():
    result = _setting(
        "settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, "
        "settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "settings.SECURE_HSTS_PRELOAD, settings.SECURE_PROXY_SSL_HEADER == "
        "('HTTP_X_FORWARDED_PROTO', 'https'), settings.STORAGES['staticfiles']['BACKEND']",
        DJANGO_SECRET_KEY=PRODUCTION_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "True", "True", "31536000", "True", "False", "True",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
    ]


def test_settings_relax_for_a_plain_http_intranet():
    result = _setting(
        "settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, "
        "settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "settings.SECURE_HSTS_PRELOAD",
        DJANGO_SECRET_KEY=PRODUCTION_KEY, DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0", DJANGO_SECURE_HSTS_SECONDS="0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False", "0", "False", "False"]


def test_settings_reject_a_malformed_hsts_duration():
    result = _setting("settings.SECURE_HSTS_SECONDS",
                      DJANGO_SECRET_KEY=PRODUCTION_KEY, DJANGO_SECURE_HSTS_SECONDS="1y")
    assert result.returncode != 0
    assert "DJANGO_SECURE_HSTS_SECONDS must be a whole number" in result.stderr


def test_settings_leave_hsts_preload_off_and_silence_its_warning_by_default():
    result = _setting("settings.SECURE_HSTS_PRELOAD, settings.SILENCED_SYSTEM_CHECKS",
                      DJANGO_SECRET_KEY=PRODUCTION_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "['security.W021']"]


def test_settings_send_hsts_preload_when_asked_and_still_pass_the_deploy_check():
    result = _setting("settings.SECURE_HSTS_PRELOAD, settings.SILENCED_SYSTEM_CHECKS",
                      DJANGO_SECRET_KEY=PRODUCTION_KEY, DJANGO_SECURE_HSTS_PRELOAD="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "[]"]

    check = _deploy_check(DJANGO_SECURE_HSTS_PRELOAD="1")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no issues" in check.stdout


def test_settings_reject_a_malformed_hsts_preload():
    result = _setting("settings.SECURE_HSTS_PRELOAD",
                      DJANGO_SECRET_KEY=PRODUCTION_KEY, DJANGO_SECURE_HSTS_PRELOAD="maybe")
    assert result.returncode != 0
    assert "DJANGO_SECURE_HSTS_PRELOAD must be one of" in result.stderr


def test_settings_development_is_plain_http_with_plain_static_files():
    result = _setting(
        "settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS, "
        "settings.STORAGES['staticfiles']['BACKEND']",
        DJANGO_DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False", "False", "0", "django.contrib.staticfiles.storage.StaticFilesStorage",
    ]


def test_settings_tests_use_http_and_plain_static_files():
    from django.conf import settings

    assert settings.SECURE_SSL_REDIRECT is False
    assert settings.STORAGES["staticfiles"]["BACKEND"] == (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    assert settings.MIDDLEWARE[1:3] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]


SENTINEL_ENV = {"DJANGO_DEBUG": "1", "REDIS_SENTINEL_MASTER": "crm"}


def test_settings_switch_the_cache_to_sentinel():
    result = _django(
        "import json\n"
        "print(json.dumps({alias: {'LOCATION': c['LOCATION'], 'OPTIONS': {\n"
        "    k: v for k, v in c['OPTIONS'].items()\n"
        "    if k not in ('CONNECTION_POOL_KWARGS', 'SENTINEL_KWARGS')}}\n"
        "    for alias, c in settings.CACHES.items()}))",
        **SENTINEL_ENV, REDIS_SENTINELS="10.0.0.5:26379, [fd00::6]:26380", REDIS_SENTINEL_DB="3",
        REDIS_URL="redis://127.0.0.1:6379/1",
    )
    assert result.returncode == 0, result.stderr
    caches = json.loads(result.stdout)
    for alias, ignore_exceptions in (("default", False),):
        assert caches[alias] == {
            "LOCATION": ["redis://crm/3"],
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.SentinelClient",
                "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
                "SENTINELS": [["10.0.0.5", 26379], ["fd00::6", 26380]],
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
                "IGNORE_EXCEPTIONS": ignore_exceptions,
            },
        }


def test_settings_give_the_sentinels_short_timeouts_and_no_retries():
    result = _django(
        "options = settings.CACHES['default']['OPTIONS']\n"
        "sentinel = options['SENTINEL_KWARGS']\n"
        "print(sentinel['socket_connect_timeout'], sentinel['socket_timeout'],\n"
        "      sentinel['retry'].get_retries(),\n"
        "      options['CONNECTION_POOL_KWARGS']['retry'].get_retries())",
        **SENTINEL_ENV, REDIS_SENTINELS="127.0.0.1:26379",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0.25", "0.25", "0", "0"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_SENTINELS": "127.0.0.1:26379"}, "Set REDIS_SENTINELS and REDIS_SENTINEL_MASTER"),
        ({"REDIS_SENTINEL_MASTER": "crm"}, "Set REDIS_SENTINELS and REDIS_SENTINEL_MASTER"),
        ({**SENTINEL_ENV, "REDIS_SENTINELS": "127.0.0.1"}, "REDIS_SENTINELS must be"),
        ({**SENTINEL_ENV, "REDIS_SENTINELS": "127.0.0.1:99999"}, "REDIS_SENTINELS must be"),
        ({**SENTINEL_ENV, "REDIS_SENTINELS": "h:1", "REDIS_SENTINEL_MASTER": "Crm/x"},
         "REDIS_SENTINEL_MASTER must use"),
    ],
)
def test_settings_reject_an_incomplete_sentinel_configuration(env, message):
    result = _setting("settings.CACHES", **{"DJANGO_DEBUG": "1", **env})
    assert result.returncode != 0
    assert message in result.stderr


# --- a real sentinel, when the machine has one ------------------------------

SENTINEL_PORT = 26390
SENTINEL_DB = 14  # neither the suite's 15 nor `make run`'s 1


def _port_free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sentinel_command(conf):
    if shutil.which("redis-sentinel"):
        return [shutil.which("redis-sentinel"), str(conf)]
    if shutil.which("redis-server"):
        return [shutil.which("redis-server"), str(conf), "--sentinel"]
    pytest.skip("neither redis-sentinel nor redis-server is installed")


@pytest.fixture
def sentinel(tmp_path):
    """A sentinel on a loopback port watching the local Redis as master `crm`."""
    import redis

    local = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5)
    try:
        local.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379 for the sentinel to monitor")
    port = SENTINEL_PORT if _port_free(SENTINEL_PORT) else _free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        "sentinel monitor crm 127.0.0.1 6379 1\n"
    )
    command = _sentinel_command(conf) + ["--port", str(port), "--bind", "127.0.0.1"]
    with open(tmp_path / "sentinel.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5,
                             decode_responses=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.sentinel_get_master_addr_by_name("crm"):
                    break
            except redis.RedisError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("sentinel did not start: " + (tmp_path / "sentinel.log").read_text())
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_settings_sentinel_cache_reaches_the_master(sentinel):
    import redis

    key = f"sentinel-test-{uuid.uuid4().hex}"
    result = _django(
        "from django.core.cache import caches\n"
        f"key = {key!r}\n"
        "default = caches['default']\n"
        "print(default.set(key, 'via-sentinel', 60), default.get(key),\n"
        "      type(default.client.get_client().connection_pool).__name__)",
        **SENTINEL_ENV, REDIS_SENTINELS=f"127.0.0.1:{sentinel}", REDIS_SENTINEL_DB=str(SENTINEL_DB),
    )
    master = redis.Redis(host="127.0.0.1", port=6379, db=SENTINEL_DB)
    try:
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [
            "True", "via-sentinel", "SentinelConnectionPool",
        ]
        assert master.exists(f"crm:1:{key}") == 1
    finally:
        master.delete(f"crm:1:{key}")


def test_settings_add_a_database_per_replica_url():
    result = _django(
        "d = settings.DATABASES\n"
        "print(settings.DATABASE_REPLICAS)\n"
        "print([(d[a]['HOST'], d[a]['NAME'], d[a]['CONN_MAX_AGE'], d[a]['OPTIONS'],"
        " d[a]['TEST']['MIRROR']) for a in settings.DATABASE_REPLICAS])\n"
        "print(settings.CRM_READ_YOUR_WRITES_SECONDS)",
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://crm@primary:5432/crm",
        DATABASE_REPLICA_URLS="postgres://crm@replica-a:5432/crm, postgres://crm@replica-b/crm",
        CRM_READ_YOUR_WRITES_SECONDS="8",
    )
    assert result.returncode == 0, result.stderr
    aliases, databases, window = result.stdout.splitlines()
    assert aliases == "['replica1', 'replica2']"
    assert databases == (
        "[('replica-a', 'crm', 600, {'connect_timeout': 5}, 'default'), "
        "('replica-b', 'crm', 600, {'connect_timeout': 5}, 'default')]"
    )
    assert window == "8"


def test_settings_have_no_replica_by_default():
    result = _setting("settings.DATABASE_REPLICAS", DJANGO_DEBUG="1", DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]"]


def test_settings_refuse_replicas_without_a_primary():
    result = _setting(
        "settings.DATABASE_REPLICAS", DJANGO_DEBUG="1", DATABASE_URL="",
        DATABASE_REPLICA_URLS="postgres://crm@replica-a/crm",
    )
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URLS needs DATABASE_URL" in result.stderr


def test_settings_refuse_a_malformed_cache_lifetime():
    result = _import_settings(DJANGO_DEBUG="1", CRM_DASHBOARD_DAY_TTL="five minutes")
    assert result.returncode != 0
    assert "CRM_DASHBOARD_DAY_TTL must be a whole number" in result.stderr


# --- logging ----------------------------------------------------------------

LOG_ONE_RECORD_EACH = (
    "import logging\n"
    "logging.getLogger('django.request').warning('request-record')\n"
    "logging.getLogger('django.server').info('server-record')\n"
    "logging.getLogger('crm.slow_query').warning('crm-record')\n"
)


@pytest.mark.parametrize(
    "env",
    [{"DJANGO_DEBUG": "1"}, {"DJANGO_SECRET_KEY": PRODUCTION_KEY}],
    ids=["debug", "production"],
)
def test_settings_log_each_record_once(env):
    result = _django(LOG_ONE_RECORD_EACH, **env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    request = [line for line in lines if "request-record" in line]
    crm = [line for line in lines if "crm-record" in line]
    server = [line for line in lines if "server-record" in line]
    assert len(request) == 1, lines
    assert re.fullmatch(r"\S+ \S+ WARNING django\.request request-record", request[0])
    assert len(crm) == 1, lines
    assert re.fullmatch(r"\S+ \S+ WARNING crm\.slow_query crm-record", crm[0])
    # runserver's request lines keep Django's own format.
    assert len(server) == 1, lines
    assert re.fullmatch(r"\[[^\]]+\] server-record", server[0])


# --- the test settings (tests/settings.py) ------------------------------------


@pytest.mark.parametrize(
    ("env", "location"),
    [
        ({"REDIS_URL": "redis://:pw@127.0.0.1:6379/1?health_check_interval=5"},
         "redis://:pw@127.0.0.1:6379/15?health_check_interval=5"),
        ({**SENTINEL_ENV, "REDIS_SENTINELS": "127.0.0.1:26379", "REDIS_SENTINEL_DB": "2"},
         ["redis://crm/15"]),
    ],
    ids=["url", "sentinel"],
)
def test_test_settings_keep_the_cache_on_redis_database_15(env, location):
    code = "print(json.dumps({a: c['LOCATION'] for a, c in settings.CACHES.items()}))"
    result = _django("import json\n" + code, settings_module="tests.settings", **env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"default": location}

    # The base settings have no test branch: `make run` keeps its database.
    base = _django("import json\n" + code, **{"DJANGO_DEBUG": "1", **env})
    assert base.returncode == 0, base.stderr
    assert json.loads(base.stdout)["default"] != location


def test_test_settings_mirror_the_primary_as_replica1():
    result = _django(
        "d = settings.DATABASES\n"
        "print(settings.DATABASE_REPLICAS, d['replica1']['TEST']['MIRROR'],\n"
        "      d['replica1']['NAME'] == d['default']['NAME'])",
        settings_module="tests.settings", DATABASE_REPLICA_URLS="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["['replica1']", "default", "True"]


def test_test_settings_leave_the_debug_toolbar_out_even_with_debug_on():
    result = _django(
        "print('debug_toolbar' in settings.INSTALLED_APPS, settings.DEBUG_TOOLBAR_ENABLED,\n"
        "      [m for m in settings.MIDDLEWARE if 'debug_toolbar' in m])",
        settings_module="tests.settings", DJANGO_DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "[]"]


def test_test_settings_turn_off_the_ssl_redirect_and_manifest_storage_whatever_the_env():
    result = _django(
        "print(settings.SECURE_SSL_REDIRECT, settings.STORAGES['staticfiles']['BACKEND'],\n"
        "      settings.WHITENOISE_USE_FINDERS)",
        settings_module="tests.settings", DJANGO_SECURE_SSL_REDIRECT="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False", "django.contrib.staticfiles.storage.StaticFilesStorage", "True",
    ]


def test_suite_refuses_to_run_on_the_base_settings():
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "REDIS_", "CRM_"))}
    clean.update(DJANGO_SETTINGS_MODULE="crm.settings", DJANGO_DEBUG="1")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "tests/test_settings.py"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "The suite runs on tests.settings, not crm.settings" in result.stderr


# --- .env.example -------------------------------------------------------------


def test_env_example_lists_every_variable_the_settings_read():
    read = set(re.findall(
        r"env_(?:str|bool|int|float|list)\(\s*\"([A-Z0-9_]+)\"",
        (ROOT / "crm" / "settings.py").read_text(),
    ))
    listed = set(re.findall(r"^# ([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert "DJANGO_DEBUG" in read  # the pattern finds the calls at all
    assert read - listed == set()


def test_debug_toolbar_starts_collapsed_in_development():
    # Expanded, it covered the login button of a phone-sized window.
    result = _django(
        "from debug_toolbar.settings import get_config\n"
        "print(settings.DEBUG_TOOLBAR_ENABLED, get_config()['SHOW_COLLAPSED'])",
        DJANGO_DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
