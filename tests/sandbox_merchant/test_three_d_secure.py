"""3-D Secure cannot be skipped: after a complete answered 400 requires_3ds, only the issuer's own result pays.

Alice's Mastercard `pm_alice_3ds` is the real 3-D Secure card of the demo vault (its issuer mandates a challenge).
Every answer is checked against the official ACP 2026-04-17 schemas (a session, or the flat Error of a 400).
"""

from __future__ import annotations

import re

import pytest
import requests

from sandbox_merchant.models import CheckoutSession, IssuerChallenge, Order, VaultToken
from tests.support.acp_schema import assert_valid

pytestmark = pytest.mark.django_db(transaction=True)

DETAILS = ("three_ds_cryptogram", "electronic_commerce_indicator", "transaction_id", "version")


def _total(session: dict) -> int:
    return next(total["amount"] for total in session["totals"] if total["type"] == "total")


def _session(response: requests.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid(body, "CheckoutSessionWithOrder" if body["status"] == "completed" else "CheckoutSession")
    return body


def _error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid(body, "Error")
    return body


def _challenged(sandbox_merchant) -> tuple[dict, str]:
    """A ready session paid with the 3-D Secure card: its first complete answered 400 requires_3ds."""
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session), vault_reference="pm_alice_3ds")
    refused = _error(sandbox_merchant.complete(session["id"], token), 400)
    assert (refused["code"], refused["param"]) == ("requires_3ds", "$.authentication_result")
    waiting = _session(sandbox_merchant.get(f"/checkout_sessions/{session['id']}"))
    assert waiting["status"] == "authentication_required"
    assert waiting["authentication_metadata"]["flow_preference"] == {
        "type": "challenge",
        "challenge": {"type": "mandated"},
    }
    return session, token


def _issuer_result(sandbox_merchant, session_id: str, *, code: str = "123456") -> dict:
    """The customer answers the sandbox issuer's challenge; returns the result it recorded (delegate_authentication)."""
    created = sandbox_merchant.post(
        "/delegate_authentication",
        {"checkout_session_id": session_id, "challenge_notification_url": "https://agent.example/3ds"},
    )
    assert created.status_code == 201, created.text
    acs_url = created.json()["action"]["challenge"]["acs_url"]
    browser = requests.Session()
    page = browser.get(acs_url, timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    form = {"code": code, **({"csrfmiddlewaretoken": csrf.group(1)} if csrf else {})}
    answered = browser.post(acs_url, data=form, headers={"Referer": acs_url}, allow_redirects=False, timeout=30)
    assert answered.status_code in (302, 303), answered.text[:300]
    result = sandbox_merchant.get(f"/delegate_authentication/{created.json()['authentication_session_id']}").json()
    return result


def _nothing_charged(session: dict, token: str) -> None:
    assert CheckoutSession.objects.get(id=session["id"]).status == "authentication_required"
    assert VaultToken.objects.get(id=token).used_at is None
    assert Order.objects.count() == 0


def test_authenticated_without_outcome_details_is_a_400_and_charges_nothing(sandbox_merchant):
    # given alice's 3-D Secure card was asked for authentication
    session, token = _challenged(sandbox_merchant)

    # when the client claims `authenticated` with no issuer result (the review's bypass)
    claimed = sandbox_merchant.complete(session["id"], token, authentication_result={"outcome": "authenticated"})

    # then the AuthenticationResult schema refuses it, naming the missing field
    error = _error(claimed, 400)
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request",
        "missing",
        "$.authentication_result.outcome_details",
    )
    _nothing_charged(session, token)


@pytest.mark.parametrize(
    ("authentication_result", "param"),
    [
        ({"outcome": "authenticated", "outcome_details": {"transaction_id": "t"}}, "$.authentication_result."),
        ({"outcome": "trust_me"}, "$.authentication_result.outcome"),
        ({"outcome": "not_supported", "liability": "mine"}, "$.authentication_result.liability"),
    ],
)
def test_an_authentication_result_outside_the_schema_is_a_400_naming_it(sandbox_merchant, authentication_result, param):
    session, token = _challenged(sandbox_merchant)

    error = _error(sandbox_merchant.complete(session["id"], token, authentication_result=authentication_result), 400)

    assert error["param"].startswith(param)
    _nothing_charged(session, token)


def test_authenticated_with_details_the_issuer_never_gave_is_declined(sandbox_merchant):
    session, token = _challenged(sandbox_merchant)
    invented = {
        "outcome": "authenticated",
        "outcome_details": {
            "three_ds_cryptogram": "AbCdEfGhIjKlMnOpQrStUvWxY0=",
            "electronic_commerce_indicator": "05",
            "transaction_id": "dsTransId_abc123",
            "version": "2.2.0",
        },
    }

    declined = _session(sandbox_merchant.complete(session["id"], token, authentication_result=invented))

    assert declined["status"] == "authentication_required"
    assert [(m["code"], m["param"]) for m in declined["messages"]] == [("payment_declined", "$.authentication_result")]
    _nothing_charged(session, token)


def test_a_result_that_differs_from_the_issuers_in_one_detail_is_declined(sandbox_merchant):
    session, token = _challenged(sandbox_merchant)
    recorded = _issuer_result(sandbox_merchant, session["id"])["authentication_result"]
    # the real transaction id and cryptogram, but a claimed ECI the issuer did not give (06: attempted, not 05)
    altered = {name: recorded[name] for name in DETAILS} | {"electronic_commerce_indicator": "06"}

    declined = _session(
        sandbox_merchant.complete(
            session["id"], token, authentication_result={"outcome": "authenticated", "outcome_details": altered}
        )
    )

    assert [(m["code"], m["param"]) for m in declined["messages"]] == [("payment_declined", "$.authentication_result")]
    _nothing_charged(session, token)
    assert IssuerChallenge.objects.get(session_id=session["id"]).used_at is None  # still good for the real result


def test_not_supported_cannot_skip_a_challenge_the_issuer_mandates(sandbox_merchant):
    session, token = _challenged(sandbox_merchant)

    declined = _session(
        sandbox_merchant.complete(session["id"], token, authentication_result={"outcome": "not_supported"})
    )

    assert declined["status"] == "authentication_required"
    [refusal] = declined["messages"]
    assert (refusal["type"], refusal["code"], refusal["param"]) == (
        "error",
        "payment_declined",
        "$.authentication_result",
    )
    assert "mandates 3-D Secure" in refusal["content"]
    assert declined["authentication_metadata"]["flow_preference"]["challenge"] == {"type": "mandated"}
    _nothing_charged(session, token)


def test_a_session_waiting_for_authentication_is_not_paid_without_it(sandbox_merchant):
    # given the merchant's own risk check asked once (a fault that fires once), on a card that needs no 3-D Secure
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session))
    _error(sandbox_merchant.complete(session["id"], token, headers={"Sandbox-Fault": "requires_3ds;times=1"}), 400)

    # when the client completes again without any authentication_result
    again = sandbox_merchant.complete(session["id"], token)

    # then the session still asks for it (RFC 4.4: a 4XX requires_3ds while authentication_required)
    assert _error(again, 400)["code"] == "requires_3ds"
    _nothing_charged(session, token)


def test_the_issuers_result_pays_once_and_the_legitimate_flow_places_the_order(sandbox_merchant):
    # given alice's 3-D Secure card was asked for authentication, and she answered her bank's challenge
    session, token = _challenged(sandbox_merchant)
    result = _issuer_result(sandbox_merchant, session["id"])
    assert result["status"] == "authenticated"
    authentication_result = {
        "outcome": "authenticated",
        "outcome_details": {name: result["authentication_result"][name] for name in DETAILS},
    }
    assert_valid(authentication_result, "AuthenticationResult")

    # when the client completes with the issuer's own result
    completed = _session(sandbox_merchant.complete(session["id"], token, authentication_result=authentication_result))

    # then the order is placed and the result is spent
    assert completed["status"] == "completed" and completed["order"]["id"]
    assert IssuerChallenge.objects.get(session_id=session["id"]).used_at is not None
    # and the same result cannot pay a second checkout
    other = sandbox_merchant.ready_session()
    other_token = sandbox_merchant.delegate(other["id"], _total(other), vault_reference="pm_alice_3ds")
    _error(sandbox_merchant.complete(other["id"], other_token), 400)
    reused = _session(sandbox_merchant.complete(other["id"], other_token, authentication_result=authentication_result))
    assert [m["code"] for m in reused["messages"]] == ["payment_declined"]
    assert Order.objects.count() == 1


def test_a_challenge_the_merchant_prefers_takes_not_supported_without_a_liability_shift(sandbox_merchant):
    # given the merchant's own risk check asks for 3-D Secure (the fault), on a card whose issuer mandates nothing
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session))
    fault = {"Sandbox-Fault": "requires_3ds"}
    _error(sandbox_merchant.complete(session["id"], token, headers=fault), 400)
    waiting = _session(sandbox_merchant.get(f"/checkout_sessions/{session['id']}"))
    assert waiting["authentication_metadata"]["flow_preference"]["challenge"] == {"type": "preferred"}

    # when the client says no 3-D Secure result exists (verified out of band)
    completed = sandbox_merchant.complete(
        session["id"], token, headers=fault, authentication_result={"outcome": "not_supported"}
    )

    # then the merchant charges it, as it may for a challenge that was only its preference
    assert _session(completed)["status"] == "completed"


@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "12345é"], ids=["arabic-indic-digits", "latin-1-letter"])
def test_a_code_with_non_ascii_characters_is_a_wrong_code_not_a_500(sandbox_merchant, code):
    # given a session whose card's issuer asks for 3-D Secure
    session, _ = _challenged(sandbox_merchant)

    # when the customer types a code with characters outside ASCII on the issuer's page
    result = _issuer_result(sandbox_merchant, session["id"], code=code)

    # then it is a wrong code like any other (hmac.compare_digest refuses non-ASCII text: it was a 500)
    assert result["status"] == "not_authenticated"
