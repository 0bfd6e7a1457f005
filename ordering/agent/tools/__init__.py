"""The tools: everything a planner (the deterministic parser or a language model) can do, and their registry.

A tool takes validated JSON arguments and answers a `ToolResult`: `data` is facts for the planner
(JSON-safe, never instructions; merchant text in it is quoted data), `say` is text rendered here,
by server code, for the customer (every amount comes from the merchant's session). **No tool places
an order**: placement happens only through the confirm endpoint, a typed confirmation recognized by
`ordering.agent.pipeline`, or an auto-checkout grant, all outside the planner's reach.

One module per family: `catalog` (search, a product, saved items, product questions), `cart` (lines,
promotion codes, shipping, address, card), `preview` (the order preview), `orders` (status and canceling),
`handover` (a person takes over); `base` has what every tool is made of. This module is the registry
(`TOOLS`: each tool's name, description, JSON Schema and handler; `TOOL_STEPS`) and the door the turn
uses (`ordering.agent.turn` validates and records every call): import `TOOLS`, `ToolCall` and `ToolResult`
from here, anything else from its family.
"""

from __future__ import annotations

from ordering.agent.state import MAX_QUANTITY, SHIPPING_OPTIONS
from ordering.agent.tools.base import ToolCall, ToolResult, ToolSpec
from ordering.agent.tools.cart import (
    add_to_cart,
    apply_promo,
    choose_address,
    choose_payment_method,
    choose_shipping,
    list_my_promotions,
    remove_from_cart,
    sync_cart,
    update_cart_line,
)
from ordering.agent.tools.catalog import answer_product_question, list_saved_items, search_products, show_product
from ordering.agent.tools.handover import hand_over
from ordering.agent.tools.orders import cancel_order, cancel_placed_order, order_status
from ordering.agent.tools.preview import preview_order

__all__ = ["TOOLS", "TOOL_STEPS", "ToolCall", "ToolResult", "ToolSpec"]


# -- the registry ----------------------------------------------------------------------------------

_ID = {"type": "string", "minLength": 1, "maxLength": 128}
_QUANTITY = {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY}
_NOTHING = {"type": "object", "properties": {}, "additionalProperties": False}


def _object(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            "search_products",
            "Search the shop's catalog by words, optionally filtered by colour, size or category.",
            _object(
                {
                    "query": {"type": "string", "maxLength": 100},
                    "colour": {"type": "string", "maxLength": 30},
                    "size": {"type": "string", "maxLength": 10},
                    "category": {"type": "string", "maxLength": 40},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 40},
                    "price_min": {"type": "integer", "minimum": 0},
                    "price_max": {"type": "integer", "minimum": 0},
                    "sort": {"type": "string", "enum": ["relevance", "price_asc", "price_desc"]},
                    "product_ids": {"type": "array", "items": _ID, "maxItems": 10},
                },
                ("query",),
            ),
            search_products,
        ),
        ToolSpec(
            "show_product",
            "Show one product with its variants (colour, size, stock) and price.",
            _object({"product_id": _ID}, ("product_id",)),
            show_product,
        ),
        ToolSpec(
            "list_saved_items",
            "The customer's liked, viewed or purchased items at the shop, newest first, optionally only the last "
            "N days.",
            _object(
                {
                    "kind": {"type": "string", "enum": ["liked", "viewed", "purchased"]},
                    "since_days": {"type": "integer", "minimum": 1, "maximum": 365},
                    "product_ids": {"type": "array", "items": _ID, "maxItems": 40},
                },
                ("kind",),
            ),
            list_saved_items,
        ),
        ToolSpec(
            "add_to_cart",
            "Put a product variant (a specific colour and size) in the cart.",
            _object(
                {"product_id": _ID, "variant_id": _ID, "quantity": _QUANTITY}, ("product_id", "variant_id", "quantity")
            ),
            add_to_cart,
        ),
        ToolSpec(
            "update_cart_line",
            "Change the quantity of an item already in the cart, or change it to another variant or product.",
            _object(
                {"variant_id": _ID, "quantity": _QUANTITY, "new_variant_id": _ID, "product_id": _ID}, ("variant_id",)
            ),
            update_cart_line,
        ),
        ToolSpec("sync_cart", "Send the cart to the shop again as it stands.", _NOTHING, sync_cart),
        ToolSpec(
            "remove_from_cart",
            "Take an item out of the cart.",
            _object({"variant_id": _ID}, ("variant_id",)),
            remove_from_cart,
        ),
        ToolSpec(
            "list_my_promotions",
            "The customer's personal promotion codes usable now (to resolve 'my 10% promo'); with include_public,"
            " then the codes anyone may use now (to answer 'any promo codes?'). Each says whether it is personal.",
            _object({"include_public": {"type": "boolean"}}),
            list_my_promotions,
        ),
        ToolSpec(
            "apply_promo",
            "Apply a promotion code to the cart; the shop decides whether it is valid.",
            _object({"code": {"type": "string", "pattern": "^[A-Za-z0-9_-]{2,40}$"}}, ("code",)),
            apply_promo,
        ),
        ToolSpec(
            "choose_shipping",
            "Choose standard or express shipping.",
            _object({"option": {"type": "string", "enum": sorted(SHIPPING_OPTIONS)}}, ("option",)),
            choose_shipping,
        ),
        ToolSpec(
            "choose_address",
            "Ship to one of the customer's saved addresses (by id or label, e.g. 'Home').",
            _object({"address_id": {"type": "integer"}, "label": {"type": "string", "maxLength": 40}}),
            choose_address,
        ),
        ToolSpec(
            "choose_payment_method",
            "Pay with one of the customer's saved cards (by id, last four digits, or brand when only one has it; "
            "usual: their default card, with brand that brand's default or only card).",
            _object(
                {
                    "payment_method_id": {"type": "integer"},
                    "last4": {"type": "string", "pattern": "^[0-9]{4}$"},
                    "brand": {"type": "string", "maxLength": 20},
                    "usual": {"type": "boolean"},
                }
            ),
            choose_payment_method,
        ),
        ToolSpec(
            "preview_order",
            "Show the customer the order preview priced by the shop (it asks them to confirm; it places nothing).",
            _NOTHING,
            preview_order,
        ),
        ToolSpec(
            "order_status",
            "The customer's orders from any conversation: this cart's (current), the latest (last) or the "
            "last few (all).",
            _object({"which": {"type": "string", "enum": ["current", "last", "all"]}}),
            order_status,
        ),
        ToolSpec(
            "cancel_order",
            "Cancel this conversation's cart (current) or the customer's latest order (last) if not placed yet; "
            "with product_ids, colour or size, the latest order with such a line.",
            _object(
                {
                    "which": {"type": "string", "enum": ["current", "last"]},
                    "product_ids": {"type": "array", "items": _ID, "maxItems": 10},
                    "colour": {"type": "string", "maxLength": 30},
                    "size": {"type": "string", "maxLength": 10},
                }
            ),
            cancel_order,
        ),
        ToolSpec(
            "cancel_placed_order",
            "Cancel a placed order at the shop (only after the customer said yes to canceling that order).",
            _object({"flow_id": _ID}, ("flow_id",)),
            cancel_placed_order,
        ),
        ToolSpec(
            "answer_product_question",
            "Answer a question about one product: price, availability, sizes, colours or details.",
            _object(
                {
                    "product_id": _ID,
                    "aspect": {"type": "string", "enum": ["price", "availability", "sizes", "colours", "details"]},
                    "size": {"type": "string", "maxLength": 10},
                    "colour": {"type": "string", "maxLength": 30},
                },
                ("product_id",),
            ),
            answer_product_question,
        ),
        ToolSpec(
            "hand_over",
            "Hand the conversation to a human specialist (the customer asked, or you cannot help).",
            _object(
                {
                    "reason": {"type": "string", "enum": ["customer_request", "agent_stuck"]},
                    "detail": {"type": "string", "maxLength": 500},
                },
                ("reason",),
            ),
            hand_over,
        ),
    )
}

# The step of the customer's journey each tool's shop calls belong to, for failures by step
# (ordering_turn_step_failures_total). Order look-ups and cancellations are after-sale, not counted here.
TOOL_STEPS: dict[str, str] = {
    "search_products": "catalog",
    "show_product": "catalog",
    "list_saved_items": "catalog",
    "answer_product_question": "catalog",
    "add_to_cart": "cart",
    "update_cart_line": "cart",
    "sync_cart": "cart",
    "remove_from_cart": "cart",
    "list_my_promotions": "cart",
    "apply_promo": "cart",
    "choose_shipping": "cart",
    "choose_address": "cart",
    "choose_payment_method": "cart",
    "preview_order": "pricing",
}
