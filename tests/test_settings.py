import os
import subprocess
import sys
from pathlib import Path

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


def _setting(expression, **env):
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "REDIS_", "CRM_"))}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         f"print({expression})"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )


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


PRODUCTION_KEY = "k3Y-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2


def test_settings_pass_the_deploy_check_with_only_a_secret_key():
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "REDIS_", "CRM_"))}
    clean.update(DJANGO_SETTINGS_MODULE="crm.settings", DJANGO_SECRET_KEY=PRODUCTION_KEY)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_are_secure_by_default_in_production():
    result = _setting(
        "settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "settings.SECURE_HSTS_PRELOAD, settings.SECURE_PROXY_SSL_HEADER == "
        "('HTTP_X_FORWARDED_PROTO', 'https'), settings.STORAGES['staticfiles']['BACKEND']",
        DJANGO_SECRET_KEY=PRODUCTION_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "True", "True", "31536000", "True", "True", "True",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
    ]


def test_settings_relax_for_a_plain_http_intranet():
    result = _setting(
        "settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
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


def test_settings_development_is_plain_http_with_plain_static_files():
    result = _setting(
        "settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS, "
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
