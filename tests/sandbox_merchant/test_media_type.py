"""A POST body must be sent as JSON: the RFCs require `Content-Type: application/json` on a request with a body
(rfc.agentic_checkout §2, rfc.delegate_payment, rfc.delegate_authentication). Anything else is 415, nothing done."""

from __future__ import annotations

import json

import pytest

from sandbox_merchant.models import CheckoutSession, VaultToken

pytestmark = pytest.mark.django_db(transaction=True)

BODY = json.dumps({"currency": "usd", "line_items": [{"id": "var_blue_runner_42"}]})


def _post(sandbox_merchant, path: str, data: str, content_type: str | None, key: str = "media-1"):
    headers = sandbox_merchant.headers(**{"Idempotency-Key": key})
    if content_type is not None:
        headers["Content-Type"] = content_type
    return sandbox_merchant._session().post(f"{sandbox_merchant.base_url}{path}", data=data.encode(), headers=headers)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None], ids=str
)
def test_a_body_not_sent_as_json_is_415_and_does_nothing(sandbox_merchant, content_type):
    response = _post(sandbox_merchant, "/checkout_sessions", BODY, content_type)

    assert response.status_code == 415, response.text
    error = response.json()
    assert (error["type"], error["code"]) == ("invalid_request", "unsupported_media_type")
    assert CheckoutSession.objects.count() == 0
    # the same key with the right type is a new request (a 415 is decided before the key is claimed)
    assert _post(sandbox_merchant, "/checkout_sessions", BODY, "application/json").status_code == 201


def test_json_with_a_charset_is_json(sandbox_merchant):
    response = _post(sandbox_merchant, "/checkout_sessions", BODY, "application/json; charset=utf-8")

    assert response.status_code == 201, response.text


def test_delegate_payment_refuses_a_form_too(sandbox_merchant):
    response = _post(sandbox_merchant, "/agentic_commerce/delegate_payment", "number=4242424242424242", "text/plain")

    assert response.status_code == 415
    assert "4242424242424242" not in response.text
    assert VaultToken.objects.count() == 0


def test_a_post_without_a_body_needs_no_content_type(sandbox_merchant):
    session = sandbox_merchant.create_session()

    response = _post(sandbox_merchant, f"/checkout_sessions/{session['id']}/cancel", "", None, key="cancel-empty")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "canceled"
