"""The delegate-payment vault: a token pays once, within its allowance, or not at all."""

from datetime import timedelta

import pytest

from sandbox_merchant.models import Order, VaultToken
from tests.support.sandbox import ALICE_HOME, payment_data

pytestmark = pytest.mark.django_db(transaction=True)


def _total(session: dict) -> int:
    return next(item["amount"] for item in session["totals"] if item["type"] == "total")


def _complete(sandbox_merchant, session_id: str, token: str) -> dict:
    response = sandbox_merchant.post(f"/checkout_sessions/{session_id}/complete", {"payment_data": payment_data(token)})
    assert response.status_code == 200, response.text
    return response.json()


def _refusal(result: dict) -> str:
    [message] = result["messages"]
    assert (message["type"], message["code"], message["param"]) == (
        "error",
        "payment_declined",
        "$.payment_data.instrument.credential.token",
    )
    return message["content"]


def test_delegate_payment_mints_a_scoped_token(sandbox_merchant):
    response = sandbox_merchant.post(
        "/agentic_commerce/delegate_payment",
        {
            "payment_method": {"type": "card", "vault_reference": "pm_alice_visa"},
            "allowance": {
                "reason": "one_time",
                "max_amount": 8000,
                "currency": "usd",
                "checkout_session_id": "cs_123",
                "merchant_id": "sandbox",
                "expires_at": "2099-01-01T00:00:00Z",
            },
            "risk_signals": [],
            "metadata": {"flow": "f-1"},
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("vt_")
    assert set(body) == {"id", "created", "metadata"}  # the official DelegatePaymentResponse
    assert body["metadata"] == {"flow": "f-1"}
    token = VaultToken.objects.get(id=body["id"])
    assert (token.max_amount, token.checkout_session_id, token.card_id) == (8000, "cs_123", "pm_alice_visa")
    assert token.expires_at.year == 2099


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"payment_method": {"type": "card", "vault_reference": "pm_nobody"}}, "$.payment_method.vault_reference"),
        ({"allowance": {"reason": "recurring"}}, "$.allowance.reason"),
        ({"allowance": {"expires_at": "2001-01-01T00:00:00Z"}}, "$.allowance.expires_at"),
        ({"allowance": {"max_amount": 0}}, "$.allowance.max_amount"),
    ],
)
def test_delegate_payment_refuses_an_unusable_request(sandbox_merchant, change, param):
    body = {
        "payment_method": {"type": "card", "vault_reference": "pm_alice_visa"},
        "allowance": {
            "reason": "one_time",
            "max_amount": 8000,
            "currency": "usd",
            "checkout_session_id": "cs_123",
            "merchant_id": "sandbox",
            "expires_at": "2099-01-01T00:00:00Z",
        },
        "risk_signals": [],
        "metadata": {},
    }
    for key, value in change.items():
        body[key] = {**body[key], **value}

    response = sandbox_merchant.post("/agentic_commerce/delegate_payment", body)

    assert response.status_code == 400
    assert response.json()["param"] == param
    assert VaultToken.objects.count() == 0


def _official_request(**fields: object) -> dict:
    """An official DelegatePaymentRequest for alice's saved card, as our client sends it (the card's vault reference as
    a network token and in its metadata), with `fields` replaced (None: left out)."""
    body = {
        "payment_method": {
            "type": "card",
            "card_number_type": "network_token",
            "number": "pm_alice_visa",
            "display_card_funding_type": "credit",
            "metadata": {"vault_reference": "pm_alice_visa"},
        },
        "allowance": {
            "reason": "one_time",
            "max_amount": 8000,
            "currency": "usd",
            "checkout_session_id": "cs_123",
            "merchant_id": "sandbox",
            "expires_at": "2099-01-01T00:00:00Z",
        },
        "risk_signals": [{"type": "card_testing", "score": 3, "action": "authorized"}],
        "metadata": {"flow": "f-1"},
    }
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


HOME = ALICE_HOME["address"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"risk_signals": None}, "$.risk_signals"),
        ({"risk_signals": {"type": "card_testing"}}, "$.risk_signals"),
        (
            {"risk_signals": [{"type": "card_testing", "score": "high", "action": "authorized"}]},
            "$.risk_signals[0].score",
        ),
        ({"shipping": {"speed": "fast"}}, "$.shipping"),
        ({"billing_address": {k: v for k, v in HOME.items() if k != "postal_code"}}, "$.billing_address.postal_code"),
        ({"metadata": None}, "$.metadata"),
        ({"metadata": {"flow": 1}}, "$.metadata.flow"),
        ({"metadata": []}, "$.metadata"),
    ],
    ids=[
        "no-risk-signals",
        "risk-signals-not-a-list",
        "a-bad-risk-signal",
        "unknown-field",
        "bad-billing",
        "no-metadata",
        "metadata-value",
        "metadata-list",
    ],
)
def test_delegate_payment_refuses_a_request_the_official_schema_refuses(sandbox_merchant, fields, param):
    from tests.support.acp_schema import assert_valid, schema_errors

    # given a request the official DelegatePaymentRequest does not allow
    body = _official_request(**fields)
    assert schema_errors(body, "DelegatePaymentRequest", bundle="delegate_payment")

    # when
    response = sandbox_merchant.post("/agentic_commerce/delegate_payment", body)

    # then it is refused in the spec's Error, naming the field, and nothing is minted
    assert response.status_code == 400, response.text
    error = response.json()
    assert_valid(error, "Error", bundle="delegate_payment")
    assert (error["type"], error["code"], error["param"]) == ("invalid_request", "invalid_card", param)
    assert VaultToken.objects.count() == 0


def test_our_clients_request_with_a_billing_address_mints_a_token(sandbox_merchant):
    from tests.support.acp_schema import assert_valid

    body = _official_request(billing_address=HOME)
    assert_valid(body, "DelegatePaymentRequest", bundle="delegate_payment")

    response = sandbox_merchant.post("/agentic_commerce/delegate_payment", body)

    assert response.status_code == 201, response.text
    assert_valid(response.json(), "DelegatePaymentResponse", bundle="delegate_payment")
    assert VaultToken.objects.get(id=response.json()["id"]).metadata == {"flow": "f-1"}


def test_a_token_over_its_allowance_is_refused(sandbox_merchant):
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session) - 1)

    result = _complete(sandbox_merchant, session["id"], token)

    assert "over_allowance" in _refusal(result)
    assert result["status"] == "ready_for_payment"
    assert Order.objects.count() == 0


def test_a_token_after_its_expiry_is_refused(sandbox_merchant, wall_clock):
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session), expires_in=timedelta(seconds=1))
    wall_clock.advance(1.2)

    result = _complete(sandbox_merchant, session["id"], token)

    assert "token_expired" in _refusal(result)
    assert Order.objects.count() == 0


def test_a_token_for_another_session_is_refused(sandbox_merchant):
    session = sandbox_merchant.ready_session()
    other = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(other["id"], 100000)

    result = _complete(sandbox_merchant, session["id"], token)

    assert "wrong_checkout_session" in _refusal(result)


@pytest.mark.parametrize(
    ("options", "reason"), [({"merchant_id": "acme"}, "wrong_merchant"), ({"currency": "eur"}, "wrong_currency")]
)
def test_a_token_for_another_merchant_or_currency_is_refused(sandbox_merchant, options, reason):
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], 100000, **options)

    assert reason in _refusal(_complete(sandbox_merchant, session["id"], token))


def test_a_token_pays_only_once(sandbox_merchant):
    # given a token that already paid for its session
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session))
    assert _complete(sandbox_merchant, session["id"], token)["status"] == "completed"
    later = sandbox_merchant.ready_session()

    # when it is presented again, for another purchase
    result = _complete(sandbox_merchant, later["id"], token)

    # then it is refused as spent, and there is still one order
    assert "already_used" in _refusal(result)
    assert Order.objects.count() == 1


def test_a_revoked_token_is_refused_and_revoke_is_idempotent(sandbox_merchant):
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session))

    first = sandbox_merchant.post(f"/agentic_commerce/delegate_payment/{token}/revoke")
    second = sandbox_merchant.post(f"/agentic_commerce/delegate_payment/{token}/revoke")
    unknown = sandbox_merchant.post("/agentic_commerce/delegate_payment/vt_never/revoke")

    assert first.json() == second.json() == {"id": token, "revoked": True}
    assert unknown.status_code == 200 and unknown.json()["revoked"] is True
    assert "token_revoked" in _refusal(_complete(sandbox_merchant, session["id"], token))


def test_revoking_a_used_token_says_so(sandbox_merchant):
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session))
    _complete(sandbox_merchant, session["id"], token)

    response = sandbox_merchant.post(f"/agentic_commerce/delegate_payment/{token}/revoke")

    assert response.json() == {"id": token, "revoked": False, "reason": "already_used"}


def test_a_card_pays_only_for_its_own_holders_checkout(sandbox_merchant):
    # bob knows (or guesses) the reference of alice's saved card
    bob = {"email": "bob@example.com", "first_name": "Bob", "last_name": "Example"}
    session = sandbox_merchant.ready_session(buyer=bob)
    token = sandbox_merchant.delegate(session["id"], _total(session), vault_reference="pm_alice_visa")

    result = _complete(sandbox_merchant, session["id"], token)

    assert "card_not_owned_by_buyer" in _refusal(result)
    assert result["status"] != "completed"
    assert VaultToken.objects.get(id=token).used_at is None


def test_the_sandbox_checks_delegate_payment_with_the_official_schema():
    from sandbox_merchant.acp import SPEC_DIR
    from tests.support.acp_schema import SCHEMA_DIR

    name = "schema.delegate_payment.json"
    assert (SPEC_DIR / name).read_bytes() == (SCHEMA_DIR / name).read_bytes()
