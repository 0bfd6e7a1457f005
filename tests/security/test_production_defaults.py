"""Production's defaults: the sandbox merchant is off and unmounted, its public secrets are refused,
/metrics needs its token, and `check --deploy` reports what is dangerous.

Each production configuration is loaded in a child process, exactly as the server would load it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest

from config.checks import check_production_defaults
from tests.support import zygote
from tests.support.services import PROJECT_DIR

METRICS_TOKEN = "scrape-token-0123456789"
# A correct production environment: its own merchant is the default, no sandbox.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "k7#Qz!v9" * 8,
    "ALLOWED_HOSTS": "shop.example,testserver",
    "METRICS_BEARER_TOKEN": METRICS_TOKEN,
    "MERCHANT_ACME_BASE_URL": "https://acme.example/acp",
    "MERCHANT_ACME_TOKEN": "acme-token-from-the-vault",
    "MERCHANT_ACME_WEBHOOK_SECRET": "acme-webhook-secret-from-the-vault",
    "DEFAULT_MERCHANT_ID": "acme",
    # behind the load balancer, which appends the client's address to X-Forwarded-For
    "TRUSTED_PROXY_COUNT": "1",
    # the shop's mail server: customers' security notices and staff notifications are delivered
    "EMAIL_HOST": "smtp.shop.example",
    # the address the customers' security notices send them to
    "CONSENT_SITE_URL": "https://shop.example",
}


def production_env(tmp_path, **overrides: str | None) -> dict[str, str]:
    # Nothing merchant-, sandbox- or demo-related leaks in from the environment running the tests.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MERCHANT_", "SANDBOX_MERCHANT_", "DEMO_MODE", "DEFAULT_MERCHANT", "METRICS_"))
        and key not in ("DEBUG", "DJANGO_SETTINGS_MODULE")
    }
    env.update(PRODUCTION_ENV, VAR_DIR=str(tmp_path))
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1/x")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")  # read, never connected to, by these checks
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_production(code: str, tmp_path, **overrides: str | None) -> subprocess.CompletedProcess:
    script = "import django, json; django.setup(); from django.conf import settings; " + code
    return zygote.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=production_env(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=60,
    )


# `manage.py check --deploy --fail-level WARNING` at the end of a run_production child, for tests that load the same
# configuration twice otherwise (each child spends most of a second starting Django): it prints what the command
# prints and fails the child as the command fails (SystemCheckError, exit code 1).
THEN_CHECK_DEPLOY = """
from django.core.management import call_command
print('--- check --deploy ---', flush=True)
call_command('check', deploy=True, fail_level='WARNING')
"""


def check_deploy(tmp_path, **overrides: str | None) -> subprocess.CompletedProcess:
    return zygote.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_DIR,
        env=production_env(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- the correct production environment, loaded once ---------------------------------------------------------

_SANDBOX_OFF = """
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import Resolver404, resolve
client = Client()
def status(path):
    response = client.get(path, secure=True)
    return [response.status_code, response.get('Location', '')]
try:
    resolve('/sandbox-merchant/products')
    resolved = True
except Resolver404:
    resolved = False
seen['sandbox'] = {
    'installed': apps.is_installed('sandbox_merchant'),
    'resolved': resolved,
    'api': status('/sandbox-merchant/products'),
    'faults': status('/sandbox-merchant/sandbox/faults'),
    'image': status('/sandbox-merchant/images/blue-runner.svg'),
    'root': status('/'),
    'admin_apps': sorted({model._meta.app_label for model in admin.site._registry}),
    'beat': sorted(settings.CELERY_BEAT_SCHEDULE),
    'merchants': sorted(settings.MERCHANTS),
}
"""

_METRICS = f"""
client = Client()
seen['metrics'] = [
    client.get('/metrics').status_code,
    client.get('/metrics', headers={{'Authorization': 'Bearer wrong'}}).status_code,
    client.get('/metrics', headers={{'Authorization': 'Bearer {METRICS_TOKEN}'}}).status_code,
]
# as the balancer's health checks and Prometheus send them: the machine's own name or address as Host
seen['other_hosts'] = {{
    host: [
        client.get('/healthz', HTTP_HOST=host).status_code,
        client.get('/readyz', HTTP_HOST=host).status_code,
        client.get('/metrics', HTTP_HOST=host, headers={{'Authorization': 'Bearer {METRICS_TOKEN}'}}).status_code,
        client.get('/metrics', HTTP_HOST=host).status_code,
        client.get('/settings/', HTTP_HOST=host, secure=True).status_code,
    ]
    for host in ('web-1.internal:8000', '10.0.3.7:8000', '10.0.3.7')
}}
"""


@pytest.fixture(scope="module")
def correct_production(tmp_path_factory) -> dict:
    """The correct production environment loaded once, in one child, for the tests that only look at it: what of
    the sandbox is mounted, installed and scheduled, how /metrics answers, then `check --deploy` (each child
    spends most of a second starting Django). Nothing here changes the configuration the next look sees."""
    result = run_production(
        "seen = {}\n" + _SANDBOX_OFF + _METRICS + "print(json.dumps(seen))\n" + THEN_CHECK_DEPLOY,
        tmp_path_factory.mktemp("production"),
    )
    started, _, checked = result.stdout.partition("--- check --deploy ---")
    assert started.strip(), result.stderr
    return {"result": result, "check": checked, **json.loads(started.splitlines()[-1])}


# -- the sandbox merchant ---------------------------------------------------------------------------


def test_production_refuses_the_sandbox_as_default_merchant_and_says_what_to_set(tmp_path):
    result = run_production("print('started')", tmp_path, DEFAULT_MERCHANT_ID=None, MERCHANT_ACME_BASE_URL=None)

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert "DEFAULT_MERCHANT_ID is 'sandbox'" in result.stderr
    assert "set DEFAULT_MERCHANT_ID=<id>" in result.stderr
    assert "DEMO_MODE=1" in result.stderr


def test_production_refuses_the_sandbox_switched_on_with_its_public_token_and_secret(tmp_path):
    result = run_production("print('started')", tmp_path, SANDBOX_MERCHANT_ENABLED="1")

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "set SANDBOX_MERCHANT_API_TOKENS" in result.stderr
    assert "set SANDBOX_MERCHANT_WEBHOOK_SECRET" in result.stderr
    assert "SANDBOX_MERCHANT_ENABLED=0" in result.stderr


def test_production_refuses_a_sandbox_client_that_would_accept_webhooks_signed_with_the_public_secret(tmp_path):
    # the sandbox app is off, but the merchant entry `sandbox` is kept with the dev values
    result = run_production("print('started')", tmp_path, MERCHANT_SANDBOX_ENABLED="1")

    assert result.returncode != 0
    assert "MERCHANT_SANDBOX_WEBHOOK_SECRET" in result.stderr


def test_production_accepts_a_sandbox_with_its_own_token_and_secret_when_it_is_not_the_default(tmp_path):
    result = run_production(
        "from django.apps import apps; print(json.dumps([apps.is_installed('sandbox_merchant'),"
        " sorted(settings.MERCHANTS), settings.DEFAULT_MERCHANT_ID]))",
        tmp_path,
        SANDBOX_MERCHANT_ENABLED="1",
        SANDBOX_MERCHANT_API_TOKENS="staging-sandbox-token-123",
        SANDBOX_MERCHANT_WEBHOOK_SECRET="staging-sandbox-secret-456",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [True, ["acme", "sandbox"], "acme"]


def test_production_with_demo_mode_runs_the_sandbox_shop_and_check_deploy_warns(tmp_path):
    checked = run_production(
        "from django.apps import apps; print(json.dumps([apps.is_installed('sandbox_merchant'),"
        " settings.DEFAULT_MERCHANT_ID, settings.SANDBOX_MERCHANT_API_TOKENS]))" + THEN_CHECK_DEPLOY,
        tmp_path,
        DEMO_MODE="1",
        DEFAULT_MERCHANT_ID=None,
        MERCHANT_ACME_BASE_URL=None,
    )

    started, check_output = checked.stdout.split("--- check --deploy ---")
    assert json.loads(started.splitlines()[-1]) == [True, "sandbox", ["sandbox-dev-token"]], checked.stderr
    assert checked.returncode != 0  # --fail-level WARNING: a demo is never a clean production deploy
    assert "SystemCheckError" in checked.stderr, checked.stderr  # the check failed it, nothing before
    assert "config.W001" in checked.stderr + check_output
    assert "DEMO_MODE is on" in checked.stderr + check_output


def test_with_the_sandbox_off_nothing_of_it_is_mounted_installed_or_scheduled(correct_production):
    seen = correct_production["sandbox"]
    assert seen["installed"] is False
    assert seen["resolved"] is False
    assert seen["api"][0] == 404
    assert seen["faults"][0] == 404
    assert seen["image"][0] == 404
    # `/` is no shop: it sends the customer to their settings page (which asks them to sign in)
    assert seen["root"] == [302, "/settings/"]
    assert "sandbox_merchant" not in seen["admin_apps"]
    assert "auth" in seen["admin_apps"]  # the admin itself is there
    assert not [entry for entry in seen["beat"] if entry.startswith("sandbox")]
    assert seen["merchants"] == ["acme"]


@pytest.mark.postgres
def test_without_the_sandbox_the_migrations_plan_without_it(tmp_path):
    # nothing else depends on the sandbox's tables: a production database never gets them. The plan is
    # read against the server's own `postgres` database, which has none of our tables, so every migration
    # a new production database would get is listed (the suite's DATABASE_URL names a database that
    # pytest-django only uses as the stem of its test database's name, and need not exist).
    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    empty_database = urlunsplit((server.scheme, server.netloc, "/postgres", "", ""))
    result = zygote.run(
        [sys.executable, "manage.py", "migrate", "--plan"],
        cwd=PROJECT_DIR,
        env=production_env(tmp_path, DATABASE_URL=empty_database),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "ordering.0001_flows" in result.stdout  # the plan is a real one, not "no planned operations"
    assert "sandbox" not in result.stdout


def test_a_correct_production_environment_passes_check_deploy_clean(correct_production):
    result = correct_production["result"]

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in correct_production["check"]


def test_check_deploy_warns_when_the_balancers_forwarded_client_addresses_are_not_trusted(tmp_path):
    # every client would have the balancer's address: one client's failures lock everyone out
    unset = check_deploy(tmp_path, TRUSTED_PROXY_COUNT=None)
    zero = check_deploy(tmp_path, TRUSTED_PROXY_COUNT="0")

    for result in (unset, zero):
        assert result.returncode != 0
        assert "config.W002" in result.stderr + result.stdout
        assert "TRUSTED_PROXY_COUNT" in result.stderr + result.stdout


def test_check_deploy_warns_when_e_mail_would_only_be_written_to_the_log(tmp_path):
    # without EMAIL_HOST the console backend "sends" every message into the worker's log: a customer is never told
    # that a card was added to their account, and their address and the message are in the logs
    result = check_deploy(tmp_path, EMAIL_HOST=None, EMAIL_BACKEND=None)

    assert result.returncode != 0
    assert "config.W003" in result.stderr + result.stdout
    assert "EMAIL_HOST" in result.stderr + result.stdout


def test_check_deploy_warns_when_security_notices_would_send_customers_to_localhost(tmp_path):
    # "If this wasn't you, sign in at http://localhost:8000/settings/ now": the default, in an e-mail to a customer
    result = check_deploy(tmp_path, CONSENT_SITE_URL=None)

    assert result.returncode != 0
    assert "config.W004" in result.stderr + result.stdout
    assert "CONSENT_SITE_URL is 'http://localhost:8000'" in result.stderr + result.stdout


def test_production_refuses_a_negative_trusted_proxy_count(tmp_path):
    result = run_production("print('started')", tmp_path, TRUSTED_PROXY_COUNT="-1")

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "TRUSTED_PROXY_COUNT" in result.stderr


def test_check_deploy_reports_the_sandbox_defaults_and_anonymous_metrics_under_any_settings(settings):
    # the test settings are the development defaults: sandbox on with its public values, no metrics token
    settings.DEMO_MODE = False
    settings.METRICS_BEARER_TOKEN = ""

    found = {(message.id, message.msg.split(".")[0]) for message in check_production_defaults(None)}

    assert ("config.E001", "DEFAULT_MERCHANT_ID is 'sandbox', the built-in demo merchant") in found
    assert ("config.E002", "/metrics is served without authentication") in found
    assert len([message_id for message_id, _ in found if message_id == "config.E001"]) == 3


# -- /metrics ---------------------------------------------------------------------------------------


def test_production_refuses_to_start_without_a_metrics_token(tmp_path):
    result = run_production("print('started')", tmp_path, METRICS_BEARER_TOKEN=None)

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "Production needs METRICS_BEARER_TOKEN" in result.stderr


def test_production_metrics_answer_only_with_the_bearer_token(correct_production):
    assert correct_production["metrics"] == [401, 401, 200]


def test_probes_and_scrapes_are_answered_whatever_host_they_name_and_nothing_else_is(correct_production):
    # the example prometheus.yml scrapes web-1.internal:8000 and balancers probe a machine's address, neither in
    # ALLOWED_HOSTS: both got Django's 400 for a disallowed host. /readyz says whether the database and broker
    # answer, never 400; /metrics still needs its token; a page on such a host is still refused.
    for host, (healthz, readyz, metrics, metrics_without_token, page) in correct_production["other_hosts"].items():
        assert [healthz, metrics, metrics_without_token, page] == [200, 200, 401, 400], host
        assert readyz in (200, 503), host


# -- what every machine must share, and each merchant must have ------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # the cache and the Celery broker would be files on each machine: turns posted on a web machine never reach
        # a worker on another, and rate limits and breakers are per machine
        ({"REDIS_URL": None, "CACHE_URL": None, "CELERY_BROKER_URL": None}, "Production needs REDIS_URL"),
        ({"REDIS_URL": None, "CACHE_URL": "redis://cache.internal:6379/1", "CELERY_BROKER_URL": None}, "REDIS_URL"),
        # a database file of one machine
        ({"DATABASE_URL": "sqlite:///var/production.sqlite3"}, "Production needs DATABASE_URL=postgres://"),
    ],
    ids=["no-redis", "cache-but-no-broker", "sqlite"],
)
def test_production_refuses_to_start_on_services_only_one_machine_can_see(tmp_path, overrides, message):
    result = run_production("print('started')", tmp_path, **overrides)

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert message in result.stderr


def test_production_starts_with_its_cache_and_broker_named_apart(tmp_path):
    result = run_production(
        "print(settings.CACHES['default']['BACKEND'], settings.CELERY_BROKER_URL)",
        tmp_path,
        REDIS_URL=None,
        CACHE_URL="redis://cache.internal:6379/1",
        CELERY_BROKER_URL="redis://broker.internal:6379/2",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.redis_cache.RedisCache", "redis://broker.internal:6379/2"]


@pytest.mark.parametrize("variable", ["MERCHANT_ACME_TOKEN", "MERCHANT_ACME_WEBHOOK_SECRET"])
def test_production_refuses_a_merchant_without_its_token_or_webhook_secret_and_names_it(tmp_path, variable):
    # no token: every request to the merchant refused, no order ever placed; no secret: every order webhook and
    # 3-D Secure result refused. Both used to start, and pass check --deploy.
    result = run_production("print('started')", tmp_path, **{variable: None})

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert f"{variable} is not set" in result.stderr


def test_check_deploy_reports_a_merchant_without_secrets_or_over_plain_http_under_any_settings(settings):
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "acme": {"ID": "acme", "BASE_URL": "http://acme.example", "TOKEN": "", "WEBHOOK_SECRET": ""},
        "beta": {"ID": "beta", "BASE_URL": "http://10.0.0.9", "TOKEN": "t", "WEBHOOK_SECRET": "s", "ALLOW_HTTP": True},
    }

    found = [message.msg.split(":")[0] for message in check_production_defaults(None) if message.id == "config.E003"]

    assert found == [
        "MERCHANT_ACME_TOKEN is not set",
        "MERCHANT_ACME_WEBHOOK_SECRET is not set",
        "MERCHANT_ACME_BASE_URL='http",
    ]


def test_production_refuses_a_merchant_over_plain_http_unless_it_is_on_this_machine_or_allowed(tmp_path):
    refused = run_production("print('started')", tmp_path, MERCHANT_ACME_BASE_URL="http://acme.example/acp")
    allowed = run_production(
        "print('started')",
        tmp_path,
        MERCHANT_ACME_BASE_URL="http://acme.internal/acp",
        MERCHANT_ACME_ALLOW_HTTP="1",
    )
    local = run_production("print('started')", tmp_path, MERCHANT_ACME_BASE_URL="http://127.0.0.1:8791")

    assert refused.returncode != 0
    assert "MERCHANT_ACME_BASE_URL='http://acme.example/acp' is plain HTTP" in refused.stderr
    assert "MERCHANT_ACME_ALLOW_HTTP=1" in refused.stderr
    assert allowed.returncode == 0, allowed.stderr
    assert local.returncode == 0, local.stderr


def test_check_deploy_warns_when_any_host_is_allowed(tmp_path):
    result = check_deploy(tmp_path, ALLOWED_HOSTS="*")

    assert result.returncode != 0
    assert "config.W005" in result.stderr + result.stdout
    assert "ALLOWED_HOSTS contains '*'" in result.stderr + result.stdout


def test_check_deploy_warns_when_security_notices_would_send_customers_to_plain_http(tmp_path):
    result = check_deploy(tmp_path, CONSENT_SITE_URL="http://shop.example")

    assert result.returncode != 0
    assert "config.W004" in result.stderr + result.stdout


def test_the_customer_session_lifetime_is_the_operators_to_choose(tmp_path):
    chosen = run_production(
        "print(settings.SESSION_COOKIE_AGE, settings.SESSION_COOKIE_NAME)",
        tmp_path,
        CUSTOMER_SESSION_MAX_AGE_SECONDS="43200",
    )
    refused = run_production("print('started')", tmp_path, CUSTOMER_SESSION_MAX_AGE_SECONDS="0")

    assert chosen.stdout.split() == ["43200", "__Host-sessionid"], chosen.stderr
    assert refused.returncode != 0
    assert "CUSTOMER_SESSION_MAX_AGE_SECONDS" in refused.stderr
