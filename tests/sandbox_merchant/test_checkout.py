"""The ACP checkout endpoints of the sandbox merchant, over a real socket."""

import json

import pytest

from sandbox_merchant.models import CheckoutSession, Order, Variant, VaultToken
from tests.support.sandbox import payment_data

pytestmark = pytest.mark.django_db(transaction=True)


def _line_total(line: dict, kind: str) -> int:
    return next(total["amount"] for total in line["totals"] if total["type"] == kind)


def _total(session: dict, kind: str = "total") -> int:
    return next(item["amount"] for item in session["totals"] if item["type"] == kind)


def test_create_returns_the_full_session_and_reserves_stock(sandbox_merchant):
    # given
    before = sandbox_merchant.available("var_blue_runner_42")

    # when
    session = sandbox_merchant.create_session(quantity=2)

    # then
    assert session["id"].startswith("cs_")
    assert session["status"] == "not_ready_for_payment"
    line = session["line_items"][0]
    assert (line["item"]["id"], line["quantity"], line["unit_amount"]) == ("var_blue_runner_42", 2, 7200)
    assert line["variant_options"] == [{"name": "Colour", "value": "blue"}, {"name": "Size", "value": "42"}]
    line_totals = {total["type"]: total["amount"] for total in line["totals"]}
    assert (line_totals["items_base_amount"], line_totals["items_discount"], line_totals["subtotal"]) == (
        14400,
        0,
        14400,
    )
    assert (line_totals["tax"], line_totals["total"]) == (0, 14400)
    assert [total["type"] for total in session["totals"]] == [
        "items_base_amount",
        "items_discount",
        "subtotal",
        "fulfillment",
        "tax",
        "total",
    ]
    assert {option["id"] for option in session["fulfillment_options"]} == {"ship_standard", "ship_express"}
    for key in ("buyer", "messages", "links", "expires_at", "continue_url", "discounts", "currency", "capabilities"):
        assert key in session
    assert "fulfillment_details" not in session  # absent, not null
    assert sandbox_merchant.available("var_blue_runner_42") == before - 2


def test_update_with_address_and_shipping_makes_it_ready_and_prices_tax_and_free_shipping(sandbox_merchant):
    session = sandbox_merchant.create_session()

    response = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}",
        {
            "fulfillment_details": sandbox_merchant.ALICE_HOME,
            "selected_fulfillment_options": [{"type": "shipping", "option_id": "ship_standard", "item_ids": []}],
        },
    )

    assert response.status_code == 200
    updated = response.json()
    assert updated["status"] == "ready_for_payment"
    # 72.00 is over the 50.00 free-shipping threshold; California tax is 7.25 %.
    assert _total(updated, "fulfillment") == 0
    assert _total(updated, "tax") == 522
    assert _total(updated) == 7200 + 522
    assert updated["selected_fulfillment_options"][0]["option_id"] == "ship_standard"


def test_express_shipping_always_costs_and_a_cheap_cart_pays_standard_shipping(sandbox_merchant):
    express = sandbox_merchant.ready_session(
        selected_fulfillment_options=[{"type": "shipping", "option_id": "ship_express"}]
    )
    cheap = sandbox_merchant.ready_session(variant_id="var_soft_flask")

    assert _total(express, "fulfillment") == 1499
    assert _total(cheap, "fulfillment") == 599
    assert _total(cheap) == 1600 + 599 + 116


def test_alice_gets_her_personal_promo_and_bob_cannot_use_it(sandbox_merchant):
    alice = sandbox_merchant.ready_session(discounts={"codes": ["alice10"]})
    bob = sandbox_merchant.ready_session(
        discounts={"codes": ["ALICE10"]}, buyer={"email": "bob@example.com", "first_name": "Bob"}
    )

    [applied] = alice["discounts"]["applied"]
    assert (applied["code"], applied["amount"], applied["coupon"]["name"]) == (
        "ALICE10",
        720,
        "Alice's personal 10% off",
    )
    assert applied["allocations"] == [{"path": "$.line_items[0]", "amount": 720}]
    assert _total(alice, "subtotal") == 6480
    # the demo's sentence: 64.80 after the promo, 4.70 California tax, free standard shipping
    assert (_total(alice, "tax"), _total(alice, "fulfillment"), _total(alice)) == (470, 0, 6950)
    assert alice["messages"] == []
    assert bob["discounts"]["applied"] == []
    assert [(m["type"], m["code"], m["param"]) for m in bob["messages"]] == [
        ("warning", "discount_code_invalid", "$.discounts.codes[0]")
    ]
    assert bob["discounts"]["rejected"] == [
        {"code": "ALICE10", "reason": "discount_code_invalid", "message": "This code does not exist."}
    ]
    assert bob["status"] == "ready_for_payment"


def test_promotion_rules_minimum_spend_category_scope_and_expiry(sandbox_merchant):
    # SAVE10 needs 50.00: a 16.00 flask does not qualify, the 72.00 shoes do.
    small = sandbox_merchant.ready_session(variant_id="var_soft_flask", discounts={"codes": ["SAVE10"]})
    big = sandbox_merchant.ready_session(discounts={"codes": ["SAVE10"]})
    # RUN15 is for running shoes only.
    mixed = sandbox_merchant.ready_session(
        line_items=[{"id": "var_blue_runner_42"}, {"id": "var_soft_flask"}],
        discounts={"codes": ["RUN15"]},
    )
    expired = sandbox_merchant.ready_session(discounts={"codes": ["SUMMER5"]})
    unknown = sandbox_merchant.ready_session(discounts={"codes": ["NOPE"]})

    assert [m["code"] for m in small["messages"]] == ["discount_code_minimum_not_met"]
    assert big["discounts"]["applied"][0]["amount"] == 1000
    assert [_line_total(line, "items_discount") for line in mixed["line_items"]] == [1080, 0]
    assert [m["code"] for m in expired["messages"]] == ["discount_code_expired"]
    assert [m["code"] for m in unknown["messages"]] == ["discount_code_invalid"]
    assert [r["reason"] for r in expired["discounts"]["rejected"]] == ["discount_code_expired"]


def test_get_returns_the_same_state_and_404_for_an_unknown_session(sandbox_merchant):
    session = sandbox_merchant.ready_session()

    fetched = sandbox_merchant.get(f"/checkout_sessions/{session['id']}")
    missing = sandbox_merchant.get("/checkout_sessions/cs_nope")

    assert fetched.status_code == 200
    assert fetched.json()["totals"] == session["totals"]
    assert fetched.json()["status"] == "ready_for_payment"
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_complete_charges_the_token_sells_the_stock_and_creates_the_order(sandbox_merchant):
    # given
    session = sandbox_merchant.ready_session(discounts={"codes": ["ALICE10"]})
    stock_before = Variant.objects.get(id="var_blue_runner_42").stock
    token = sandbox_merchant.delegate(session["id"], _total(session))

    # when
    response = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}/complete",
        {
            "payment_data": {
                "handler_id": "card_tokenized",
                "instrument": {"type": "card", "credential": {"type": "spt", "token": token}},
            }
        },
    )

    # then
    assert response.status_code == 200
    completed = response.json()
    assert completed["status"] == "completed"
    order = completed["order"]
    assert order["id"].startswith("ord_") and order["checkout_session_id"] == session["id"]
    assert order["status"] == "confirmed"
    assert Order.objects.get(id=order["id"]).total_amount == _total(session)
    assert Variant.objects.get(id="var_blue_runner_42").stock == stock_before - 1
    assert VaultToken.objects.get(id=token).used_at is not None
    fetched = sandbox_merchant.get(f"/checkout_sessions/{session['id']}").json()
    assert fetched["order"]["id"] == order["id"]


def test_complete_refuses_the_older_payment_data_form_and_charges_nothing(sandbox_merchant):
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], _total(session))

    response = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}/complete", {"payment_data": {"token": token, "provider": "sandbox"}}
    )

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["param"]) == ("missing", "$.payment_data.handler_id")
    assert VaultToken.objects.get(id=token).used_at is None
    assert sandbox_merchant.complete(session["id"], token).json()["status"] == "completed"


def test_complete_of_a_session_not_ready_charges_nothing(sandbox_merchant):
    session = sandbox_merchant.create_session()
    token = sandbox_merchant.delegate(session["id"], 100000)

    response = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}/complete", {"payment_data": payment_data(token)}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "not_ready_for_payment"
    assert "order" not in response.json()
    assert VaultToken.objects.get(id=token).used_at is None


def test_cancel_releases_stock_and_a_second_cancel_or_a_cancel_after_complete_is_405(sandbox_merchant):
    # given
    before = sandbox_merchant.available("var_blue_runner_42")
    session = sandbox_merchant.create_session(quantity=3)
    assert sandbox_merchant.available("var_blue_runner_42") == before - 3

    # when
    canceled = sandbox_merchant.post(f"/checkout_sessions/{session['id']}/cancel")

    # then
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    assert sandbox_merchant.available("var_blue_runner_42") == before
    again = sandbox_merchant.post(f"/checkout_sessions/{session['id']}/cancel")
    assert again.status_code == 405
    assert again.json()["type"] == "invalid_request"
    update = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}", {"line_items": [{"id": "var_blue_runner_42", "quantity": 1}]}
    )
    assert update.status_code == 405

    completed = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(completed["id"], _total(completed))
    sandbox_merchant.post(f"/checkout_sessions/{completed['id']}/complete", {"payment_data": payment_data(token)})
    assert sandbox_merchant.post(f"/checkout_sessions/{completed['id']}/cancel").status_code == 405


def test_update_replaces_lines_and_moves_the_reservation(sandbox_merchant):
    session = sandbox_merchant.create_session(quantity=2)
    before_43 = sandbox_merchant.available("var_blue_runner_43")
    before_42 = sandbox_merchant.available("var_blue_runner_42")

    sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}", {"line_items": [{"id": "var_blue_runner_43", "quantity": 1}]}
    )

    assert sandbox_merchant.available("var_blue_runner_42") == before_42 + 2
    assert sandbox_merchant.available("var_blue_runner_43") == before_43 - 1


def test_lines_beyond_stock_get_out_of_stock_and_no_reservation(sandbox_merchant):
    sandbox_merchant.set_stock("var_blue_runner_44", 2)

    session = sandbox_merchant.ready_session(variant_id="var_blue_runner_44", quantity=3)

    assert session["status"] == "not_ready_for_payment"
    assert [(m["type"], m["code"], m["param"]) for m in session["messages"]] == [
        ("error", "out_of_stock", "$.line_items[0]")
    ]
    assert sandbox_merchant.available("var_blue_runner_44") == 2


def test_bad_requests_are_flat_protocol_errors_with_a_param(sandbox_merchant):
    unknown_variant = sandbox_merchant.post("/checkout_sessions", {"line_items": [{"id": "var_nope", "quantity": 1}]})
    no_lines = sandbox_merchant.post("/checkout_sessions", {"currency": "usd"})
    bad_quantity = sandbox_merchant.post(
        "/checkout_sessions", {"line_items": [{"id": "var_blue_runner_42", "quantity": 0}]}
    )

    assert unknown_variant.status_code == 400
    assert unknown_variant.json() == {
        "type": "invalid_request",
        "code": "not_found",
        "message": "No variant var_nope.",
        "param": "$.line_items[0].id",
    }
    assert no_lines.status_code == 400 and no_lines.json()["param"] == "$.line_items"
    assert bad_quantity.status_code == 400 and bad_quantity.json()["param"] == "$.line_items[0].quantity"
    bad_email = sandbox_merchant.post(
        "/checkout_sessions", {"line_items": [{"id": "var_blue_runner_42", "quantity": 1}], "buyer": {"email": 42}}
    )
    assert bad_email.status_code == 400 and bad_email.json()["param"] == "$.buyer.email"
    assert CheckoutSession.objects.count() == 0


def test_an_amount_off_is_spread_over_lines_and_codes_stack_in_order(sandbox_merchant):
    # given two lines (72.00 shoes, 16.00 flask) and alice's 10 % then 10.00 off
    session = sandbox_merchant.ready_session(
        line_items=[{"id": "var_blue_runner_42"}, {"id": "var_soft_flask"}],
        discounts={"codes": ["ALICE10", "SAVE10"]},
    )

    # then 10 % of 88.00 = 8.80, and 10.00 more spread by what each line had left
    applied = {item["code"]: item["amount"] for item in session["discounts"]["applied"]}
    assert applied == {"ALICE10": 880, "SAVE10": 1000}
    assert [_line_total(line, "items_discount") for line in session["line_items"]] == [720 + 818, 160 + 182]
    assert _total(session, "items_discount") == 1880
    assert "discount" not in [total["type"] for total in session["totals"]]  # allocated to lines: counted once
    assert _total(session, "subtotal") == 8800 - 1880


def test_a_code_allocated_to_a_line_is_an_items_discount_counted_once_in_session_order_and_webhook(
    sandbox_merchant, capturing_http_server, settings
):
    """rfc.discount_extension §8.1: a discount allocated to line items is `items_discount`; `discount` is for
    order-level discounts. §8.2: items_discount equals the sum of the lines' discounts."""
    from tests.support.acp_schema import EXAMPLES_DIR, assert_valid

    settings.SANDBOX_MERCHANT_WEBHOOK_URL = capturing_http_server.url
    # given alice's 10 % code on the 72.00 shoes
    session = sandbox_merchant.ready_session(discounts={"codes": ["ALICE10"]})

    # then the session counts the 7.20 once, allocated to its line, and the total follows from the other totals
    assert_valid(session, "CheckoutSession")
    [applied] = session["discounts"]["applied"]
    assert [allocation["path"] for allocation in applied["allocations"]] == ["$.line_items[0]"]
    totals = {total["type"]: total["amount"] for total in session["totals"]}
    assert "discount" not in totals
    assert totals["items_discount"] == applied["amount"] == 720
    assert totals["items_discount"] == sum(_line_total(line, "items_discount") for line in session["line_items"])
    assert totals["subtotal"] == totals["items_base_amount"] - totals["items_discount"] == 6480
    assert totals["total"] == totals["subtotal"] + totals["fulfillment"] + totals["tax"]
    # the same kinds of totals as the spec's own example of a discount allocated to lines
    example = json.loads(
        (EXAMPLES_DIR / "discount-extension" / "percentage-discount-with-allocations.json").read_text()
    )["response"]
    assert {total["type"] for total in example["totals"]} <= set(totals) | {"tax"}
    assert_valid(session["discounts"], "DiscountsResponse")

    # when it is paid, the order and its order_create webhook carry the same totals
    token = sandbox_merchant.delegate(session["id"], totals["total"])
    completed = sandbox_merchant.complete(session["id"], token).json()
    order = sandbox_merchant.get(f"/orders/{completed['order']['id']}").json()
    sandbox_merchant.deliver_pending_webhooks()
    [delivered] = capturing_http_server.wait_for(1)
    event = json.loads(delivered.body)

    assert_valid(order, "Order")
    assert_valid(event, "WebhookEvent")
    for answered in (order["totals"], event["data"]["totals"]):
        kinds = {total["type"]: total["amount"] for total in answered}
        assert "discount" not in kinds and kinds["items_discount"] == 720 and kinds["total"] == totals["total"]


def test_the_specs_complete_example_with_its_buyer_completes_and_records_the_buyer(sandbox_merchant):
    """CheckoutSessionCompleteRequest.buyer is the final buyer: applied as an update would (rfc.agentic_checkout
    §4.4). The spec's own complete example, with only what names this shop's customer and token made real."""
    from tests.support.acp_schema import assert_valid, example

    # given a guest session (no buyer yet), ready to pay, and a token for alice's card
    session = sandbox_merchant.ready_session(buyer=None)
    assert "buyer" not in session
    token = sandbox_merchant.delegate(session["id"], _total(session))
    body = example("complete_checkout_session_request")
    body["buyer"]["email"] = "alice@example.com"  # a customer the sandbox knows (johnsmith@mail.com is none)
    body["payment_data"]["instrument"]["credential"]["token"] = token  # spt_123 is no token of this shop
    assert_valid(body, "CheckoutSessionCompleteRequest")

    # when
    response = sandbox_merchant.post(f"/checkout_sessions/{session['id']}/complete", body)

    # then the order is placed for that buyer, who is on the session
    assert response.status_code == 200, response.text
    completed = response.json()
    assert_valid(completed, "CheckoutSessionWithOrder")
    assert completed["status"] == "completed"
    assert completed["buyer"] == body["buyer"]
    assert Order.objects.get(id=completed["order"]["id"]).customer_id == "cus_alice"
    assert sandbox_merchant.get(f"/checkout_sessions/{session['id']}").json()["buyer"] == body["buyer"]


def test_a_buyer_at_complete_that_moves_the_price_charges_nothing_and_says_so(sandbox_merchant):
    # given alice's session with her personal 10 % code
    session = sandbox_merchant.ready_session(discounts={"codes": ["ALICE10"]})
    token = sandbox_merchant.delegate(session["id"], _total(session) * 2, vault_reference="pm_bob_visa")

    # when the complete names bob as the buyer: ALICE10 is not his
    changed = sandbox_merchant.complete(session["id"], token, buyer={"email": "bob@example.com"}).json()

    # then as after an update, the code no longer applies; the total moved, so nothing is charged
    assert changed["status"] == "ready_for_payment"
    assert [m["code"] for m in changed["messages"]] == ["price_change"]
    assert changed["discounts"]["rejected"][0]["code"] == "ALICE10"
    assert _total(changed) > _total(session)
    assert changed["buyer"] == {"email": "bob@example.com"}
    assert Order.objects.count() == 0 and VaultToken.objects.get(id=token).used_at is None


def test_complete_before_an_address_says_what_is_missing_and_charges_nothing(sandbox_merchant):
    """A valid session with an actionable problem: an error message `missing` in a 2xx answer (the spec's
    MessageError, "e.g. status not_ready_for_payment"), not a silent answer and not a protocol Error."""
    from tests.support.acp_schema import assert_valid

    # given a session with no address yet
    session = sandbox_merchant.create_session()
    assert session["status"] == "not_ready_for_payment" and session["messages"] == []
    token = sandbox_merchant.delegate(session["id"], _total(session) * 2)

    # when the agent completes it anyway
    response = sandbox_merchant.complete(session["id"], token)

    # then it is told what is missing, and nothing is charged
    assert response.status_code == 200, response.text
    answered = response.json()
    assert_valid(answered, "CheckoutSession")
    assert answered["status"] == "not_ready_for_payment"
    assert [(m["type"], m["code"], m["param"], m["resolution"]) for m in answered["messages"]] == [
        ("error", "missing", "$.fulfillment_details", "requires_buyer_input")
    ]
    assert "address" in answered["messages"][0]["content"]
    assert Order.objects.count() == 0 and VaultToken.objects.get(id=token).used_at is None
    # and once the address is given, the update recomputes the messages: the session is ready
    updated = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}", {"fulfillment_details": sandbox_merchant.ALICE_HOME}
    ).json()
    assert (updated["status"], updated["messages"]) == ("ready_for_payment", [])


def _selection_is_one_of_the_options(session: dict) -> bool:
    """rfc.agentic_checkout §8: a selected option_id MUST match an element of fulfillment_options."""
    offered = {option["id"] for option in session["fulfillment_options"]}
    return all(chosen["option_id"] in offered for chosen in session["selected_fulfillment_options"])


def test_an_unknown_fulfillment_option_is_not_taken_the_previous_selection_stays_and_a_message_names_it(
    sandbox_merchant,
):
    from tests.support.acp_schema import assert_valid

    # given a ready session with standard shipping
    session = sandbox_merchant.ready_session()
    assert [chosen["option_id"] for chosen in session["selected_fulfillment_options"]] == ["ship_standard"]

    # when an update selects an option the session does not offer
    response = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}",
        {"selected_fulfillment_options": [{"type": "shipping", "option_id": "ship_teleport", "item_ids": []}]},
    )

    # then it is not echoed back: the previous selection stays, and an error message names the request's option
    assert response.status_code == 200, response.text
    updated = response.json()
    assert_valid(updated, "CheckoutSession")
    assert _selection_is_one_of_the_options(updated)
    assert [chosen["option_id"] for chosen in updated["selected_fulfillment_options"]] == ["ship_standard"]
    assert [(m["type"], m["code"], m["param"]) for m in updated["messages"]] == [
        ("error", "invalid", "$.selected_fulfillment_options[0].option_id")
    ]
    assert updated["status"] == "not_ready_for_payment"  # until the buyer picks an option that exists
    assert CheckoutSession.objects.get(id=session["id"]).selected_fulfillment_options[0]["option_id"] == "ship_standard"
    # and choosing one that exists clears it
    fixed = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}",
        {"selected_fulfillment_options": [{"type": "shipping", "option_id": "ship_express", "item_ids": []}]},
    ).json()
    assert (fixed["status"], fixed["messages"]) == ("ready_for_payment", [])
    assert [chosen["option_id"] for chosen in fixed["selected_fulfillment_options"]] == ["ship_express"]


def test_an_unknown_fulfillment_option_on_create_selects_nothing(sandbox_merchant):
    session = sandbox_merchant.create_session(
        fulfillment_details=sandbox_merchant.ALICE_HOME,
        selected_fulfillment_options=[{"type": "shipping", "option_id": "ship_teleport"}],
    )

    assert session["selected_fulfillment_options"] == []
    assert [(m["code"], m["param"]) for m in session["messages"]] == [
        ("invalid", "$.selected_fulfillment_options[0].option_id")
    ]


@pytest.mark.parametrize("spelled", ["USD", "Usd", "usd"])
def test_the_currency_is_read_case_insensitively_and_answered_in_lower_case(sandbox_merchant, spelled):
    # CheckoutSessionCreateRequest.currency has no pattern; rfc.agentic_checkout §8 only recommends lower case
    from tests.support.acp_schema import assert_valid

    body = {"currency": spelled, "line_items": [{"id": "var_blue_runner_42"}], "capabilities": {}}
    assert_valid(body, "CheckoutSessionCreateRequest")

    response = sandbox_merchant.post("/checkout_sessions", body)

    assert response.status_code == 201, response.text
    assert_valid(response.json(), "CheckoutSession")
    assert response.json()["currency"] == "usd"
    assert CheckoutSession.objects.get(id=response.json()["id"]).currency == "usd"


@pytest.mark.parametrize(("spelled", "code"), [("EUR", "unsupported_currency"), ("US", "invalid"), ("ÜSD", "invalid")])
def test_a_currency_the_sandbox_does_not_sell_in_is_still_refused(sandbox_merchant, spelled, code):
    response = sandbox_merchant.post(
        "/checkout_sessions", {"currency": spelled, "line_items": [{"id": "var_soft_flask"}]}
    )

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["param"]) == (code, "$.currency")


# -- an empty cart --------------------------------------------------------------------------------------


def _messages(session: dict) -> list[tuple]:
    return [(m["type"], m["code"], m.get("param"), m.get("resolution")) for m in session["messages"]]


def test_an_update_that_removes_every_line_leaves_a_session_that_charges_nothing(sandbox_merchant):
    """CheckoutSessionUpdateRequest.line_items has no minItems: `[]` is a valid update, answered with the session and
    an error message (MessageError), not_ready_for_payment, so that a complete can charge nothing."""
    from tests.support.acp_schema import assert_valid

    # given the tester's ready session (running socks, standard shipping 5.99)
    session = sandbox_merchant.ready_session(variant_id="var_run_socks_white_m")
    available = sandbox_merchant.available("var_run_socks_white_m")

    # when an update replaces its lines with none
    response = sandbox_merchant.post(f"/checkout_sessions/{session['id']}", {"line_items": []})

    # then it says the cart is empty and is not ready for payment; the socks are no longer held
    assert response.status_code == 200, response.text
    emptied = response.json()
    assert_valid(emptied, "CheckoutSession")
    assert (emptied["status"], emptied["line_items"]) == ("not_ready_for_payment", [])
    assert _messages(emptied) == [("error", "missing", "$.line_items", "requires_buyer_input")]
    assert emptied["selected_fulfillment_options"][0]["item_ids"] == []
    assert sandbox_merchant.available("var_run_socks_white_m") == available + 1

    # when the agent completes it with a token for what it still shows (shipping only)
    token = sandbox_merchant.delegate(emptied["id"], _total(emptied))
    completed = sandbox_merchant.complete(emptied["id"], token)

    # then nothing is charged and no order is placed
    assert completed.status_code == 200, completed.text
    assert_valid(completed.json(), "CheckoutSession")
    assert completed.json()["status"] == "not_ready_for_payment" and "order" not in completed.json()
    assert _messages(completed.json()) == [("error", "missing", "$.line_items", "requires_buyer_input")]
    assert Order.objects.count() == 0 and VaultToken.objects.get(id=token).used_at is None

    # and once an item is back, the session is ready again
    refilled = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}", {"line_items": [{"id": "var_run_socks_white_m"}]}
    ).json()
    assert (refilled["status"], refilled["messages"]) == ("ready_for_payment", [])


def test_a_session_left_ready_with_no_lines_is_not_charged_at_complete(sandbox_merchant):
    # given an empty session as the sandbox wrote it before empty sessions were kept not ready: ready, no message
    session = sandbox_merchant.ready_session(variant_id="var_run_socks_white_m")
    sandbox_merchant.post(f"/checkout_sessions/{session['id']}", {"line_items": []})
    CheckoutSession.objects.filter(id=session["id"]).update(status="ready_for_payment", messages=[])
    token = sandbox_merchant.delegate(session["id"], 599)

    # when
    response = sandbox_merchant.complete(session["id"], token)

    # then complete refuses it in the same words, and nothing is charged
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "not_ready_for_payment"
    assert _messages(response.json()) == [("error", "missing", "$.line_items", "requires_buyer_input")]
    assert Order.objects.count() == 0 and VaultToken.objects.get(id=token).used_at is None


# -- the selected option's item_ids ---------------------------------------------------------------------


def _selected(session: dict) -> list[tuple]:
    return [(chosen["option_id"], chosen["item_ids"]) for chosen in session["selected_fulfillment_options"]]


def _line_ids(session: dict) -> list[str]:
    return [line["id"] for line in session["line_items"]]


def test_the_selected_options_item_ids_are_the_current_lines_on_create_and_every_update(sandbox_merchant):
    """SelectedFulfillmentOption.item_ids lists the lines an option covers: the sandbox's one shipping option covers
    every line there is now, never one that was replaced."""
    from tests.support.acp_schema import assert_valid

    def update(body: dict) -> dict:
        response = sandbox_merchant.post(f"/checkout_sessions/{session['id']}", body)
        assert response.status_code == 200, response.text
        assert_valid(response.json(), "CheckoutSession")
        return response.json()

    # given the tester's session: socks, with the default standard shipping
    session = sandbox_merchant.create_session(
        variant_id="var_run_socks_white_m", fulfillment_details=sandbox_merchant.ALICE_HOME
    )
    assert _selected(session) == [("ship_standard", ["li_run_socks_white_m"])]

    # when the lines are replaced, then the option covers the new line and not the old one
    replaced = update({"line_items": [{"id": "var_cotton_tee_black_m"}]})
    assert (
        _selected(replaced)
        == [("ship_standard", ["li_cotton_tee_black_m"])]
        == [("ship_standard", _line_ids(replaced))]
    )

    # when a line is added, then it covers both
    both = update({"line_items": [{"id": "var_cotton_tee_black_m"}, {"id": "var_run_socks_white_m"}]})
    assert _selected(both) == [("ship_standard", ["li_cotton_tee_black_m", "li_run_socks_white_m"])]

    # when a client selects express naming a line that does not exist, plus a second option for one line
    express = update(
        {
            "selected_fulfillment_options": [
                {"type": "shipping", "option_id": "ship_express", "item_ids": ["li_run_socks_white_m", "li_gone"]},
                {"type": "shipping", "option_id": "ship_standard", "item_ids": ["li_cotton_tee_black_m"]},
            ]
        }
    )
    # then the option priced for the whole order is the one kept, and it covers every current line
    assert _selected(express) == [("ship_express", _line_ids(both))]
    assert _total(express, "fulfillment") == 1499
    assert _selected(sandbox_merchant.get(f"/checkout_sessions/{session['id']}").json()) == _selected(express)

    # and a create that selects an option with no item_ids gets them filled in
    created = sandbox_merchant.ready_session(variant_id="var_run_socks_white_m", quantity=2)
    assert _selected(created) == [("ship_standard", ["li_run_socks_white_m"])]


# -- what the payment handler takes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "param"),
    [
        ({"type": "card", "credential": {"type": "fpan"}}, "$.payment_data.instrument.credential.type"),
        ({"type": "wallet", "credential": {"type": "spt"}}, "$.payment_data.instrument.type"),
    ],
    ids=["fpan-credential", "wallet-instrument"],
)
def test_complete_takes_only_the_instrument_and_credential_types_the_handler_advertises(
    sandbox_merchant, instrument, param
):
    from tests.support.acp_schema import assert_valid

    # given a ready session whose dev.acp.tokenized.card handler takes card instruments with spt credentials
    # (rfc.payment_handlers §7.1-7.2), and a token for it
    session = sandbox_merchant.ready_session()
    [handler] = session["capabilities"]["payment"]["handlers"]
    assert handler["name"] == "dev.acp.tokenized.card" and handler["requires_delegate_payment"] is True
    token = sandbox_merchant.delegate(session["id"], _total(session))
    instrument = {**instrument, "credential": {**instrument["credential"], "token": token}}
    body = {"payment_data": {"handler_id": "card_tokenized", "instrument": instrument}}
    assert_valid(body, "CheckoutSessionCompleteRequest")  # the schema leaves the types to the handler

    # when it is completed with another type
    response = sandbox_merchant.post(f"/checkout_sessions/{session['id']}/complete", body)

    # then it is refused in the spec's Error naming the field, and nothing is charged
    assert response.status_code == 400, response.text
    assert_valid(response.json(), "Error")
    assert (response.json()["type"], response.json()["code"], response.json()["param"]) == (
        "invalid_request",
        "invalid",
        param,
    )
    assert Order.objects.count() == 0 and VaultToken.objects.get(id=token).used_at is None
    # and the same token as the advertised spt credential pays
    assert sandbox_merchant.complete(session["id"], token).json()["status"] == "completed"
