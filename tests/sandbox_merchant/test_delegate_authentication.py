"""delegate_authentication's own protocol rules (openapi.delegate_authentication.yaml, rfc.delegate_authentication):
an optional Idempotency-Key, 409 on a key reused with other parameters, and errors in its own Error shape."""

from __future__ import annotations

import pytest
import requests

from sandbox_merchant.models import IssuerChallenge
from tests.support.acp_schema import _bundle, assert_valid, schema_errors

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/delegate_authentication"


def _total(session: dict) -> int:
    return next(total["amount"] for total in session["totals"] if total["type"] == "total")


def _waiting_session(sandbox_merchant) -> dict:
    """A session the 3-D Secure card left in authentication_required."""
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session), vault_reference="pm_alice_3ds")
    assert sandbox_merchant.complete(session["id"], token).status_code == 400
    return session


def _body(session: dict, url: str = "https://agent.example/3ds") -> dict:
    return {"checkout_session_id": session["id"], "challenge_notification_url": url}


def _post_without_key(sandbox_merchant, path: str, body: dict) -> requests.Response:
    return sandbox_merchant._session().post(
        f"{sandbox_merchant.base_url}{path}", json=body, headers=sandbox_merchant.headers(), timeout=30
    )


def _error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid(body, "Error", bundle="delegate_authentication")
    return body


def test_create_and_authenticate_need_no_idempotency_key(sandbox_merchant):
    session = _waiting_session(sandbox_merchant)

    created = _post_without_key(sandbox_merchant, PATH, _body(session))
    assert created.status_code == 201, created.text
    assert_valid(created.json(), "DelegateAuthenticationSession", bundle="delegate_authentication")
    authenticated = _post_without_key(
        sandbox_merchant,
        f"{PATH}/{created.json()['authentication_session_id']}/authenticate",
        {"fingerprint_completion": "Y"},
    )

    assert authenticated.status_code == 200, authenticated.text
    assert "Idempotency-Key" not in created.headers
    # without a key each create is its own request
    assert _post_without_key(sandbox_merchant, PATH, _body(session)).status_code == 201
    assert IssuerChallenge.objects.filter(session_id=session["id"]).count() == 2


def test_the_same_key_replays_and_the_same_key_with_other_parameters_is_409(sandbox_merchant):
    session = _waiting_session(sandbox_merchant)

    first = sandbox_merchant.post(PATH, _body(session), idempotency_key="auth-1")
    again = sandbox_merchant.post(PATH, _body(session), idempotency_key="auth-1")
    other = sandbox_merchant.post(PATH, _body(session, "https://agent.example/other"), idempotency_key="auth-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    conflict = _error(other, 409)  # rfc.delegate_authentication §7: MUST be 409
    assert (conflict["type"], conflict["code"]) == ("invalid_request", "idempotency_conflict")
    assert IssuerChallenge.objects.filter(session_id=session["id"]).count() == 1


def _caller_error_schema_problems(body: dict) -> list[str]:
    """The API's Error schema, whose `code` enum (invalid_card, duplicate_request, idempotency_conflict) cannot
    name a caller or version failure: every other rule holds (additionalProperties: false, required, type)."""
    problems = schema_errors(body, "Error", bundle="delegate_authentication")
    return [problem for problem in problems if not problem.startswith("$.code:")]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Authorization": "Bearer wrong"}, 401, "unauthorized"),
        ({"API-Version": None}, 400, "missing_api_version"),
        ({"API-Version": "2031-01-01"}, 400, "unsupported_api_version"),
    ],
)
def test_caller_and_version_errors_say_what_they_are_in_the_apis_error_shape(sandbox_merchant, headers, status, code):
    session = _waiting_session(sandbox_merchant)
    sent = {name: value for name, value in sandbox_merchant.headers(**{"Idempotency-Key": "k-1"}).items()}
    for name, value in headers.items():
        if value is None:
            sent.pop(name)
        else:
            sent[name] = value

    response = requests.post(f"{sandbox_merchant.base_url}{PATH}", json=_body(session), headers=sent, timeout=30)

    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["code"] != "invalid_card"
    assert "supported_versions" not in body  # the API's Error has additionalProperties: false
    assert _caller_error_schema_problems(body) == []
    if status == 400:
        assert "2026-04-17" in body["message"]
    # the enum is the only rule such a body breaks, and only because the enum has no word for it
    assert code not in _bundle("delegate_authentication")["$defs"]["Error"]["properties"]["code"]["enum"]


def test_the_checkout_api_keeps_supported_versions_and_422_for_a_conflict(sandbox_merchant):
    # the other APIs are not changed by delegate_authentication's rules
    missing = requests.get(
        f"{sandbox_merchant.base_url}/products",
        headers={k: v for k, v in sandbox_merchant.headers().items() if k != "API-Version"},
        timeout=30,
    )
    sandbox_merchant.post("/checkout_sessions", {"line_items": [{"id": "var_soft_flask"}]}, idempotency_key="c-1")
    conflict = sandbox_merchant.post(
        "/checkout_sessions", {"line_items": [{"id": "var_blue_runner_42"}]}, idempotency_key="c-1"
    )

    assert missing.json()["supported_versions"] == ["2026-04-17"]
    assert_valid(missing.json(), "Error")
    assert (conflict.status_code, conflict.json()["code"]) == (422, "idempotency_conflict")
