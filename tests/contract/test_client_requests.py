"""Every request our ACP client sends validates against the official ACP 2026-04-17 request schemas.

"The merchant" is a scripted server on a real socket answering with the spec's own example
responses; it records the bytes our client sent, and each body is validated as it went over the wire.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache

import jsonschema
import pytest
import yaml

from catalog_adapters.contract import (
    Address,
    Allowance,
    AuthenticationCard,
    Buyer,
    CheckoutRequest,
    FulfillmentDetails,
    LineItemRequest,
    Money,
    PaymentData,
    SelectedFulfillmentOption,
)
from catalog_adapters.errors import MerchantRequestInvalid, PaymentHandlerUnavailable
from tests.contract.conftest import serve_session, session_example
from tests.merchant_client.scripted import Reply
from tests.support.acp_schema import OPENAPI_DIR, assert_valid, example

pytestmark = [pytest.mark.redis]

HOME = Address(
    name="Alice Example",
    line_one="1 Market Street",
    city="San Francisco",
    state="CA",
    country="US",
    postal_code="94105",
)
ALICE = Buyer(email="alice@example.com", first_name="Alice", last_name="Example")
DETAILS = FulfillmentDetails(name="Alice Example", address=HOME, email="alice@example.com")
SESSION_ID = "checkout_session_123"


def op() -> str:
    return f"op-{uuid.uuid4().hex}"


def cart(*, option: str | None = "fulfillment_option_456", codes=("SAVE10",)) -> CheckoutRequest:
    return CheckoutRequest(
        line_items=(LineItemRequest(id="item_123", quantity=2), LineItemRequest(id="item_456", quantity=1)),
        currency="usd",
        buyer=ALICE,
        fulfillment_details=DETAILS,
        selected_fulfillment_options=(SelectedFulfillmentOption(option_id=option),) if option else None,
        discount_codes=codes,
    )


def test_create_sends_an_official_create_request_with_capabilities_and_repeated_items(scripted, merchant):
    scripted.then(Reply(201, session_example(), method="POST", path="/checkout_sessions"))
    # The example session already has fulfillment_option_123 selected: choosing it needs no update.
    merchant.checkout.create(request=cart(option="fulfillment_option_123"), operation_id=op())

    (create,) = scripted.received
    body = create.json()
    assert_valid(body, "CheckoutSessionCreateRequest")
    # Quantity 2 is the same Item twice (ACP Item has no quantity), in the cart's order.
    assert body["line_items"] == [{"id": "item_123"}, {"id": "item_123"}, {"id": "item_456"}]
    assert body["currency"] == "usd"
    assert body["capabilities"]["interventions"]["supported"] == ["3ds"]
    assert body["capabilities"]["extensions"] == ["discount"]
    assert body["discounts"] == {"codes": ["SAVE10"]}
    assert "selected_fulfillment_options" not in body  # the create schema has no such field
    assert body["buyer"] == {"email": "alice@example.com", "first_name": "Alice", "last_name": "Example"}


def test_a_chosen_fulfillment_option_follows_the_create_as_an_official_update(scripted, merchant):
    created = session_example()
    chosen = session_example(
        "create_checkout_session_response",
        selected_fulfillment_options=[
            {"type": "shipping", "option_id": "fulfillment_option_456", "item_ids": ["line_item_123"]}
        ],
    )
    scripted.then(
        Reply(201, created, method="POST", path="/checkout_sessions"),
        Reply(200, chosen, method="POST", path=f"/checkout_sessions/{SESSION_ID}"),
    )

    session = merchant.checkout.create(request=cart(), operation_id=op())

    create, update = scripted.received
    assert_valid(create.json(), "CheckoutSessionCreateRequest")
    assert_valid(update.json(), "CheckoutSessionUpdateRequest")
    # item_ids: the Item ids, as the merchant's own selection in its create answer names them (item_123)
    assert update.json() == {
        "selected_fulfillment_options": [
            {"type": "shipping", "option_id": "fulfillment_option_456", "item_ids": ["item_123"]}
        ]
    }
    assert create.headers["Idempotency-Key"] != update.headers["Idempotency-Key"]
    assert [option.option_id for option in session.selected_fulfillment_options] == ["fulfillment_option_456"]


def test_update_sends_an_official_update_request_without_currency(scripted, merchant):
    scripted.then(
        Reply(200, session_example("update_checkout_session_response"), path=f"/checkout_sessions/{SESSION_ID}"),
        Reply(200, session_example("update_checkout_session_response"), path=f"/checkout_sessions/{SESSION_ID}"),
    )

    merchant.checkout.update(session_id=SESSION_ID, request=cart(), operation_id=op())

    bodies = [received.json() for received in scripted.requests_to("POST")]
    for body in bodies:
        assert_valid(body, "CheckoutSessionUpdateRequest")
        assert "currency" not in body and "capabilities" not in body
    assert bodies[0]["line_items"] == [{"id": "item_123"}, {"id": "item_123"}, {"id": "item_456"}]
    # The example answer has option 456 selected already, so no second update is sent.
    assert len(bodies) == 1


def test_update_with_item_ids_given_sends_the_selection_in_the_same_request(scripted, merchant):
    scripted.then(Reply(200, session_example("update_checkout_session_response")))
    merchant.checkout.update(
        session_id=SESSION_ID,
        request=CheckoutRequest(
            selected_fulfillment_options=(
                SelectedFulfillmentOption(option_id="fulfillment_option_456", item_ids=("li_1",)),
            )
        ),
        operation_id=op(),
    )
    (update,) = scripted.received
    assert_valid(update.json(), "CheckoutSessionUpdateRequest")
    assert update.json()["selected_fulfillment_options"][0]["item_ids"] == ["li_1"]


def test_complete_negotiates_the_payment_handler_and_sends_official_payment_data(scripted, merchant):
    serve_session(scripted, session_example())
    scripted.then(Reply(200, session_example("complete_checkout_session_response"), method="POST"))

    session = merchant.checkout.complete(
        session_id=SESSION_ID, payment=PaymentData(token="vt_abc123", billing_address=HOME), operation_id=op()
    )

    read, complete = scripted.received
    assert (read.method, complete.path) == ("GET", f"/checkout_sessions/{SESSION_ID}/complete")
    body = complete.json()
    assert_valid(body, "CheckoutSessionCompleteRequest")
    # The example offers a seller-backed saved card first (display_order 0) we cannot pay with, and
    # dev.acp.tokenized.card as card_tokenized: that one is used.
    assert body["payment_data"]["handler_id"] == "card_tokenized"
    assert body["payment_data"]["instrument"] == {"type": "card", "credential": {"type": "spt", "token": "vt_abc123"}}
    assert body["payment_data"]["billing_address"]["postal_code"] == "94105"
    assert session.status == "completed" and session.order.id == "ord_abc123"


def test_complete_with_a_known_handler_sends_no_extra_read(scripted, merchant):
    scripted.then(Reply(200, session_example("complete_checkout_session_response"), method="POST"))
    merchant.checkout.complete(
        session_id=SESSION_ID, payment=PaymentData(token="vt_abc123", handler_id="card_tokenized"), operation_id=op()
    )
    (complete,) = scripted.received
    assert complete.method == "POST"
    assert_valid(complete.json(), "CheckoutSessionCompleteRequest")


def test_no_common_payment_handler_raises_before_anything_is_sent(scripted, merchant):
    only_seller_backed = session_example()
    handlers = only_seller_backed["capabilities"]["payment"]["handlers"]
    only_seller_backed["capabilities"]["payment"]["handlers"] = [h for h in handlers if h["id"] == "seller_pm_123"]
    serve_session(scripted, only_seller_backed)

    with pytest.raises(PaymentHandlerUnavailable) as raised:
        merchant.checkout.complete(session_id=SESSION_ID, payment=PaymentData(token="vt_abc123"), operation_id=op())

    assert raised.value.offered == ("dev.acp.seller_backed.saved_card",)
    assert raised.value.code == "payment_handler_unavailable" and not raised.value.retry_later
    assert scripted.requests_to("POST") == []  # no complete was attempted


def test_a_session_without_capabilities_offers_no_handler(scripted, merchant):
    legacy = session_example()
    del legacy["capabilities"]
    serve_session(scripted, legacy)
    with pytest.raises(PaymentHandlerUnavailable):
        merchant.checkout.complete(session_id=SESSION_ID, payment=PaymentData(token="vt_abc123"), operation_id=op())
    assert scripted.requests_to("POST") == []


def test_complete_carries_the_authentication_result_with_outcome_details(scripted, merchant):
    provider_result = example("retrieve_session_response_authenticated", file="examples.delegate_authentication.json")[
        "authentication_result"
    ]
    scripted.then(Reply(200, session_example("complete_checkout_session_response"), method="POST"))

    merchant.checkout.complete(
        session_id=SESSION_ID,
        payment=PaymentData(token="vt_abc123", handler_id="card_tokenized"),
        operation_id=op(),
        # As ordering.payment_verification maps a provider's result: outcome plus the four details.
        authentication_result={"outcome": "authenticated", "outcome_details": provider_result},
    )

    body = scripted.received[0].json()
    assert_valid(body, "CheckoutSessionCompleteRequest")
    assert body["authentication_result"] == {
        "outcome": "authenticated",
        "outcome_details": {
            "three_ds_cryptogram": provider_result["three_ds_cryptogram"],
            "electronic_commerce_indicator": "05",
            "transaction_id": provider_result["transaction_id"],
            "version": "2.2.0",
        },
    }


def test_the_spec_example_complete_with_authentication_result_is_what_we_would_send(scripted, merchant):
    wanted = example("complete_session_with_authentication_result_request")
    scripted.then(Reply(200, session_example("complete_checkout_session_response"), method="POST"))
    merchant.checkout.complete(
        session_id="checkout_session_3ds_001",
        payment=PaymentData(
            token=wanted["payment_data"]["instrument"]["credential"]["token"],
            handler_id="card_tokenized",
            billing_address=Address(**wanted["payment_data"]["billing_address"]),
        ),
        operation_id=op(),
        authentication_result=wanted["authentication_result"],
    )
    body = scripted.received[0].json()
    assert_valid(body, "CheckoutSessionCompleteRequest")
    assert body["payment_data"] == wanted["payment_data"]
    assert body["authentication_result"] == wanted["authentication_result"]


def test_an_authenticated_outcome_without_details_is_refused_before_sending(scripted, merchant):
    with pytest.raises(MerchantRequestInvalid, match="outcome_details") as raised:
        merchant.checkout.complete(
            session_id=SESSION_ID,
            payment=PaymentData(token="vt_abc123", handler_id="card_tokenized"),
            operation_id=op(),
            authentication_result={"outcome": "authenticated"},
        )
    # A client error that a retry cannot fix: the saga fails the step instead of retrying it forever.
    assert raised.value.code == "invalid_authentication_result" and not raised.value.retry_later
    assert scripted.received == []


def test_a_denied_outcome_needs_no_details(scripted, merchant):
    scripted.then(Reply(200, session_example("checkout_session_with_payment_declined"), method="POST"))
    merchant.checkout.complete(
        session_id=SESSION_ID,
        payment=PaymentData(token="vt_abc123", handler_id="card_tokenized"),
        operation_id=op(),
        authentication_result=example("authentication_result_denied_example"),
    )
    body = scripted.received[0].json()
    assert_valid(body, "CheckoutSessionCompleteRequest")
    assert body["authentication_result"]["outcome"] == "denied"


def test_cancel_sends_an_official_cancel_request(scripted, merchant):
    scripted.then(Reply(200, session_example("cancel_checkout_session_response"), method="POST"))
    merchant.checkout.cancel(session_id=SESSION_ID, operation_id=op())
    assert_valid(scripted.received[0].json(), "CancelSessionRequest")


def test_delegate_payment_sends_an_official_request(scripted, merchant):
    scripted.then(
        Reply(201, example("delegate_payment_success_response", file="examples.delegate_payment.json"), method="POST")
    )
    token = merchant.vault.delegate(
        vault_reference="pm_ref_4242",
        allowance=Allowance(
            max_amount=Money(4800, "usd"),
            checkout_session_id=SESSION_ID,
            merchant_id=merchant.id,
            expires_at=datetime.now(UTC) + timedelta(minutes=15),
        ),
        operation_id=op(),
        billing_address=HOME,
        risk_signals=[{"type": "card_testing", "score": 3, "action": "authorized"}],
        metadata={"flow_id": "f-1"},
    )
    (received,) = scripted.received
    assert received.path == "/agentic_commerce/delegate_payment"
    body = received.json()
    assert_valid(body, "DelegatePaymentRequest", bundle="delegate_payment")
    assert body["payment_method"]["number"] == "pm_ref_4242"  # the vault's reference, never a card number
    assert body["allowance"]["max_amount"] == 4800 and body["allowance"]["currency"] == "usd"
    assert token.id == "vt_01J8Z3WXYZ9ABC"


def test_delegate_authentication_create_sends_an_official_request_from_the_session_metadata(scripted, merchant):
    needs_3ds = session_example("checkout_session_authentication_required")
    serve_session(scripted, needs_3ds)
    scripted.then(
        Reply(
            201,
            example("authenticate_response_challenge_required", file="examples.delegate_authentication.json"),
            method="POST",
        )
    )

    started = merchant.checkout.authentication_create(
        session_id=needs_3ds["id"],
        notification_url="https://assistant.example/flows/f-1/payment-verification/done",
        operation_id=op(),
        card=AuthenticationCard(vault_reference="pm_ref_4242", exp_month=3, exp_year=2030, name="Alice Example"),
    )

    body = scripted.requests_to("POST")[0].json()
    assert_valid(body, "DelegateAuthenticationCreateRequest", bundle="delegate_authentication")
    assert body["amount"] == {"value": 7875, "currency": "USD"}
    assert body["payment_method"]["exp_month"] == "03" and body["payment_method"]["number"] == "pm_ref_4242"
    assert body["acquirer_details"]["acquirer_bin"] == "123456"
    assert body["flow_preference"] == {"type": "challenge", "challenge": {"type": "preferred"}}
    assert started.status == "action_required" and started.challenge_url == "https://acs.issuer.com/challenge"


def test_an_update_choosing_another_option_sends_the_selection_with_the_sessions_item_ids(scripted, merchant):
    answer = session_example("update_checkout_session_response")  # option 456 selected
    scripted.then(Reply(200, answer), Reply(200, answer))

    merchant.checkout.update(session_id=SESSION_ID, request=cart(option="fulfillment_option_123"), operation_id=op())

    first, second = scripted.requests_to("POST")
    assert_valid(first.json(), "CheckoutSessionUpdateRequest")
    assert "selected_fulfillment_options" not in first.json()
    assert_valid(second.json(), "CheckoutSessionUpdateRequest")
    assert second.json() == {
        "selected_fulfillment_options": [
            {
                "type": "shipping",
                "option_id": "fulfillment_option_123",
                # the kind of id the merchant's own selection uses (the example's: Item ids)
                "item_ids": [line["item"]["id"] for line in answer["line_items"]],
            }
        ]
    }


# -- Accept-Language -------------------------------------------------------------------------------

# RFC 5646's language tag as RFC 9110's Accept-Language takes it: a primary language, then subtags.
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
# Each official operation our client calls: its OpenAPI file and path template.
_OPERATIONS = {
    ("POST", "/checkout_sessions"): ("openapi.agentic_checkout.yaml", "/checkout_sessions"),
    ("GET", "/checkout_sessions/{id}"): ("openapi.agentic_checkout.yaml", "/checkout_sessions/{checkout_session_id}"),
    ("POST", "/checkout_sessions/{id}"): ("openapi.agentic_checkout.yaml", "/checkout_sessions/{checkout_session_id}"),
    ("POST", "/checkout_sessions/{id}/complete"): (
        "openapi.agentic_checkout.yaml",
        "/checkout_sessions/{checkout_session_id}/complete",
    ),
    ("POST", "/checkout_sessions/{id}/cancel"): (
        "openapi.agentic_checkout.yaml",
        "/checkout_sessions/{checkout_session_id}/cancel",
    ),
    ("POST", "/agentic_commerce/delegate_payment"): (
        "openapi.delegate_payment.yaml",
        "/agentic_commerce/delegate_payment",
    ),
    ("POST", "/delegate_authentication"): ("openapi.delegate_authentication.yaml", "/delegate_authentication"),
    ("GET", "/delegate_authentication/{id}"): (
        "openapi.delegate_authentication.yaml",
        "/delegate_authentication/{authentication_session_id}",
    ),
}


@cache
def _openapi(file: str) -> dict:
    return yaml.safe_load((OPENAPI_DIR / file).read_text())


def _accept_language_parameter(method: str, path: str) -> dict | None:
    """The operation's `Accept-Language` header parameter in the official OpenAPI (path or operation level)."""
    generic = re.sub(r"^(/checkout_sessions|/delegate_authentication)/[^/]+", r"\1/{id}", path)
    file, template = _OPERATIONS[(method, generic)]
    spec = _openapi(file)
    item = spec["paths"][template]
    for parameter in [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]:
        if "$ref" in parameter:
            parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        if parameter["in"] == "header" and parameter["name"] == "Accept-Language":
            return parameter
    return None


def test_every_official_operation_carries_accept_language_as_its_openapi_defines_it(scripted, merchant):
    # given the language the assistant speaks (settings.LANGUAGE_CODE, "en-us" by default), and a merchant answering
    # each official operation our client calls with the spec's own example
    needs_3ds = session_example("checkout_session_authentication_required")
    auth = "examples.delegate_authentication.json"
    started = example("authenticate_response_challenge_required", file=auth)
    scripted.then(
        Reply(201, session_example(), method="POST", path="/checkout_sessions"),
        Reply(200, session_example("update_checkout_session_response"), method="POST"),
        Reply(200, session_example(), method="GET"),
        Reply(201, example("delegate_payment_success_response", file="examples.delegate_payment.json"), method="POST"),
        Reply(200, session_example("complete_checkout_session_response"), method="POST"),
        Reply(200, session_example("cancel_checkout_session_response"), method="POST"),
        Reply(200, needs_3ds, method="GET"),
        Reply(201, started, method="POST"),
        Reply(200, example("retrieve_session_response_authenticated", file=auth), method="GET"),
    )

    # when our client makes each of them once
    merchant.checkout.create(request=cart(option="fulfillment_option_123"), operation_id=op())
    merchant.checkout.update(
        session_id=SESSION_ID, request=CheckoutRequest(discount_codes=("SAVE10",)), operation_id=op()
    )
    merchant.checkout.get(session_id=SESSION_ID)
    merchant.vault.delegate(
        vault_reference="pm_ref_4242",
        allowance=Allowance(
            max_amount=Money(4800, "usd"),
            checkout_session_id=SESSION_ID,
            merchant_id=merchant.id,
            expires_at=datetime.now(UTC) + timedelta(minutes=15),
        ),
        operation_id=op(),
    )
    merchant.checkout.complete(
        session_id=SESSION_ID, payment=PaymentData(token="vt_abc123", handler_id="card_tokenized"), operation_id=op()
    )
    merchant.checkout.cancel(session_id=SESSION_ID, operation_id=op())
    merchant.checkout.authentication_create(
        session_id=needs_3ds["id"], notification_url="https://assistant.example/done", operation_id=op()
    )
    merchant.checkout.authentication_get(authentication_session_id=started["authentication_session_id"])

    # then each request went to an operation whose OpenAPI takes Accept-Language, and carried one it accepts
    assert len(scripted.received) == 9
    for request in scripted.received:
        parameter = _accept_language_parameter(request.method, request.path)
        assert parameter is not None, f"{request.method} {request.path} takes no Accept-Language in the spec"
        sent = request.headers.get("Accept-Language")
        assert sent == "en-US", (request.method, request.path, sent)
        jsonschema.validate(sent, parameter["schema"])
        assert _LANGUAGE_TAG.match(sent)
