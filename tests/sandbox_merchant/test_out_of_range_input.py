"""Numbers and dates beyond what the sandbox keeps: a 400 in the spec's Error naming the field, never a 500, and
nothing written. And the 5xx answers the sandbox does give use a code of their API's Error."""

import pytest

from sandbox_merchant import services
from sandbox_merchant.models import CheckoutLine, CheckoutSession, FaultRule, Variant, VaultToken
from tests.support.acp_schema import assert_valid
from tests.support.sandbox import AGENT_CAPABILITIES

pytestmark = pytest.mark.django_db(transaction=True)

SOCKS = "var_run_socks_white_m"
LARGEST_COUNT = 2**31 - 1  # a PostgreSQL integer: a line's quantity, a variant's stock, a fault rule's times
LARGEST_AMOUNT = 2**63 - 1  # a PostgreSQL bigint: every amount


def _create_body(*quantities: int) -> dict:
    # The pre-2026 Item quantity (a documented leniency) is how one item names many units.
    items = [{"id": SOCKS, "quantity": quantity} for quantity in quantities]
    return {"currency": "usd", "line_items": items, "capabilities": AGENT_CAPABILITIES}


def _delegate_body(session_id: str, **allowance: object) -> dict:
    return {
        "payment_method": {
            "type": "card",
            "card_number_type": "network_token",
            "number": "pm_alice_visa",
            "display_card_funding_type": "credit",
            "metadata": {"vault_reference": "pm_alice_visa"},
        },
        "allowance": {
            "reason": "one_time",
            "max_amount": 100000,
            "currency": "usd",
            "checkout_session_id": session_id,
            "merchant_id": "sandbox",
            "expires_at": "2099-01-01T00:00:00Z",
            **allowance,
        },
        "risk_signals": [],
        "metadata": {},
    }


def _refused(response, param: str, *, bundle: str = "agentic_checkout", code: str = "invalid") -> None:
    assert response.status_code == 400, response.text
    error = response.json()
    assert_valid(error, "Error", bundle=bundle)
    assert (error["type"], error["code"], error["param"]) == ("invalid_request", code, param)


# -- quantities ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [2**53, LARGEST_COUNT + 1], ids=["2^53", "one-past-the-column"])
def test_a_quantity_beyond_what_a_line_holds_is_refused_on_create(sandbox_merchant, quantity):
    response = sandbox_merchant.post("/checkout_sessions", _create_body(quantity))

    _refused(response, "$.line_items[0].quantity")
    assert CheckoutSession.objects.count() == 0


def test_a_quantity_beyond_what_a_line_holds_is_refused_on_update_and_the_session_stays_as_it_was(sandbox_merchant):
    # given a session holding one pair of socks
    session = sandbox_merchant.create_session(variant_id=SOCKS)

    # when
    response = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}", {"line_items": [{"id": SOCKS, "quantity": 2**60}]}
    )

    # then
    _refused(response, "$.line_items[0].quantity")
    lines = CheckoutLine.objects.filter(session_id=session["id"])
    assert list(lines.values_list("quantity", "reserved_quantity")) == [(1, 1)]
    assert sandbox_merchant.get(f"/checkout_sessions/{session['id']}").json()["line_items"][0]["quantity"] == 1


def test_items_of_one_variant_adding_up_beyond_a_line_are_refused_at_the_item_that_crosses(sandbox_merchant):
    response = sandbox_merchant.post("/checkout_sessions", _create_body(2**30, 2**30))

    _refused(response, "$.line_items[1].quantity")
    assert CheckoutSession.objects.count() == 0


def test_the_largest_quantity_a_line_holds_is_still_answered_by_the_stock(sandbox_merchant):
    available = sandbox_merchant.available(SOCKS)

    response = sandbox_merchant.post("/checkout_sessions", _create_body(LARGEST_COUNT))

    assert response.status_code == 201, response.text
    session = response.json()
    assert_valid(session, "CheckoutSession")
    assert session["line_items"][0]["quantity"] == LARGEST_COUNT
    assert [(m["code"], m["param"]) for m in session["messages"]] == [("out_of_stock", "$.line_items[0]")]
    assert sandbox_merchant.available(SOCKS) == available


# -- amounts and moments of a payment token -----------------------------------------------------------


@pytest.mark.parametrize(
    ("allowance", "param"),
    [
        ({"max_amount": 2**70}, "$.allowance.max_amount"),
        ({"max_amount": LARGEST_AMOUNT + 1}, "$.allowance.max_amount"),
        ({"expires_at": "9999-12-31T23:59:59-01:00"}, "$.allowance.expires_at"),  # year 10000 in UTC
        ({"expires_at": "2099-13-01T00:00:00Z"}, "$.allowance.expires_at"),
        ({"expires_at": "2099-01-01T00:00:00+99:00"}, "$.allowance.expires_at"),
    ],
    ids=["2^70", "one-past-bigint", "past-year-9999", "month-13", "offset-99h"],
)
def test_delegate_payment_refuses_an_allowance_beyond_what_a_token_keeps(sandbox_merchant, allowance, param):
    session = sandbox_merchant.create_session()

    response = sandbox_merchant.post("/agentic_commerce/delegate_payment", _delegate_body(session["id"], **allowance))

    _refused(response, param, bundle="delegate_payment", code="invalid_card")
    assert VaultToken.objects.count() == 0


def test_the_largest_amount_and_the_latest_moment_a_token_keeps_are_taken_and_pay(sandbox_merchant):
    # given
    session = sandbox_merchant.ready_session()
    body = _delegate_body(session["id"], max_amount=LARGEST_AMOUNT, expires_at="9999-12-31T23:59:59Z")

    # when
    response = sandbox_merchant.post("/agentic_commerce/delegate_payment", body)

    # then the token keeps them, reads them back at complete and pays
    assert response.status_code == 201, response.text
    token = VaultToken.objects.get(id=response.json()["id"])
    assert (token.max_amount, token.expires_at.year) == (LARGEST_AMOUNT, 9999)
    assert sandbox_merchant.complete(session["id"], token.id).json()["status"] == "completed"


def test_an_impossible_since_is_a_400(sandbox_merchant):
    response = sandbox_merchant.get("/customers/cus_alice/saved_items", params={"since": "2099-13-01T00:00:00Z"})

    assert (response.status_code, response.json()["param"]) == (400, "since")


def test_an_impossible_signing_timestamp_is_a_401(sandbox_merchant, settings):
    settings.SANDBOX_MERCHANT_SIGNING_KEYS = ["sign-key"]

    response = sandbox_merchant.get("/products", headers={"Signature": "x", "Timestamp": "2099-13-01T00:00:00Z"})

    assert response.status_code == 401, response.text
    assert (response.json()["code"], response.json()["param"]) == ("invalid_signature", "Timestamp")


# -- the sandbox's own counts -------------------------------------------------------------------------


def test_a_fault_rule_beyond_what_it_keeps_is_refused(sandbox_merchant):
    times = sandbox_merchant.post("/sandbox/faults", {"kind": "server_error", "times": LARGEST_COUNT + 1})
    delay = sandbox_merchant.post("/sandbox/faults", {"kind": "slow", "delay_ms": LARGEST_COUNT + 1})

    assert (times.status_code, times.json()["param"]) == (400, "$.times")
    assert (delay.status_code, delay.json()["param"]) == (400, "$.delay_ms")
    assert FaultRule.objects.count() == 0


@pytest.mark.parametrize("header", [f"slow;times=1;delay_ms={2**40}", f"server_error;times={2**40}", "slow;times=²"])
def test_a_fault_header_beyond_what_it_keeps_is_refused(sandbox_merchant, header):
    response = sandbox_merchant.post("/checkout_sessions", _create_body(1), headers={"Sandbox-Fault": header})

    assert (response.status_code, response.json()["code"]) == (400, "invalid_fault")
    assert FaultRule.objects.count() == 0 and CheckoutSession.objects.count() == 0


def test_the_control_api_refuses_stock_beyond_what_a_variant_keeps(sandbox_merchant):
    stock = Variant.objects.get(id=SOCKS).stock

    response = sandbox_merchant.post("/sandbox/stock", {"stock": {SOCKS: LARGEST_COUNT + 1}})

    assert (response.status_code, response.json()["param"]) == (400, "stock")
    assert Variant.objects.get(id=SOCKS).stock == stock


# -- the codes of a 5xx ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "error_type"),
    [("server_error", 500, "processing_error"), ("unavailable", 503, "service_unavailable")],
)
def test_an_injected_5xx_on_delegate_payment_uses_a_code_of_its_error(sandbox_merchant, fault, status, error_type):
    session = sandbox_merchant.create_session()

    response = sandbox_merchant.post(
        "/agentic_commerce/delegate_payment", _delegate_body(session["id"]), headers={"Sandbox-Fault": fault}
    )

    assert response.status_code == status
    assert_valid(response.json(), "Error", bundle="delegate_payment")
    assert response.json()["type"] == error_type
    assert VaultToken.objects.count() == 0


def test_an_unexpected_failure_is_a_500_with_a_code_of_the_operations_error(sandbox_merchant, monkeypatch):
    # given a session, and services that fail as a bug would (the only way to reach the catch-all on purpose)
    session = sandbox_merchant.create_session()

    def broken(**kwargs: object) -> None:
        raise RuntimeError("a bug")

    for name in ("vault_token_create", "issuer_challenge_create", "checkout_session_create"):
        monkeypatch.setattr(services, name, broken)

    # when each API is called
    payment = sandbox_merchant.post("/agentic_commerce/delegate_payment", _delegate_body(session["id"]))
    authentication = sandbox_merchant.post(
        "/delegate_authentication",
        {"checkout_session_id": session["id"], "challenge_notification_url": "https://agent.example/3ds"},
    )
    checkout = sandbox_merchant.post("/checkout_sessions", _create_body(1))

    # then each answers 500 in its own Error, with a code its schema allows
    for response, bundle in (
        (payment, "delegate_payment"),
        (authentication, "delegate_authentication"),
        (checkout, "agentic_checkout"),
    ):
        assert response.status_code == 500, response.text
        assert_valid(response.json(), "Error", bundle=bundle)
        assert response.json()["type"] == "processing_error"
    assert checkout.json()["code"] == "internal_error"  # checkout's code is implementation-defined
