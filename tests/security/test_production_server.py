"""The production web server as the README starts it (`gunicorn -c config/gunicorn.py config.wsgi:application` under
`config.settings.production`, after `collectstatic`), looked at over HTTP the way the TLS-terminating load balancer
forwards a browser's requests to it: what it tells browsers to keep, which cookies it sets and how, what an upload
costs it, and what its error pages and headers give away.

The server runs on this test run's PostgreSQL database (users are committed with `transactional_db`, so the server
sees them) and Redis, with its own merchant configured and never called.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests.security.test_production_defaults import METRICS_TOKEN, PRODUCTION_ENV
from tests.support import zygote
from tests.support.services import (
    PROJECT_DIR,
    child_env,
    database_url_for,
    free_port,
    stop_process_group,
    wait_for_http,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PASSWORD = "correct-horse-battery-9"


def browser(server_url: str, *, client_address: str = "203.0.113.7") -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    # the shop's public host as the browser named it, and what the balancer adds to every request it forwards
    # (TRUSTED_PROXY_COUNT=1); the browser's Referer on its own requests, which Django's CSRF check reads over HTTPS
    session.headers.update(
        {
            "Host": "shop.example",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": client_address,
            "Referer": "https://shop.example/",
        }
    )
    session.base_url = server_url  # type: ignore[attr-defined]
    return session


def _sent_back_over_https(session: requests.Session, response: requests.Response) -> requests.Response:
    # The balancer speaks HTTPS to the browser and plain HTTP to the app, so the browser sends its Secure cookies
    # back: kept here without the flag (requests sends Secure cookies only to https URLs). Tests read the flags
    # on Set-Cookie.
    for cookie in session.cookies:
        cookie.secure = False
    return response


def get(session: requests.Session, path: str, **kwargs) -> requests.Response:
    url = session.base_url + path  # type: ignore[attr-defined]
    return _sent_back_over_https(session, session.get(url, allow_redirects=False, timeout=30, **kwargs))


def post(session: requests.Session, path: str, **kwargs) -> requests.Response:
    url = session.base_url + path  # type: ignore[attr-defined]
    return _sent_back_over_https(session, session.post(url, allow_redirects=False, timeout=30, **kwargs))


def sign_in(session: requests.Session, username: str) -> requests.Response:
    page = get(session, "/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = post(
        session,
        "/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": "https://shop.example/accounts/login/"},
    )
    assert answer.status_code == 302, answer.text[:500]
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return answer


def production_server_env(*, port: int, var_dir: Path, **overrides: str) -> dict[str, str]:
    dropped = ("MERCHANT_", "SANDBOX_MERCHANT_", "DEMO_", "METRICS_", "WEB_", "PROMETHEUS_", "DATABASE_POOL")
    env = {
        key: value
        for key, value in child_env().items()
        if not key.startswith(dropped) and key not in ("DEBUG", "DJANGO_ROOT_URLCONF", "CELERY_DEFAULT_QUEUE")
    }
    env.update(
        {
            **PRODUCTION_ENV,
            "ALLOWED_HOSTS": "127.0.0.1,shop.example",
            "DATABASE_URL": database_url_for(connection.settings_dict),
            "STATIC_ROOT": str(var_dir / "static"),
            "VAR_DIR": str(var_dir),
            "WEB_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "1",
            "WEB_THREADS": "4",
            "ORDERING_WARM_LEXICON": "0",
            "LOG_LEVEL": "WARNING",
            **overrides,
        }
    )
    return env


def gunicorn_start(env: dict[str, str], log: Path) -> subprocess.Popen:
    """The README's web command, its output in `log`, in a process group of its own (`stop_process_group`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """The README's two commands: `collectstatic`, then gunicorn with config/gunicorn.py."""
    var_dir = tmp_path_factory.mktemp("production-server")
    port = free_port()
    with django_db_blocker.unblock():
        env = production_server_env(port=port, var_dir=var_dir)
    collected = zygote.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert collected.returncode == 0, collected.stderr
    log = var_dir / "server.log"
    process = gunicorn_start(env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/healthz", timeout=90, process=process)
        yield url
    finally:
        stop_process_group(process)


@pytest.fixture
def customer(transactional_db):
    # the server checks passwords with production's hashers, not the test settings' fast one
    user = get_user_model().objects.create(username="cora", email="cora@example.com")
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    user.save(update_fields=["password"])
    return user


def test_answers_for_a_signed_in_customer_are_never_stored_by_a_browser_or_a_proxy(server, customer):
    # given a customer signed in through the real form
    session = browser(server)
    sign_in(session, "cora")

    # when they load their settings page and the API the widget reads their cards from
    page = get(session, "/settings/")
    cards = get(session, "/api/v1/consent/payment-methods/")
    conversation = post(session, "/api/v1/conversations/", json={})

    # then none of it may be kept on disk, in the history or in a shared cache
    for answer in (page, cards, conversation):
        assert answer.status_code in (200, 201), (answer.request.url, answer.status_code, answer.text[:300])
        directives = {part.strip() for part in answer.headers.get("Cache-Control", "").split(",")}
        assert {"no-store", "private"} <= directives, (answer.request.url, answer.headers.get("Cache-Control"))
    # the sign-in page keeps Django's never_cache, and static files their long caching (no session behind them)
    assert "no-store" in get(browser(server), "/accounts/login/").headers["Cache-Control"]
    static = get(session, re.search(r'(?:src|href)="(/static/[^"]+)"', page.text).group(1))
    assert static.status_code == 200 and "public" in static.headers["Cache-Control"], static.headers


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(server):
    # a "file" of 3 MB (over DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB) posted to the sign-in page: Django's own limit
    # counts form fields and never files, so the whole body was read and written to a temporary file, then answered
    # (one connection each: the server does not read the refused body, so it closes that connection after answering)
    big = post(browser(server), "/accounts/login/", files={"upload": ("photo.jpg", b"x" * 3 * 1024 * 1024)})
    small = post(browser(server), "/accounts/login/", files={"upload": ("photo.jpg", b"x" * 1024)})

    assert big.status_code == 413, big.text[:300]
    assert big.headers["Content-Type"].startswith("text/html")
    assert "Request too large" in big.text
    assert "Content-Security-Policy" in big.headers
    # a small one goes on to the usual checks (no CSRF token: refused by them, not by size)
    assert small.status_code == 403


def test_the_session_cookie_is_secure_http_only_same_site_and_for_this_host_alone(server, customer):
    session = browser(server)
    signed_in = sign_in(session, "cora")

    set_cookies = signed_in.raw.headers.getlist("Set-Cookie")
    session_cookie = next(cookie for cookie in set_cookies if cookie.startswith("__Host-sessionid="))
    attributes = {part.strip().split("=", 1)[0].lower() for part in session_cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path", "max-age"} <= attributes, session_cookie
    assert "domain" not in attributes  # a __Host- cookie is refused by browsers with a Domain
    assert "SameSite=Lax" in session_cookie and "Path=/;" in session_cookie + ";"
    assert "Max-Age=1209600" in session_cookie  # two weeks, CUSTOMER_SESSION_MAX_AGE_SECONDS
    # the CSRF cookie the widget reads is Secure and SameSite too (not HttpOnly: the widget sends it back)
    csrf_cookie = next(cookie for cookie in set_cookies if cookie.startswith("csrftoken="))
    assert "Secure" in csrf_cookie and "SameSite=Lax" in csrf_cookie
    # and the session works under its new name
    assert get(session, "/settings/").status_code == 200


def test_pages_the_api_and_error_pages_carry_the_security_headers_and_no_server_version(server):
    session = browser(server)
    answers = {
        "page": get(session, "/accounts/login/"),
        "api": get(session, "/api/v1/conversations/"),
        "not found": get(session, "/no-such-page/"),
        "bad host": get(session, "/accounts/login/", headers={"Host": "evil.example"}),
    }

    assert [answer.status_code for answer in answers.values()] == [200, 403, 404, 400]
    for name, answer in answers.items():
        headers = answer.headers
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload", name
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", name
        assert not re.search(r"\d", headers.get("Server", "")), (name, headers.get("Server"))
        assert "Traceback" not in answer.text and "SECRET_KEY" not in answer.text and "DATABASES" not in answer.text
    for name in ("page", "api", "not found"):
        assert answers[name].headers["X-Frame-Options"] == "DENY", name
    # plain HTTP (no X-Forwarded-Proto: https) is sent to HTTPS
    plain = get(session, "/accounts/login/", headers={"X-Forwarded-Proto": "http"})
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")


def test_the_metrics_endpoint_answers_only_to_its_bearer_token_and_probes_say_nothing_more(server):
    session = browser(server)

    assert get(session, "/metrics").status_code == 401
    assert get(session, "/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert get(session, "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200
    assert get(session, "/healthz").json() == {"status": "ok"}
    readiness = get(session, "/readyz").json()
    assert set(readiness) == {"status", "checks"} and set(readiness["checks"]) == {"database", "broker"}


@pytest.mark.parametrize("variable", ["REDIS_URL", "MERCHANT_ACME_WEBHOOK_SECRET"])
def test_the_server_refuses_to_start_without_what_it_needs_and_names_it(variable, tmp_path, django_db_blocker):
    port = free_port()
    with django_db_blocker.unblock():
        env = production_server_env(port=port, var_dir=tmp_path)
    env.pop(variable)
    env.pop("CACHE_URL", None)
    env.pop("CELERY_BROKER_URL", None)

    log = tmp_path / "server.log"
    process = gunicorn_start(env, log)
    try:
        returncode = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        returncode = None  # a server that boots never exits by itself
    finally:
        stop_process_group(process)

    output = log.read_text()
    assert returncode not in (None, 0), f"the server started without {variable}:\n{output[-2000:]}"
    assert "Worker failed to boot" in output
    assert variable in output
