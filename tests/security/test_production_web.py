"""The web-facing controls: API docs need a signed-in user, every page carries a Content-Security-Policy,
staff sessions end a working day after sign-in. (Browser checks of the policy: tests/browser/test_csp_pages.py.)
"""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.urls import include, path
from django.utils import timezone
from django_otp.oath import totp

from config.staff_sessions import SIGNED_IN_AT_KEY
from escalations.staff import staff_user_create


def _boom(request):
    raise RuntimeError("a bug in a view")


# This module is also a URLconf: the site plus one view that fails, for the 500 page.
urlpatterns = [path("boom/", _boom), path("", include("config.urls"))]

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def customer(db):
    return get_user_model().objects.create_user(username="cora", password=PASSWORD)


@pytest.fixture
def staff(db):
    return staff_user_create(username="sam", password=PASSWORD, superuser=True)


def _code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def _staff_sign_in(client, staff) -> None:
    """Through the real admin sign-in form: username, password and the current TOTP code."""
    user, device = staff
    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": user.username,
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": _code(device),
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert client.get("/admin/").status_code == 200


# -- API docs ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in_for_the_api_docs_and_refused_the_schema(client):
    page = client.get("/api/docs/")
    schema = client.get("/api/schema/")
    schema_json = client.get("/api/schema/?format=json")

    assert page.status_code == 302
    assert page["Location"] == "/accounts/login/?next=/api/docs/"
    assert schema.status_code == 403
    assert "credentials were not provided" in schema.content.decode()
    assert schema_json.status_code == 403
    assert "credentials were not provided" in json.dumps(schema_json.json())


def test_a_signed_in_user_reads_the_api_docs_and_schema(client, customer):
    client.force_login(customer)

    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")
    schema = client.get("/api/schema/?format=json")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="swagger-ui"' in html
    # every script is a file (the start-up script too): nothing inline for the policy to allow
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")


# -- Content-Security-Policy on every page type -----------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


def _assert_strict(response) -> dict[str, list[str]]:
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    # scripts: this site's files and this response's nonce, never inline or eval
    assert policy["script-src"][0] == "'self'"
    assert re.fullmatch(r"'nonce-[A-Za-z0-9_-]{20,}'", policy["script-src"][1])
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    return policy


@pytest.mark.urls(__name__)
def test_every_page_type_carries_the_policy(client, customer, staff, sandbox_merchant):

    anonymous = {
        "storefront": client.get("/"),
        "customer sign-in": client.get("/accounts/login/"),
        "staff sign-in": client.get("/admin/login/"),
        "not found": client.get("/no-such-page/"),
    }
    client.raise_request_exception = False
    anonymous["server error"] = client.get("/boom/")
    client.raise_request_exception = True
    client.force_login(customer)
    signed_in = {
        "settings": client.get("/settings/"),
        "api docs": client.get("/api/docs/"),
        "api json": client.get("/api/v1/consent/caps/"),
    }
    client.logout()
    _staff_sign_in(client, staff)
    staff_pages = {
        "admin index": client.get("/admin/"),
        "escalation queue": client.get("/admin/escalations/escalation/"),
        "audit log": client.get("/admin/audit/auditevent/"),
    }

    pages = {**anonymous, **signed_in, **staff_pages}
    assert {name: response.status_code for name, response in pages.items()} == {
        "storefront": 200,
        "customer sign-in": 200,
        "staff sign-in": 200,
        "not found": 404,
        "server error": 500,
        "settings": 200,
        "api docs": 200,
        "api json": 200,
        "admin index": 200,
        "escalation queue": 200,
        "audit log": 200,
    }
    for name, response in pages.items():
        assert "Content-Security-Policy" in response, name
        _assert_strict(response)


def test_inline_style_blocks_carry_this_responses_nonce(client, staff):
    _staff_sign_in(client, staff)

    first = client.get("/admin/escalations/escalation/")
    second = client.get("/admin/escalations/escalation/")

    nonce = _policy(first)["style-src"][1].removeprefix("'nonce-").removesuffix("'")
    assert f'<style nonce="{nonce}">' in first.content.decode()
    assert _policy(second)["style-src"][1] != _policy(first)["style-src"][1]  # a fresh nonce per response


def test_a_view_with_its_own_policy_keeps_it(client, sandbox_merchant):
    response = client.get("/sandbox-merchant/images/blue_runner.svg")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"


# -- staff sessions -----------------------------------------------------------------------------------


def _stored_expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_staff_session_ends_eight_hours_after_sign_in_however_active(client, staff, settings):
    assert settings.STAFF_SESSION_MAX_AGE_SECONDS == 8 * 3600
    before = timezone.now()
    _staff_sign_in(client, staff)

    # the session (and its cookie) end 8 h after sign-in, not in the two weeks a customer gets
    expiry = _stored_expiry(client)
    assert before + timedelta(hours=8) - timedelta(seconds=5) <= expiry <= timezone.now() + timedelta(hours=8)
    assert client.cookies["sessionid"]["max-age"] <= 8 * 3600

    # activity does not extend it: a request that saves the session keeps the same end
    client.get("/admin/escalations/escalation/")
    session = client.session
    session["touched"] = True
    session.save()
    client.get("/admin/")
    assert _stored_expiry(client) == expiry

    # time travel: signed in 8 h ago (the stored session itself is not yet expired)
    session = client.session
    session[SIGNED_IN_AT_KEY] = time.time() - 8 * 3600 - 1
    session.save()
    old_key = session.session_key

    response = client.get("/admin/escalations/escalation/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not Session.objects.filter(session_key=old_key).exists()  # signed out, not just bounced
    sign_in_page = client.get(response["Location"])
    notice = "Your staff session ended 8 hours after you signed in. Please sign in again."
    assert notice in sign_in_page.content.decode()


def test_a_staff_session_just_inside_the_working_day_still_works(client, staff):
    _staff_sign_in(client, staff)
    session = client.session
    session[SIGNED_IN_AT_KEY] = time.time() - 8 * 3600 + 60
    session.save()

    assert client.get("/admin/escalations/escalation/").status_code == 200


def test_a_customer_keeps_the_normal_session_age(client, customer, settings):
    response = client.post("/accounts/login/", {"username": "cora", "password": PASSWORD})

    assert response.status_code == 302
    assert SIGNED_IN_AT_KEY not in client.session
    expiry = _stored_expiry(client)
    assert expiry > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_the_csrf_failure_page_needs_no_inline_style(customer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"username": "cora", "password": PASSWORD})

    assert response.status_code == 403
    _assert_strict(response)
    body = response.content.decode()
    assert "Please try again" in body
    assert "<style" not in body
    assert "style=" not in body


# --- What the pages say about the deployment --------------------------------------------------------


@pytest.mark.parametrize("sandbox_on", [True, False])
def test_pages_call_it_a_sandbox_shop_only_while_the_sandbox_merchant_runs(client, settings, sandbox_on):
    settings.SANDBOX_MERCHANT_ENABLED = sandbox_on
    settings.SHOP_NAME = "Harbour Outfitters"

    page = client.get("/accounts/login/").content.decode()

    assert "Harbour Outfitters" in page
    # A real shop must never tell its customers that nothing is really charged.
    assert ("nothing is really charged" in page) is sandbox_on
    assert ("sandbox shop" in page) is sandbox_on


def test_seed_demo_says_why_it_cannot_run_without_the_sandbox(db, settings):
    from django.core.management import CommandError, call_command

    settings.SANDBOX_MERCHANT_ENABLED = False

    with pytest.raises(CommandError, match="sandbox merchant, which is off"):
        call_command("seed_demo", force=True)
