"""Every answer of the sandbox merchant's official ACP endpoints, and every webhook it sends, against the
official ACP 2026-04-17 JSON schemas (tests/contract/acp_spec/json-schema), over real HTTP.

The sandbox's extensions (catalog, saved items, order endpoints, faults) are exercised only where they
produce an official shape (GET /orders/{id} is an `Order`; the fault switchboard drives out-of-stock,
decline and price-change answers).
"""

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime

import pytest
import requests

from sandbox_merchant.models import CheckoutSession
from tests.support.acp_schema import assert_valid
from tests.support.sandbox import AGENT_CAPABILITIES, payment_data

pytestmark = pytest.mark.django_db(transaction=True)


def _total(session: dict) -> int:
    return next(total["amount"] for total in session["totals"] if total["type"] == "total")


def _session(response: requests.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid(body, "CheckoutSessionWithOrder" if body["status"] == "completed" else "CheckoutSession")
    return body


def _error(response: requests.Response, status: int, *, bundle: str = "agentic_checkout") -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid(body, "Error", bundle=bundle)
    return body


# -- create / update / get / cancel ------------------------------------------------------------------


def test_create_answers_an_official_session_with_the_negotiated_capabilities(sandbox_merchant):
    # when: two units of one variant as two Items, one of another, an agent that handles 3-D Secure
    body = {
        "currency": "usd",
        "line_items": [{"id": "var_blue_runner_42"}, {"id": "var_soft_flask"}, {"id": "var_blue_runner_42"}],
        "buyer": sandbox_merchant.ALICE_BUYER,
        "capabilities": {"interventions": {"supported": ["3ds", "biometric"]}, "extensions": ["discount"]},
    }
    session = _session(sandbox_merchant.post("/checkout_sessions", body), 201)

    # then: lines grouped in first-seen order, with quantity, name, unit amount and totals
    assert [(line["item"]["id"], line["quantity"]) for line in session["line_items"]] == [
        ("var_blue_runner_42", 2),
        ("var_soft_flask", 1),
    ]
    first = session["line_items"][0]
    assert first["name"] and first["unit_amount"] > 0
    line_totals = {total["type"]: total["amount"] for total in first["totals"]}
    assert line_totals["items_base_amount"] == 2 * first["unit_amount"]
    # the merchant's handler, only the interventions both support, extensions declared as objects
    capabilities = session["capabilities"]
    assert [handler["id"] for handler in capabilities["payment"]["handlers"]] == ["card_tokenized"]
    assert capabilities["payment"]["handlers"][0]["name"] == "dev.acp.tokenized.card"
    assert capabilities["interventions"]["supported"] == ["3ds"]
    assert capabilities["extensions"][0]["name"] == "discount"
    # absent objects are left out, not null
    assert "fulfillment_details" not in session and "authentication_metadata" not in session
    assert None not in session.values()
    assert session["status"] == "not_ready_for_payment"


def test_an_agent_without_3ds_gets_no_intervention(sandbox_merchant):
    session = _session(
        sandbox_merchant.post(
            "/checkout_sessions",
            {"currency": "usd", "line_items": [{"id": "var_blue_runner_42"}], "capabilities": {}},
        ),
        201,
    )
    assert session["capabilities"]["interventions"] == {"supported": []}
    assert "buyer" not in session


# rfc.payment_handlers §10.4.1, "Card Tokenization Handler Config Schema" (dev.acp.tokenized.card), verbatim.
CARD_HANDLER_CONFIG_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://acp.dev/schemas/handlers/tokenized.card/config.json",
    "title": "Card Tokenization Handler Configuration",
    "description": "Configuration schema for dev.acp.tokenized.card handler",
    "type": "object",
    "required": ["merchant_id", "psp", "accepted_brands"],
    "properties": {
        "merchant_id": {"type": "string", "maxLength": 256},
        "psp": {"type": "string", "minLength": 1},
        "accepted_brands": {
            "type": "array",
            "items": {
                "type": "string",
                "enum": ["visa", "mastercard", "amex", "discover", "diners", "jcb", "unionpay"],
            },
            "minItems": 1,
            "uniqueItems": True,
        },
        "accepted_funding_types": {
            "type": "array",
            "items": {"type": "string", "enum": ["credit", "debit", "prepaid"]},
            "uniqueItems": True,
        },
        "supports_3ds": {"type": "boolean", "default": True},
        "3ds_versions": {
            "type": "array",
            "items": {"type": "string", "enum": ["2.1", "2.2", "2.3"]},
            "default": ["2.2"],
        },
        "environment": {"type": "string", "enum": ["sandbox", "production"]},
    },
    "additionalProperties": False,
}


def test_the_card_handler_config_is_the_one_its_handler_spec_defines(sandbox_merchant):
    from jsonschema import Draft202012Validator

    from sandbox_merchant.rules import TEST_CARD_NUMBERS

    session = sandbox_merchant.create_session()
    [handler] = session["capabilities"]["payment"]["handlers"]
    assert_valid(handler, "PaymentHandler")

    # a client that checks the dev.acp.tokenized.card config against the handler's schema can use it: merchant_id,
    # psp and accepted_brands (required), nothing the schema does not have, and the schema it names is that one
    assert handler["name"] == "dev.acp.tokenized.card"
    assert handler["config_schema"] == CARD_HANDLER_CONFIG_SCHEMA["$id"]
    assert list(Draft202012Validator(CARD_HANDLER_CONFIG_SCHEMA).iter_errors(handler["config"])) == []
    assert handler["config"]["psp"] == handler["psp"]
    # the brands it advertises are the brands of the cards the sandbox's vault takes
    assert set(handler["config"]["accepted_brands"]) == {brand for brand, _ in TEST_CARD_NUMBERS.values()}


def test_a_shop_that_takes_fewer_brands_says_so_in_the_config_and_declines_the_others_at_complete(
    sandbox_merchant, settings
):
    from jsonschema import Draft202012Validator

    # given a shop that takes Visa only (SANDBOX_MERCHANT_ACCEPTED_BRANDS)
    settings.SANDBOX_MERCHANT_ACCEPTED_BRANDS = ["visa"]
    session = sandbox_merchant.ready_session()
    [handler] = session["capabilities"]["payment"]["handlers"]

    # then its handler's config names that brand only, and is still the config its schema defines
    assert handler["config"]["accepted_brands"] == ["visa"]
    assert list(Draft202012Validator(CARD_HANDLER_CONFIG_SCHEMA).iter_errors(handler["config"])) == []
    assert_valid(handler, "PaymentHandler")

    # and a token for alice's Mastercard (delegated all the same: the vault is not the shop) pays nothing
    token = sandbox_merchant.delegate(session["id"], _total(session), vault_reference="pm_alice_3ds")
    refused = _session(sandbox_merchant.complete(session["id"], token))
    assert refused["status"] == "ready_for_payment" and "order" not in refused
    assert [(m["type"], m["code"], m["param"]) for m in refused["messages"]] == [
        ("error", "payment_declined", "$.payment_data")
    ]
    assert refused["messages"][0]["content"] == (
        "This shop does not take mastercard cards (the mastercard card ending 3220). Nothing was charged."
    )


def test_a_session_says_in_which_locale_it_is_written_as_accept_language_asked(sandbox_merchant, settings):
    settings.SANDBOX_MERCHANT_LOCALES = ["en-US", "fr-FR"]
    asked = {"Accept-Language": "fr-CA, fr;q=0.9, en;q=0.5"}

    body = {"currency": "usd", "line_items": [{"id": "var_blue_runner_42"}], "capabilities": AGENT_CAPABILITIES}
    created = sandbox_merchant.post("/checkout_sessions", body, headers=asked)
    read = sandbox_merchant.get(f"/checkout_sessions/{created.json()['id']}")

    # the spec's CheckoutSession `locale` (optional, a string): the supported locale asked for most, else the first
    assert (_session(created, 201)["locale"], created.headers["Content-Language"]) == ("fr-FR", "fr-FR")
    assert (_session(read)["locale"], read.headers["Content-Language"]) == ("en-US", "en-US")


def test_unknown_capability_values_of_a_newer_agent_are_ignored_not_refused(sandbox_merchant):
    # rfc.capability_negotiation §4.6.2: implementations MUST ignore unknown capability values. An agent of a later
    # version declares an intervention and a display context this version's enums do not have.
    capabilities = {
        "interventions": {
            "supported": ["passkey", "3ds"],
            "display_context": "hologram",
            "redirect_context": "teleport",
        },
        "extensions": ["discount", "some_future_extension"],
    }
    body = {"currency": "usd", "line_items": [{"id": "var_blue_runner_42"}], "capabilities": capabilities}

    session = _session(sandbox_merchant.post("/checkout_sessions", body), 201)

    # the known value is negotiated as usual, the unknown ones are simply not in the intersection
    assert session["capabilities"]["interventions"] == {"supported": ["3ds"]}
    assert [extension["name"] for extension in session["capabilities"]["extensions"]] == ["discount"]
    # a known field with a value of the wrong type is still refused, naming it
    wrong = {**body, "capabilities": {"interventions": {"supported": ["3ds", 7]}}}
    refused = _error(sandbox_merchant.post("/checkout_sessions", wrong), 400)
    assert refused["param"] == "$.capabilities.interventions.supported[1]"


def test_update_get_and_cancel_answer_official_sessions(sandbox_merchant):
    session = sandbox_merchant.create_session()

    updated = _session(
        sandbox_merchant.post(
            f"/checkout_sessions/{session['id']}",
            {
                "fulfillment_details": sandbox_merchant.ALICE_HOME,
                "selected_fulfillment_options": [
                    {"type": "shipping", "option_id": "ship_express", "item_ids": [session["line_items"][0]["id"]]}
                ],
            },
        )
    )
    fetched = _session(sandbox_merchant.get(f"/checkout_sessions/{session['id']}"))
    canceled = _session(sandbox_merchant.post(f"/checkout_sessions/{session['id']}/cancel", {}))

    assert updated["status"] == "ready_for_payment"
    assert updated["selected_fulfillment_options"][0]["option_id"] == "ship_express"
    assert {total["type"] for total in updated["totals"]} >= {"subtotal", "fulfillment", "tax", "total"}
    assert fetched["totals"] == updated["totals"]
    assert canceled["status"] == "canceled"


def test_discounts_applied_and_rejected_with_the_spec_codes(sandbox_merchant):
    session = sandbox_merchant.create_session(discounts={"codes": ["ALICE10", "NOPE", "ALICE10"]})

    assert_valid(session, "CheckoutSession")
    applied = session["discounts"]["applied"]
    assert [(item["code"], item["coupon"]["percent_off"]) for item in applied] == [("ALICE10", 10)]
    assert applied[0]["amount"] == sum(allocation["amount"] for allocation in applied[0]["allocations"]) > 0
    assert [(item["code"], item["reason"]) for item in session["discounts"]["rejected"]] == [
        ("NOPE", "discount_code_invalid"),
        ("ALICE10", "discount_code_already_applied"),
    ]
    warnings = [(m["type"], m["code"], m["param"]) for m in session["messages"]]
    assert warnings == [
        ("warning", "discount_code_invalid", "$.discounts.codes[1]"),
        ("warning", "discount_code_already_applied", "$.discounts.codes[2]"),
    ]


def test_out_of_stock_is_an_error_message_with_a_resolution(sandbox_merchant):
    sandbox_merchant.set_stock("var_blue_runner_44", 1)

    session = sandbox_merchant.ready_session(variant_id="var_blue_runner_44", quantity=2)

    assert_valid(session, "CheckoutSession")
    assert session["status"] == "not_ready_for_payment"
    [problem] = session["messages"]
    assert (problem["type"], problem["code"], problem["param"]) == ("error", "out_of_stock", "$.line_items[0]")
    assert problem["resolution"] == "requires_buyer_input"


# -- complete -----------------------------------------------------------------------------------------


def test_complete_answers_a_session_with_its_order_and_the_order_is_official(sandbox_merchant):
    session = sandbox_merchant.ready_session(quantity=2)
    token = sandbox_merchant.delegate(session["id"], _total(session))

    completed = _session(sandbox_merchant.complete(session["id"], token))
    order = sandbox_merchant.get(f"/orders/{completed['order']['id']}")

    assert completed["status"] == "completed"
    assert completed["order"]["checkout_session_id"] == session["id"]
    assert order.status_code == 200
    assert_valid(order.json(), "Order")
    assert order.json()["line_items"][0]["quantity"] == {"ordered": 2, "current": 2, "fulfilled": 0}


def test_a_declined_card_is_a_payment_declined_message(sandbox_merchant):
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session), vault_reference="pm_alice_decline")

    declined = _session(sandbox_merchant.complete(session["id"], token))

    assert declined["status"] == "ready_for_payment"
    assert [(m["type"], m["code"]) for m in declined["messages"]] == [("error", "payment_declined")]


def test_a_price_change_is_a_price_change_warning_with_the_new_prices(sandbox_merchant):
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session) * 2)

    changed = _session(sandbox_merchant.complete(session["id"], token, headers={"Sandbox-Fault": "price_change"}))

    assert changed["status"] == "ready_for_payment"
    assert [(m["type"], m["code"], m["resolution"]) for m in changed["messages"]] == [
        ("warning", "price_change", "requires_buyer_review")
    ]
    assert changed["line_items"][0]["unit_amount"] > session["line_items"][0]["unit_amount"]
    assert _total(changed) > _total(session)


def test_3ds_complete_answers_requires_3ds_then_completes_with_the_issuers_result(sandbox_merchant):
    # given a card whose issuer asks for a challenge
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session), vault_reference="pm_alice_3ds")

    # when completing without an authentication_result: a flat 400, and the session asks for authentication
    refused = _error(sandbox_merchant.complete(session["id"], token), 400)
    waiting = _session(sandbox_merchant.get(f"/checkout_sessions/{session['id']}"))

    assert (refused["type"], refused["code"], refused["param"]) == (
        "invalid_request",
        "requires_3ds",
        "$.authentication_result",
    )
    assert waiting["status"] == "authentication_required"
    assert waiting["authentication_metadata"]["directory_server"] == "mastercard"

    # the customer answers the issuer's challenge (delegate_authentication + the issuer's page)
    created = sandbox_merchant.post(
        "/delegate_authentication",
        {"checkout_session_id": session["id"], "challenge_notification_url": "https://agent.example/3ds"},
    )
    assert created.status_code == 201, created.text
    assert_valid(created.json(), "DelegateAuthenticationSession", bundle="delegate_authentication")
    authentication_id = created.json()["authentication_session_id"]
    fingerprinted = sandbox_merchant.post(
        f"/delegate_authentication/{authentication_id}/authenticate", {"fingerprint_completion": "Y"}
    )
    assert fingerprinted.status_code == 200, fingerprinted.text
    assert_valid(fingerprinted.json(), "DelegateAuthenticationSession", bundle="delegate_authentication")
    assert fingerprinted.json()["status"] == "action_required"
    acs_url = created.json()["action"]["challenge"]["acs_url"]
    browser = requests.Session()
    page = browser.get(acs_url, timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    form = {"code": "123456", **({"csrfmiddlewaretoken": csrf.group(1)} if csrf else {})}
    answered = browser.post(acs_url, data=form, headers={"Referer": acs_url}, allow_redirects=False, timeout=30)
    assert answered.status_code in (302, 303), answered.text[:300]
    result = sandbox_merchant.get(f"/delegate_authentication/{created.json()['authentication_session_id']}").json()
    assert result["status"] == "authenticated"
    # (WithResult cannot validate as published, see the wire doc's inconsistencies: checked in two parts)
    assert_valid(result["authentication_result"], "AuthenticationResult", bundle="delegate_authentication")
    without_result = {key: value for key, value in result.items() if key != "authentication_result"}
    assert_valid(without_result, "DelegateAuthenticationSession", bundle="delegate_authentication")
    details = {
        name: result["authentication_result"][name]
        for name in ("three_ds_cryptogram", "electronic_commerce_indicator", "transaction_id", "version")
    }
    authentication_result = {"outcome": "authenticated", "outcome_details": details}
    assert_valid(authentication_result, "AuthenticationResult")

    # then completing with it places the order
    completed = _session(sandbox_merchant.complete(session["id"], token, authentication_result=authentication_result))
    assert completed["status"] == "completed"


def test_a_denied_authentication_is_a_payment_declined_message(sandbox_merchant):
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session), vault_reference="pm_alice_3ds")
    _error(sandbox_merchant.complete(session["id"], token), 400)

    denied = _session(sandbox_merchant.complete(session["id"], token, authentication_result={"outcome": "denied"}))

    assert denied["status"] == "authentication_required"
    assert [(m["code"], m["param"]) for m in denied["messages"]] == [("payment_declined", "$.authentication_result")]


# -- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/checkout_sessions", {"currency": "usd", "line_items": []}, "$.line_items"),
        ("/checkout_sessions", {"currency": "usd", "line_items": [{"id": 7}]}, "$.line_items[0].id"),
        ("/checkout_sessions", {"currency": "usd", "line_items": [{"id": "var_nope"}]}, "$.line_items[0].id"),
        (
            "/checkout_sessions",
            {"currency": "usd", "line_items": [{"id": "var_blue_runner_42"}], "shipping": {}},
            "$.shipping",
        ),
        (
            "/checkout_sessions",
            {"line_items": [{"id": "var_blue_runner_42"}], "buyer": {"first_name": "No email"}},
            "$.buyer.email",
        ),
    ],
)
def test_malformed_requests_get_a_flat_error_naming_the_field(sandbox_merchant, path, body, param):
    error = _error(sandbox_merchant.post(path, body), 400)
    assert (error["type"], error["param"]) == ("invalid_request", param)


def test_the_old_payment_data_is_refused_naming_handler_id(sandbox_merchant):
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session))

    old = _error(
        sandbox_merchant.post(
            f"/checkout_sessions/{session['id']}/complete", {"payment_data": {"token": token, "provider": "sandbox"}}
        ),
        400,
    )
    unknown_handler = _error(
        sandbox_merchant.post(
            f"/checkout_sessions/{session['id']}/complete", {"payment_data": {**payment_data(token), "handler_id": "x"}}
        ),
        400,
    )

    # (found by schemathesis: a purchase order number satisfies the schema's anyOf without an instrument)
    no_instrument = _error(
        sandbox_merchant.post(
            f"/checkout_sessions/{session['id']}/complete",
            {"payment_data": {"handler_id": "card_tokenized", "purchase_order_number": "PO-1"}},
        ),
        400,
    )

    assert old["param"] == unknown_handler["param"] == "$.payment_data.handler_id"
    assert no_instrument["param"] == "$.payment_data.instrument"


def test_protocol_errors_are_flat_errors(sandbox_merchant):
    missing = _error(sandbox_merchant.get("/checkout_sessions/cs_nope"), 404)
    version = _error(sandbox_merchant.get("/checkout_sessions/cs_nope", headers={"API-Version": "1999-01-01"}), 400)
    session = sandbox_merchant.create_session()
    sandbox_merchant.post(f"/checkout_sessions/{session['id']}/cancel", {})
    not_cancelable = _error(sandbox_merchant.post(f"/checkout_sessions/{session['id']}/cancel", {}), 405)
    no_key = _error(
        requests.post(
            f"{sandbox_merchant.base_url}/checkout_sessions", json={}, headers=sandbox_merchant.headers(), timeout=30
        ),
        400,
    )

    assert missing["code"] == "not_found"
    assert version["code"] == "unsupported_api_version" and "2026-04-17" in version["supported_versions"]
    assert not_cancelable["code"] == "invalid_state"
    assert no_key["code"] == "idempotency_key_required"


# -- delegate_payment ---------------------------------------------------------------------------------


def test_delegate_payment_answers_the_official_response_and_errors(sandbox_merchant):
    session = sandbox_merchant.create_session()
    body = {
        "payment_method": {"type": "card", "vault_reference": "pm_alice_visa"},
        "allowance": {
            "reason": "one_time",
            "max_amount": 10000,
            "currency": "usd",
            "checkout_session_id": session["id"],
            "merchant_id": sandbox_merchant.merchant_id,
            "expires_at": "2099-01-01T00:00:00Z",
        },
        "risk_signals": [],
        "metadata": {"source": "contract-test"},
    }

    minted = sandbox_merchant.post("/agentic_commerce/delegate_payment", body)
    refused = sandbox_merchant.post("/agentic_commerce/delegate_payment", {**body, "allowance": {"reason": "x"}})

    assert minted.status_code == 201, minted.text
    assert_valid(minted.json(), "DelegatePaymentResponse", bundle="delegate_payment")
    assert minted.json()["metadata"] == {"source": "contract-test"}
    error = _error(refused, 400, bundle="delegate_payment")
    assert (error["code"], error["param"]) == ("invalid_card", "$.allowance.reason")


# -- webhooks -----------------------------------------------------------------------------------------


def _verified_event(captured, secret: str) -> dict:
    fields = dict(part.split("=", 1) for part in captured.headers["Merchant-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + captured.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    event = json.loads(captured.body)
    assert_valid(event, "WebhookEvent")
    return event


def test_order_webhooks_are_official_events_with_adjustments(sandbox_merchant, capturing_http_server, settings):
    # given an order, partly refunded and then canceled by the merchant
    settings.SANDBOX_MERCHANT_WEBHOOK_URL = f"{capturing_http_server.url}/webhooks/merchants/sandbox/"
    settings.SANDBOX_MERCHANT_WEBHOOK_SECRET = "whsec-contract"
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session))
    order_id = _session(sandbox_merchant.complete(session["id"], token))["order"]["id"]
    refunded = sandbox_merchant.post(f"/orders/{order_id}/refund", {"amount": 500, "reason": "damaged box"})
    canceled = sandbox_merchant.post(f"/orders/{order_id}/cancel", {})
    assert refunded.status_code == canceled.status_code == 200
    assert_valid(canceled.json(), "Order")

    # when the events are sent
    assert sandbox_merchant.deliver_pending_webhooks() == 3
    create, refund, cancel = (_verified_event(c, "whsec-contract") for c in capturing_http_server.wait_for(3))

    # then each is {type, data: Order}, the money back as completed adjustments with ids
    assert (create["type"], create["data"]["status"], create["data"]["adjustments"]) == (
        "order_create",
        "confirmed",
        [],
    )
    assert refund["type"] == "order_update"
    [partial] = refund["data"]["adjustments"]
    assert (partial["type"], partial["status"], partial["amount"], partial["currency"], partial["reason"]) == (
        "refund",
        "completed",
        500,
        "usd",
        "damaged box",
    )
    assert cancel["data"]["status"] == "canceled"
    assert [(a["type"], a["amount"]) for a in cancel["data"]["adjustments"]] == [
        ("refund", 500),
        ("cancellation", _total(session) - 500),
    ]
    assert len({a["id"] for a in cancel["data"]["adjustments"]}) == 2
    refunded_total = next(t["amount"] for t in cancel["data"]["totals"] if t["type"] == "amount_refunded")
    assert refunded_total == _total(session)
    assert all(line["quantity"]["current"] == 0 for line in cancel["data"]["line_items"])


def test_merchant_side_refund_service_emits_an_order_event(sandbox_merchant):
    from sandbox_merchant.models import WebhookDelivery
    from sandbox_merchant.services import order_refund

    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session))
    order_id = _session(sandbox_merchant.complete(session["id"], token))["order"]["id"]

    order_refund(order_id=order_id, amount=None, reason="goodwill")

    event = WebhookDelivery.objects.filter(order_id=order_id, event_type="order_update").get().payload
    assert_valid(event, "WebhookEvent")
    assert event["data"]["status"] == "confirmed"
    assert [(adjustment["type"], adjustment["reason"]) for adjustment in event["data"]["adjustments"]] == [
        ("refund", "goodwill")
    ]
    refunded = next(total["amount"] for total in event["data"]["totals"] if total["type"] == "amount_refunded")
    assert refunded == _total(session)


# -- request signing ----------------------------------------------------------------------------------


def test_signed_requests_are_verified_when_signing_keys_are_set(sandbox_merchant, settings):
    settings.SANDBOX_MERCHANT_SIGNING_KEYS = ["sign-key-old", "sign-key-new"]
    body = {"currency": "usd", "line_items": [{"id": "var_blue_runner_42"}], "capabilities": AGENT_CAPABILITIES}
    raw = json.dumps(body).encode()
    timestamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    digest = hmac.new(b"sign-key-new", f"{timestamp}.".encode() + raw, hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def send(headers):
        return requests.post(
            f"{sandbox_merchant.base_url}/checkout_sessions",
            data=raw,
            headers=sandbox_merchant.headers(
                **{"Content-Type": "application/json", "Idempotency-Key": f"k-{len(headers)}-{signature[:8]}"},
                **headers,
            ),
            timeout=30,
        )

    signed = send({"Signature": signature, "Timestamp": timestamp})
    unsigned = send({})
    wrong = send({"Signature": signature[::-1], "Timestamp": timestamp})
    stale_time = "2020-01-01T00:00:00Z"
    stale_digest = hmac.new(b"sign-key-old", f"{stale_time}.".encode() + raw, hashlib.sha256).hexdigest()
    stale = send({"Signature": stale_digest, "Timestamp": stale_time, "X": "stale"})

    assert signed.status_code == 201, signed.text
    assert_valid(signed.json(), "CheckoutSession")
    for response in (unsigned, wrong):
        assert _error(response, 401)["code"] == "invalid_signature"
    assert (_error(stale, 401)["param"]) == "Timestamp"  # hex and the older key verify; the time does not
    assert CheckoutSession.objects.count() == 1
    # a GET signs the empty body
    get_digest = hmac.new(b"sign-key-new", f"{timestamp}.".encode(), hashlib.sha256).digest()
    fetched = sandbox_merchant.get(
        f"/checkout_sessions/{signed.json()['id']}",
        headers={"Signature": base64.urlsafe_b64encode(get_digest).decode(), "Timestamp": timestamp},
    )
    assert fetched.status_code == 200, fetched.text


def test_our_receiver_accepts_the_sandbox_events_and_reads_their_adjustments(sandbox_merchant, live_server, settings):
    # given the sandbox's events go to our own webhook receiver (catalog_adapters), over HTTP
    from catalog_adapters.models import MerchantWebhookEvent
    from catalog_adapters.selectors import webhook_event_order

    settings.SANDBOX_MERCHANT_WEBHOOK_URL = f"{live_server.url}/webhooks/merchants/sandbox/"
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session))
    order_id = _session(sandbox_merchant.complete(session["id"], token))["order"]["id"]
    assert sandbox_merchant.post(f"/orders/{order_id}/refund", {"amount": 300}).status_code == 200

    # when they are sent
    assert sandbox_merchant.deliver_pending_webhooks() == 2

    # then both were accepted (2xx: nothing left pending) and the receiver's parser reads the refund
    from sandbox_merchant.models import WebhookDelivery

    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    update = MerchantWebhookEvent.objects.get(merchant_id="sandbox", order_id=order_id, event_type="order_update")
    order = webhook_event_order(event=update, currency="usd", order_id=order_id)
    [refund] = order.adjustments
    assert (refund.type, refund.amount.amount, refund.status) == ("refund", 300, "completed")
    assert refund.id.startswith("adj_")


def test_the_sandbox_checks_requests_with_the_same_schema_the_tests_use():
    from sandbox_merchant.acp import SPEC_DIR
    from tests.support.acp_schema import SCHEMA_DIR

    name = "schema.agentic_checkout.json"
    assert (SPEC_DIR / name).read_bytes() == (SCHEMA_DIR / name).read_bytes()
