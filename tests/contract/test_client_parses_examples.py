"""Every official ACP 2026-04-17 example response and order goes through our client's parser with
nothing lost: served by "the merchant" (a scripted server on a real socket), read with the client,
and compared field by field with the example's JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog_adapters.acp import order_from_wire, session_from_wire
from catalog_adapters.contract import CheckoutSession, Order
from tests.contract.conftest import serve_session
from tests.merchant_client.scripted import Reply
from tests.support.acp_schema import EXAMPLES_DIR, example, example_names, order_examples

pytestmark = [pytest.mark.redis]


def _session_examples() -> dict[str, dict[str, Any]]:
    found = {}
    for name in example_names():
        data = example(name)
        if isinstance(data, dict) and {"id", "status", "currency", "line_items"} <= data.keys():
            found[name] = data
    found["create_multi_item_checkout_response"] = example(
        "create_multi_item_checkout_response", file="examples.multi_item_checkout.json"
    )
    for path in sorted((EXAMPLES_DIR / "discount-extension").glob("*.json")):
        found[f"discount-extension/{path.stem}"] = json.loads(path.read_text())["response"]
    return found


SESSIONS = _session_examples()
ORDERS = order_examples()


def test_the_examples_cover_what_the_issue_names():
    assert len(SESSIONS) >= 14
    assert {"checkout_session_authentication_required", "create_multi_item_checkout_response"} <= SESSIONS.keys()
    assert {"simple-order", "refunded-order", "partial-fulfillment", "shipped-order", "digital-fulfillment"} <= (
        ORDERS.keys()
    )


def _totals(parsed, wire) -> None:
    assert [(t.type, t.display_text, t.amount.amount, t.description) for t in parsed] == [
        (t["type"], t["display_text"], t["amount"], t.get("description", "")) for t in wire or ()
    ]


def assert_session_matches(session: CheckoutSession, wire: dict[str, Any]) -> None:
    currency = wire["currency"]
    assert (session.id, session.status, session.currency) == (wire["id"], wire["status"], currency)
    assert session.protocol_version == (wire.get("protocol") or {}).get("version", "")
    # Lines: quantity, name, unit amount and every line total.
    assert len(session.line_items) == len(wire["line_items"])
    for line, wire_line in zip(session.line_items, wire["line_items"], strict=True):
        assert line.id == wire_line["id"]
        assert line.item_id == wire_line["item"]["id"]
        assert line.quantity == wire_line["quantity"]
        assert line.title == wire_line.get("name", "")
        assert line.description == wire_line.get("description", "")
        assert line.images == tuple(wire_line.get("images", ()))
        assert (line.unit_amount.amount if line.unit_amount else None) == wire_line.get("unit_amount")
        _totals(line.totals, wire_line.get("totals"))
        by_type = {t["type"]: t["amount"] for t in wire_line.get("totals", ())}
        if "total" in by_type:
            assert line.total.amount == by_type["total"]
        if "subtotal" in by_type:
            assert line.subtotal.amount == by_type["subtotal"]
        if "tax" in by_type:
            assert line.tax.amount == by_type["tax"]
        for name, value in [(a["display_name"], a["value"]) for a in wire_line.get("custom_attributes", ())]:
            assert (name, value) in line.attributes
    _totals(session.totals, wire["totals"])
    # Messages, with their resolution and severity.
    messages = [
        (m.type, m.code, m.content, m.param, m.resolution, m.severity, m.content_type) for m in session.messages
    ]
    assert messages == [
        (
            m["type"],
            m.get("code", ""),
            m["content"],
            m.get("param"),
            m.get("resolution", ""),
            m.get("severity", ""),
            m.get("content_type", "plain"),
        )
        for m in wire["messages"]
    ]
    # Fulfillment: options with their totals, and the selection.
    assert [(o.id, o.type, o.title, o.carrier) for o in session.fulfillment_options] == [
        (o["id"], o["type"], o.get("title", ""), o.get("carrier", "")) for o in wire.get("fulfillment_options", ())
    ]
    for option, wire_option in zip(session.fulfillment_options, wire.get("fulfillment_options", ()), strict=True):
        _totals(option.totals, wire_option.get("totals"))
    assert [(s.type, s.option_id, s.item_ids) for s in session.selected_fulfillment_options] == [
        (s["type"], s["option_id"], tuple(s["item_ids"])) for s in wire.get("selected_fulfillment_options", ())
    ]
    # Discounts: codes, applied (id, code, coupon, amount, allocations), rejected.
    discounts = wire.get("discounts") or {}
    assert session.discount_codes == tuple(discounts.get("codes", ()))
    assert len(session.applied_discounts) == len(discounts.get("applied", ()))
    for applied, wire_applied in zip(session.applied_discounts, discounts.get("applied", ()), strict=True):
        coupon = wire_applied["coupon"]
        assert (applied.id, applied.code, applied.amount.amount) == (
            wire_applied["id"],
            wire_applied.get("code", ""),
            wire_applied["amount"],
        )
        assert (applied.coupon.id, applied.coupon.name) == (coupon["id"], coupon["name"])
        assert applied.coupon.percent_off == coupon.get("percent_off")
        assert applied.coupon.amount_off == coupon.get("amount_off")
        assert applied.automatic == wire_applied.get("automatic", False)
        assert applied.method == wire_applied.get("method", "")
        assert applied.priority == wire_applied.get("priority")
        assert [(a.path, a.amount) for a in applied.allocations] == [
            (a["path"], a["amount"]) for a in wire_applied.get("allocations", ())
        ]
    assert [(r.code, r.reason, r.message) for r in session.rejected_discounts] == [
        (r["code"], r["reason"], r.get("message", "")) for r in discounts.get("rejected", ())
    ]
    # Capabilities: the payment handlers, the interventions intersection and the extensions.
    capabilities = wire.get("capabilities") or {}
    handlers = (capabilities.get("payment") or {}).get("handlers", ())
    assert [
        (h.id, h.name, h.version, h.display_name, h.psp, h.requires_delegate_payment, h.display_order, dict(h.config))
        for h in session.payment_handlers
    ] == [
        (
            h["id"],
            h["name"],
            h["version"],
            h.get("display_name", ""),
            h["psp"],
            h["requires_delegate_payment"],
            h.get("display_order"),
            h["config"],
        )
        for h in handlers
    ]
    # the card brands a handler takes, in the spec's enum spelling (rfc.payment_handlers §10.4.1)
    assert [h.accepted_brands for h in session.payment_handlers] == [
        tuple(h["config"].get("accepted_brands", ())) for h in handlers
    ]
    assert session.locale == wire.get("locale", "")
    interventions = capabilities.get("interventions") or {}
    assert session.capabilities.interventions == tuple(interventions.get("supported", ()))
    assert session.capabilities.interventions_required == tuple(interventions.get("required", ()))
    assert session.capabilities.enforcement == interventions.get("enforcement", "")
    assert session.capabilities.extensions == tuple(
        e["name"] if isinstance(e, dict) else e for e in capabilities.get("extensions", ())
    )
    # 3-D Secure metadata.
    metadata = wire.get("authentication_metadata")
    if metadata is None:
        assert session.authentication_metadata is None
    else:
        parsed = session.authentication_metadata
        acquirer = metadata["acquirer_details"]
        assert parsed.directory_server == metadata["directory_server"]
        assert (parsed.acquirer_bin, parsed.acquirer_country, parsed.acquirer_merchant_id, parsed.merchant_name) == (
            acquirer["acquirer_bin"],
            acquirer["acquirer_country"],
            acquirer["acquirer_merchant_id"],
            acquirer["merchant_name"],
        )
        assert parsed.requestor_id == acquirer.get("requestor_id", "")
        assert parsed.flow_preference == metadata.get("flow_preference", {}).get("type", "")
        assert dict(parsed.raw) == metadata
    # Buyer, address, links, order.
    if wire.get("buyer"):
        assert session.buyer.email == wire["buyer"]["email"]
        assert session.buyer.first_name == wire["buyer"].get("first_name", "")
    if wire.get("fulfillment_details"):
        address = wire["fulfillment_details"]["address"]
        assert session.fulfillment_details.address.line_one == address["line_one"]
        assert session.fulfillment_details.address.postal_code == address["postal_code"]
        assert session.fulfillment_details.phone_number == wire["fulfillment_details"].get("phone_number", "")
    assert session.links == tuple((link["type"], link["url"]) for link in wire.get("links", ()))
    if wire.get("order"):
        order = wire["order"]
        assert (session.order.id, session.order.checkout_session_id, session.order.permalink_url) == (
            order["id"],
            order["checkout_session_id"],
            order["permalink_url"],
        )
        assert session.order.order_number == order.get("order_number", "")
        assert session.order.confirmation_number == (order.get("confirmation") or {}).get("confirmation_number", "")
    else:
        assert session.order is None


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_every_official_session_example_parses_over_the_wire_with_nothing_lost(name, scripted, merchant):
    wire = SESSIONS[name]
    serve_session(scripted, wire)

    session = merchant.checkout.get(session_id=wire["id"])

    assert_session_matches(session, wire)


def test_the_multi_item_example_keeps_each_lines_quantity_and_amounts(scripted, merchant):
    wire = SESSIONS["create_multi_item_checkout_response"]
    serve_session(scripted, wire)
    session = merchant.checkout.get(session_id=wire["id"])
    assert [(line.title, line.quantity, line.unit_amount.amount, line.total.amount) for line in session.line_items] == [
        (line["name"], line["quantity"], line["unit_amount"], line["totals"][-1]["amount"])
        for line in wire["line_items"]
    ]
    assert session.line_items[0].quantity == 2
    assert session.total().amount == 1305


def test_a_price_change_warning_is_read_as_a_price_change():
    wire = example("get_checkout_session_response")
    wire["messages"] = [
        {
            "type": "warning",
            "code": "price_change",
            "content_type": "plain",
            "content": "The price of Vintage Denim Jacket changed from $3.00 to $3.50.",
            "resolution": "requires_buyer_review",
            "param": "$.line_items[0]",
        }
    ]
    session = session_from_wire(wire)
    assert session.price_changed
    assert session.messages[0].resolution == "requires_buyer_review"
    assert session.errors == ()  # a warning: no obstacle to a preview of the new prices
    assert not session_from_wire(example("get_checkout_session_response")).price_changed


def assert_order_matches(order: Order, wire: dict[str, Any], currency: str) -> None:
    assert (order.id, order.checkout_session_id, order.permalink_url) == (
        wire["id"],
        wire["checkout_session_id"],
        wire["permalink_url"],
    )
    assert order.status == wire.get("status", "")
    assert order.order_number == wire.get("order_number", "")
    assert order.client_reference_id == wire.get("client_reference_id", "")
    assert order.confirmation_number == (wire.get("confirmation") or {}).get("confirmation_number", "")
    _totals(order.totals, wire.get("totals"))
    assert len(order.line_items) == len(wire.get("line_items", ()))
    for line, wire_line in zip(order.line_items, wire.get("line_items", ()), strict=True):
        quantity = wire_line["quantity"]
        assert (line.id, line.title, line.product_id, line.status) == (
            wire_line["id"],
            wire_line["title"],
            wire_line.get("product_id", ""),
            wire_line.get("status", ""),
        )
        assert (line.quantity_ordered, line.quantity_current, line.quantity_fulfilled) == (
            quantity["ordered"],
            quantity["current"],
            quantity.get("fulfilled", 0),
        )
        assert (line.unit_price.amount if line.unit_price else None) == wire_line.get("unit_price")
        assert (line.subtotal.amount if line.subtotal else None) == wire_line.get("subtotal")
        if line.unit_price:
            assert line.unit_price.currency == currency
    assert [(f.id, f.type, f.status, f.carrier, f.tracking_number, f.line_items) for f in order.fulfillments] == [
        (
            f["id"],
            f["type"],
            f.get("status", ""),
            f.get("carrier", ""),
            f.get("tracking_number", ""),
            tuple((ref["id"], ref["quantity"]) for ref in f.get("line_items", ())),
        )
        for f in wire.get("fulfillments", ())
    ]
    assert [
        (a.id, a.type, a.status, a.amount.amount, a.amount.currency, a.reason, a.description, a.line_items)
        for a in order.adjustments
    ] == [
        (
            a["id"],
            a["type"],
            a["status"],
            a.get("amount", 0),
            a.get("currency", currency),
            a.get("reason", ""),
            a.get("description", ""),
            tuple((ref["id"], ref["quantity"]) for ref in a.get("line_items", ())),
        )
        for a in wire.get("adjustments", ())
    ]
    for adjustment, wire_adjustment in zip(order.adjustments, wire.get("adjustments", ()), strict=True):
        assert adjustment.created is not None and adjustment.created.isoformat().startswith(
            wire_adjustment["occurred_at"][:19]
        )


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_every_official_order_example_parses_over_the_wire_with_nothing_lost(name, scripted, merchant):
    wire = ORDERS[name]
    scripted.then(Reply(200, wire, method="GET", path=f"/orders/{wire['id']}"))

    order = merchant.orders.get(order_id=wire["id"], currency="usd")

    assert_order_matches(order, wire, "usd")
    assert order.raw == wire


def test_an_order_without_a_currency_takes_its_sessions(scripted, merchant):
    wire = ORDERS["partial-fulfillment"]  # no adjustments, so no currency anywhere in the Order
    scripted.then(Reply(200, wire, method="GET", path=f"/orders/{wire['id']}"))
    serve_session(scripted, {**example("get_checkout_session_response"), "id": wire["checkout_session_id"]})

    order = merchant.orders.get(order_id=wire["id"])

    assert order.currency == "usd" and order.total().amount == 49377
    assert [r.path for r in scripted.received] == [
        f"/orders/{wire['id']}",
        f"/checkout_sessions/{wire['checkout_session_id']}",
    ]


def test_a_refunded_orders_currency_comes_from_its_adjustment(scripted, merchant):
    wire = ORDERS["refunded-order"]
    scripted.then(Reply(200, wire, method="GET", path=f"/orders/{wire['id']}"))
    order = merchant.orders.get(order_id=wire["id"])
    assert order.currency == "usd" and len(scripted.received) == 1
    (refund,) = order.adjustments
    assert (refund.id, refund.status, refund.reason, refund.amount.amount) == (
        "adj_refund_1",
        "completed",
        "defective",
        32516,
    )


@pytest.mark.parametrize("name", ["webhook_order_create_event", "webhook_order_update_event"])
def test_the_official_webhook_event_orders_parse(name):
    data = example(name)["data"]
    order = order_from_wire({"id": "ord_known", **data}, currency="usd")
    assert (order.checkout_session_id, order.permalink_url, order.status) == (
        data["checkout_session_id"],
        data["permalink_url"],
        data["status"],
    )


@pytest.mark.parametrize(
    "name", ["retrieve_session_response_authenticated", "authenticate_response_challenge_required"]
)
def test_delegate_authentication_examples_parse(name):
    from catalog_adapters.acp import authentication_from_wire

    wire = example(name, file="examples.delegate_authentication.json")
    session = authentication_from_wire(wire)
    assert (session.id, session.status) == (wire["authentication_session_id"], wire["status"])
    assert dict(session.result) == wire.get("authentication_result", {})
    if wire["status"] == "action_required":
        assert session.challenge_url == wire["action"]["challenge"]["acs_url"]


def test_example_files_are_all_read():
    # Guards the loader: a new example file in the vendored spec shows up here.
    names = {p.name for p in Path(EXAMPLES_DIR).glob("*.json")}
    assert {"examples.agentic_checkout.json", "examples.multi_item_checkout.json"} <= names
