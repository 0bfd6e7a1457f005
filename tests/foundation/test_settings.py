import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, env_bool, env_float, parse_database_url, redact_url
from tests.support import zygote
from tests.support.services import PROJECT_DIR, child_env


def test_postgres_url_becomes_a_prometheus_wrapped_postgresql_database():
    db = parse_database_url("postgres://shop:s%40cret@db.internal:6543/orders?sslmode=require")

    assert db["ENGINE"] == "django_prometheus.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "orders",
        "shop",
        "s@cret",
        "db.internal",
        "6543",
    )
    assert db["OPTIONS"]["sslmode"] == "require"
    assert db["CONN_HEALTH_CHECKS"] is True


def test_sqlite_url_relative_and_absolute_paths():
    relative = parse_database_url("sqlite:///var/other.sqlite3")
    absolute = parse_database_url("sqlite:////tmp/x/db.sqlite3")

    assert relative["NAME"] == str(BASE_DIR / "var" / "other.sqlite3")
    assert absolute["NAME"] == "/tmp/x/db.sqlite3"
    assert parse_database_url("sqlite3:///var/other.sqlite3")["NAME"] == relative["NAME"]
    assert "journal_mode=WAL" in relative["OPTIONS"]["init_command"]
    assert relative["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_connections_are_kept_a_minute_unless_the_url_says_otherwise():
    default = parse_database_url("postgres://shop@db.internal/orders")
    configured = parse_database_url("postgres://shop@db.internal/orders?conn_max_age=0&connect_timeout=2")

    assert (default["CONN_MAX_AGE"], default["OPTIONS"]) == (60, {"connect_timeout": 5})
    assert (configured["CONN_MAX_AGE"], configured["OPTIONS"]) == (0, {"connect_timeout": 2})
    assert configured["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@localhost/x",
        "postgres://localhost",
        "postgres://localhost:port/x",
        "postgres://localhost/x?conn_max_age=soon",
        "sqlite://",
        "sqlite://:memory:",
    ],
)
def test_unsupported_or_incomplete_database_urls_are_refused_with_the_reason(url):
    with pytest.raises(ImproperlyConfigured):
        parse_database_url(url)


def test_passwords_are_redacted_from_urls_in_messages():
    assert redact_url("postgres://u:hunter2@h/db") == "postgres://u:***@h/db"
    assert redact_url("redis://localhost:6379/0") == "redis://localhost:6379/0"


def test_booleans_are_strict(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG")
    monkeypatch.setenv("SOME_FLAG", "Yes")
    assert env_bool("SOME_FLAG") is True


def test_numbers_with_fractions_are_strict_too(monkeypatch):
    monkeypatch.setenv("SOME_WAIT", "half a second")
    with pytest.raises(ImproperlyConfigured, match="SOME_WAIT"):
        env_float("SOME_WAIT", 1.0)
    monkeypatch.setenv("SOME_WAIT", "0.5")
    assert env_float("SOME_WAIT", 1.0) == 0.5
    monkeypatch.setenv("SOME_WAIT", "")
    assert env_float("SOME_WAIT", 1.0) == 1.0


def _settings_in_child(code: str, tmp_path: Path, settings_module: str, **env: str | None):
    script = "import django, json; django.setup(); from django.conf import settings; " + code
    return zygote.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=child_env(DJANGO_SETTINGS_MODULE=settings_module, VAR_DIR=str(tmp_path), **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_database_url_the_default_is_a_wal_mode_sqlite_file_under_var(tmp_path):
    # given no DATABASE_URL, no REDIS_URL
    result = _settings_in_child(
        "from django.db import connection; c = connection.cursor(); c.execute('PRAGMA journal_mode');"
        "print(json.dumps([settings.DATABASES['default']['NAME'], c.fetchone()[0], settings.CELERY_BROKER_URL]))",
        tmp_path,
        "config.settings.dev",
        DATABASE_URL=None,
        REDIS_URL=None,
        CELERY_BROKER_URL=None,
    )

    assert result.returncode == 0, result.stderr
    name, journal_mode, broker = __import__("json").loads(result.stdout.strip().splitlines()[-1])
    assert name == str(tmp_path / "db.sqlite3")
    assert journal_mode == "wal"
    assert broker == "filesystem://"


def test_redis_url_becomes_the_broker_and_result_backend(tmp_path):
    result = _settings_in_child(
        "print(settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND)",
        tmp_path,
        "config.settings.dev",
        REDIS_URL="redis://cache.internal:6379/3",
        CELERY_BROKER_URL=None,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis://cache.internal:6379/3", "redis://cache.internal:6379/3"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _settings_in_child(
        "print('started')",
        tmp_path,
        "config.settings.production",
        SECRET_KEY=None,
        DEBUG=None,
        DATABASE_URL="postgres://postgres@127.0.0.1/x",
        ALLOWED_HOSTS="shop.example",
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "started" not in result.stdout


def test_debug_alone_does_not_unlock_the_development_key_in_production(tmp_path):
    result = _settings_in_child(
        "print('started')",
        tmp_path,
        "config.settings.production",
        SECRET_KEY=None,
        DEBUG="1",
        DATABASE_URL="postgres://postgres@127.0.0.1/x",
        ALLOWED_HOSTS="shop.example",
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_settings_pass_check_deploy(tmp_path):
    result = zygote.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_DIR,
        env=child_env(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            SECRET_KEY="k7#Qz!v9" * 8,
            DEBUG=None,
            DATABASE_URL="postgres://postgres@127.0.0.1/x",
            ALLOWED_HOSTS="shop.example",
            VAR_DIR=str(tmp_path),
            # production needs its own merchant as the default (no sandbox) and a token on /metrics
            MERCHANT_ACME_BASE_URL="https://acme.example/acp",
            MERCHANT_ACME_TOKEN="acme-token",
            MERCHANT_ACME_WEBHOOK_SECRET="acme-webhook-secret",
            DEFAULT_MERCHANT_ID="acme",
            METRICS_BEARER_TOKEN="scrape-token-0123456789",
            # behind the load balancer, trusted for the client's address in X-Forwarded-For
            TRUSTED_PROXY_COUNT="1",
            # and a mail server, so that customers' notices are sent
            EMAIL_HOST="smtp.shop.example",
            CONSENT_SITE_URL="https://shop.example",
            SANDBOX_MERCHANT_ENABLED=None,
            DEMO_MODE=None,
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD' is not a level; use DEBUG, INFO, WARNING, ERROR or CRITICAL."),
        ("LOG_FORMAT", "xml", "LOG_FORMAT='xml' is not a format; use json or text."),
    ],
)
def test_a_log_level_or_format_that_does_not_exist_stops_the_process_naming_it(variable, value, message, tmp_path):
    # before: LOG_LEVEL=LOUD failed with logging's "Unable to configure logger 'celery'", and LOG_FORMAT=xml (or
    # "JSON", "jsonl") silently wrote text lines that a log store expecting JSON cannot parse
    result = _settings_in_child("print('started')", tmp_path, "config.settings.test", **{variable: value})

    assert result.returncode != 0
    assert message in result.stderr
    assert "started" not in result.stdout


@pytest.mark.parametrize(("level", "log_format"), [("warning", "JSON"), ("debug", "text"), ("WARN", " json ")])
def test_log_level_and_format_are_read_whatever_their_case(level, log_format, tmp_path):
    result = _settings_in_child(
        "print(settings.LOG_LEVEL, settings.LOGGING['handlers']['console']['formatter'])",
        tmp_path,
        "config.settings.test",
        LOG_LEVEL=level,
        LOG_FORMAT=log_format,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == [level.upper(), log_format.strip().lower()]


@pytest.mark.parametrize(
    ("variable", "url", "problem"),
    [
        ("REDIS_URL", "localhost:6379", "'localhost:6379' is not a Redis URL: it needs redis://, rediss:// or unix://"),
        (
            "REDIS_URL",
            "redis://:s3cret-pw@cache:abc/0",
            "'redis://:***@cache:abc/0' is not a Redis URL: its port is not",
        ),
        ("CACHE_URL", "redis://cache:6379/sessions", "'redis://cache:6379/sessions' is not a Redis URL: its database"),
    ],
)
def test_a_redis_url_that_is_not_one_stops_the_process_naming_it(variable, url, problem, tmp_path):
    # before: manage.py check --deploy passed, and the first worker died with "No module named 'localhost'"
    # (the broker read the host as a transport) or a request with urllib's "Port could not be cast to integer"
    result = _settings_in_child("print('started')", tmp_path, "config.settings.dev", **{variable: url})

    assert result.returncode != 0
    assert f"{variable}={problem}" in result.stderr
    assert "s3cret-pw" not in result.stderr
    assert "started" not in result.stdout


@pytest.mark.parametrize(
    "url", ["redis://:pw@127.0.0.1:6379/3", "rediss://cache.internal", "unix:///run/redis.sock?db=2"]
)
def test_redis_urls_of_every_documented_form_are_accepted(url, tmp_path):
    result = _settings_in_child("print(settings.CELERY_BROKER_URL)", tmp_path, "config.settings.dev", REDIS_URL=url)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == url
