"""delegate_payment takes cards in the spec's own shape (`card_number_type: fpan`): the sandbox's test numbers map to
its vault, anything else is a spec-shaped invalid_card, and no number, CVC or expiry is kept beyond the vault's
brand, last four and expiry columns (docs/sandbox-merchant-wire.md, "Delegated payment")."""

from __future__ import annotations

import copy
import logging
import re
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.core import serializers
from django.utils import timezone

from sandbox_merchant.models import Order, VaultCard, VaultToken
from tests.support.acp_schema import SPEC_DIR, assert_valid
from tests.support.sandbox import payment_data

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/agentic_commerce/delegate_payment"


@cache
def _openapi_card_success() -> dict:
    spec = yaml.safe_load(Path(SPEC_DIR / "openapi" / "openapi.delegate_payment.yaml").read_text())
    operation = spec["paths"]["/agentic_commerce/delegate_payment"]["post"]
    return operation["requestBody"]["content"]["application/json"]["examples"]["card_success"]["value"]


def _total(session: dict) -> int:
    return next(item["amount"] for item in session["totals"] if item["type"] == "total")


def _card_success(sandbox_merchant, session: dict, **card) -> dict:
    """The OpenAPI's `card_success` example as sent, with only what dates it or names another shop moved to now:
    the allowance (this session, this merchant, a future expiry) and the card's expiry (11/2026 has passed)."""
    body = copy.deepcopy(_openapi_card_success())
    body["allowance"].update(
        checkout_session_id=session["id"],
        merchant_id=sandbox_merchant.merchant_id,
        max_amount=_total(session),
        expires_at=(timezone.now() + timedelta(minutes=15)).isoformat(),
    )
    body["payment_method"].update({"exp_year": str(timezone.now().year + 2), **card})
    body.setdefault("risk_signals", [])
    body.setdefault("metadata", {})
    assert_valid(body, "DelegatePaymentRequest", bundle="delegate_payment")
    return body


def _token(response) -> VaultToken:
    assert response.status_code == 201, response.text
    assert_valid(response.json(), "DelegatePaymentResponse", bundle="delegate_payment")
    return VaultToken.objects.select_related("card").get(id=response.json()["id"])


def _card_error(response, status: int, param: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid(body, "Error", bundle="delegate_payment")
    assert (body["type"], body["code"], body["param"]) == ("invalid_request", "invalid_card", param)
    return body


def _complete(sandbox_merchant, session: dict, token: VaultToken):
    return sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}/complete", {"payment_data": payment_data(token.id)}
    )


def test_the_specs_card_success_example_mints_a_token_that_pays(sandbox_merchant):
    # given alice's checkout and the OpenAPI's own FPAN example (4242 4242 4242 4242)
    session = sandbox_merchant.ready_session()

    # when
    token = _token(sandbox_merchant.post(PATH, _card_success(sandbox_merchant, session)))

    # then it is a visa ending 4242 in alice's vault, and it pays her checkout
    assert (token.card.customer_id, token.card.brand, token.card.last4, token.card.behaviour) == (
        "cus_alice",
        "visa",
        "4242",
        "approve",
    )
    completed = _complete(sandbox_merchant, session, token).json()
    assert completed["status"] == "completed"


def test_a_demo_customers_saved_card_number_with_its_expiry_names_that_saved_card(sandbox_merchant):
    saved = VaultCard.objects.get(reference="pm_alice_3ds")
    session = sandbox_merchant.ready_session()
    card = {
        "number": "5555555555083220",
        "exp_month": f"{saved.exp_month:02d}",
        "exp_year": str(saved.exp_year),
        "iin": "555555",
        "display_brand": "mastercard",
        "display_last4": "3220",
    }

    token = _token(sandbox_merchant.post(PATH, _card_success(sandbox_merchant, session, **card)))

    assert token.card_id == "pm_alice_3ds"
    # and it behaves as that card does: its issuer asks for 3-D Secure
    challenged = _complete(sandbox_merchant, session, token)
    assert (challenged.status_code, challenged.json()["code"]) == (400, "requires_3ds")
    assert VaultCard.objects.filter(customer_id="cus_alice").count() == 3  # nothing new in her vault


def test_a_well_known_number_pays_any_demo_buyers_checkout_as_their_card(sandbox_merchant):
    session = sandbox_merchant.ready_session(buyer={"email": "bob@example.com"})

    token = _token(sandbox_merchant.post(PATH, _card_success(sandbox_merchant, session)))

    assert (token.card.customer_id, token.card.last4) == ("cus_bob", "4242")
    assert _complete(sandbox_merchant, session, token).json()["status"] == "completed"


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        ("5555555555554444", "completed"),
        ("4000000000000002", "payment_declined"),
        ("4000000000003220", "requires_3ds"),
    ],
)
def test_each_test_number_behaves_as_documented(sandbox_merchant, number, outcome):
    session = sandbox_merchant.ready_session()
    card = {"number": number, "iin": number[:6], "display_last4": number[-4:]}
    token = _token(sandbox_merchant.post(PATH, _card_success(sandbox_merchant, session, **card)))

    answer = _complete(sandbox_merchant, session, token)

    if outcome == "requires_3ds":
        assert (answer.status_code, answer.json()["code"]) == (400, "requires_3ds")
    elif outcome == "payment_declined":
        assert [m["code"] for m in answer.json()["messages"]] == ["payment_declined"]
    else:
        assert answer.json()["status"] == "completed"
    assert Order.objects.count() == (1 if outcome == "completed" else 0)


@pytest.mark.parametrize(
    ("card", "status", "param"),
    [
        # a real-looking number the sandbox does not know: a well-formed card it cannot take
        ({"number": "4111111111111111", "display_last4": "1111"}, 422, "$.payment_method.number"),
        # not a card number at all (too short; fails the Luhn check)
        ({"number": "4242"}, 400, "$.payment_method.number"),
        ({"number": "4242424242424241"}, 400, "$.payment_method.number"),
        # the spec's own 422 example: "Invalid card expiration month"
        ({"exp_month": "13"}, 422, "$.payment_method.exp_month"),
        ({"exp_month": "03", "exp_year": "2020"}, 422, "$.payment_method.exp_year"),
        ({"cvc": "12"}, 422, "$.payment_method.cvc"),
        ({"display_last4": "1881"}, 422, "$.payment_method.display_last4"),
    ],
)
def test_a_card_the_sandbox_cannot_take_is_a_spec_shaped_invalid_card(sandbox_merchant, card, status, param):
    session = sandbox_merchant.ready_session()
    body = _card_success(sandbox_merchant, session)
    body["payment_method"].update(card)

    error = _card_error(sandbox_merchant.post(PATH, body), status, param)

    assert body["payment_method"]["number"] not in error["message"]
    assert VaultToken.objects.count() == 0


def test_a_card_number_for_a_checkout_without_a_known_buyer_is_refused(sandbox_merchant):
    session = sandbox_merchant.ready_session()
    body = _card_success(sandbox_merchant, session)
    body["allowance"]["checkout_session_id"] = "cs_nobody_knows"

    _card_error(sandbox_merchant.post(PATH, body), 422, "$.allowance.checkout_session_id")


def test_the_vault_reference_extension_still_names_a_saved_card(sandbox_merchant):
    # what our own client sends: the vault's reference as a network token and in the card's metadata
    session = sandbox_merchant.ready_session()
    body = _card_success(sandbox_merchant, session)
    body["payment_method"] = {
        "type": "card",
        "card_number_type": "network_token",
        "number": "pm_alice_visa",
        "display_card_funding_type": "credit",
        "metadata": {"vault_reference": "pm_alice_visa"},
    }

    assert _token(sandbox_merchant.post(PATH, body)).card_id == "pm_alice_visa"


def _stored_text() -> str:
    """Every row of every sandbox table, serialized (the request log and idempotency records included)."""
    models = [model for model in apps.get_app_config("sandbox_merchant").get_models()]
    return "\n".join(serializers.serialize("json", model.objects.all()) for model in models)


def test_no_card_number_cvc_or_expiry_is_kept_or_logged(sandbox_merchant, caplog):
    # given an FPAN with a CVC and an expiry nothing else in the shop has (July 2038)
    caplog.set_level(logging.DEBUG)
    session = sandbox_merchant.ready_session()
    card = {"number": "5555555555554444", "cvc": "9184", "exp_month": "07", "exp_year": "2038"}
    body = _card_success(sandbox_merchant, session, **card, display_last4="4444", iin="555555")

    # when it is delegated, replayed, refused (a month 13, the same key with another body) and paid with
    minted = sandbox_merchant.post(PATH, body, idempotency_key="card-key")
    replayed = sandbox_merchant.post(PATH, body, idempotency_key="card-key")
    bad_month = copy.deepcopy(body)
    bad_month["payment_method"]["exp_month"] = "13"
    refused = sandbox_merchant.post(PATH, bad_month)
    conflict = sandbox_merchant.post(PATH, bad_month, idempotency_key="card-key")
    token = _token(minted)
    _complete(sandbox_merchant, session, token)

    # then the answers are what they should be
    assert replayed.json() == minted.json() and replayed.headers["Idempotent-Replayed"] == "true"
    assert (refused.status_code, conflict.status_code) == (422, 422)
    # and the number and CVC are nowhere in the sandbox's tables (request log, idempotency records, vault, orders)
    # nor in the logs; the expiry only in the vault card's own columns
    stored = _stored_text()
    logged = caplog.text
    assert "5555555555554444" not in stored and "5555555555554444" not in logged
    # the CVC and the year as values of their own: a random hex id may well hold "9184" or "2038"
    for secret in ("9184", "2038"):
        alone = re.compile(rf"(?<![0-9A-Za-z]){secret}(?![0-9A-Za-z])")
        assert not alone.search(logged), secret
        assert not alone.search(stored.replace(serializers.serialize("json", VaultCard.objects.all()), "")), secret
    assert (token.card.exp_month, token.card.exp_year, token.card.last4) == (7, 2038, "4444")
    assert not re.search(r"(?<![0-9A-Za-z])9184(?![0-9A-Za-z])", serializers.serialize("json", VaultCard.objects.all()))
