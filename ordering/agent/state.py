"""The agent's working memory for one conversation, kept on `Conversation.agent_state` and bounded.

Only small, structured facts live here (cart lines as we sent them to the merchant, codes, choices,
the pending question); every price stays at the merchant and is read back from its session.
"""

from __future__ import annotations

import copy
from typing import Any

from catalog_adapters.contract import SHIPPING_EXPRESS, SHIPPING_STANDARD

MAX_CART_LINES = 20
MAX_QUANTITY = 20
MAX_PROMO_CODES = 5
MAX_CANDIDATES = 5

# The assistant's words for the shipping choice (the sandbox's own option ids too). They are not sent as they are
# to a merchant that does not offer them: the client maps each onto one of the merchant's own fulfillment options
# (catalog_adapters.contract.fulfillment_option_choose: the default and standard keep the merchant's own selection,
# else its cheapest shipping; express is its fastest).
DEFAULT_SHIPPING = SHIPPING_STANDARD
SHIPPING_OPTIONS = {"standard": SHIPPING_STANDARD, "express": SHIPPING_EXPRESS}


def state_load(raw: dict[str, Any] | None) -> dict[str, Any]:
    state = copy.deepcopy(raw or {})
    state.setdefault("cart", [])
    state.setdefault("promo_codes", [])
    state.setdefault("shipping", DEFAULT_SHIPPING)
    state.setdefault("address_id", None)
    state.setdefault("payment_method_id", None)
    state.setdefault("flow_id", None)
    state.setdefault("cart_version", 0)
    state.setdefault("pending", None)
    state.setdefault("failed_clarifications", 0)
    state.setdefault("shown_preview_hash", "")
    state.setdefault("focus", None)  # the cart line under discussion (the last one added or changed)
    state.setdefault("last_shown", [])  # products shown last, for "the second one"
    state.setdefault("topic", None)  # the one product under discussion, for "how much is it?"
    # The colour and size said when `last_shown` was shown ("sneakers size 43"), for one of them chosen next.
    state.setdefault("shown_with", {})
    # The cart's stock hold was released ({"flow_id", "reason"}: ordering/holds.py) and its lines kept: a "yes"
    # gets a fresh preview, never an order from the released one.
    state.setdefault("released", None)
    state.setdefault("undo", None)
    state.setdefault("code_removed", None)
    state.setdefault("code_refused", None)  # the last code the shop refused for this cart ("try the code again")
    # The lines of this conversation's last cart that became an order (`Policy.settle_cart`), for "the same in red"
    # said right after it: one more of an ordered line starts the next cart.
    state.setdefault("ordered_lines", [])
    # The card chosen in this chat (`payment_method_id`) outlives its cart only while paying with it did not fail: the
    # flow confirmed with it, until its end is known; the last flow so looked at; and what the next preview says of a
    # card that did not go through (`Policy._settle_card`).
    state.setdefault("card_to_check", None)
    state.setdefault("card_checked", None)
    state.setdefault("card_note", None)
    return state


def state_bounded(state: dict[str, Any]) -> dict[str, Any]:
    """Cut the state down to its limits before it is saved, so it never grows with the conversation."""
    state["cart"] = state["cart"][:MAX_CART_LINES]
    state["promo_codes"] = state["promo_codes"][:MAX_PROMO_CODES]
    state["last_shown"] = state.get("last_shown", [])[: MAX_CANDIDATES + 1]
    state["ordered_lines"] = state.get("ordered_lines", [])[:MAX_CART_LINES]
    undo = state.get("undo")
    if isinstance(undo, dict):
        undo = [undo]
    if undo:
        state["undo"] = [
            {**point, "cart": point["cart"][:MAX_CART_LINES], "codes": point.get("codes", [])[:MAX_PROMO_CODES]}
            for point in undo[-5:]
        ]
    pending = state.get("pending")
    if pending:
        pending["options"] = (pending.get("options") or [])[:8]
        pending["queue"] = (pending.get("queue") or [])[:MAX_CART_LINES]
    return state


def cart_reset(state: dict[str, Any]) -> None:
    """A new cart (the previous flow was placed, canceled or expired): choices made for it go too. The card and the
    address chosen stay for the next cart ("the same again"), each named by its preview; a card whose order was
    confirmed and did not go through is dropped by `Policy._settle_card`, not here (how it ends is known later)."""
    state["cart"] = []
    state["removed"] = {}
    state["undo"] = None
    state["code_removed"] = None
    state["code_refused"] = None
    state["promo_codes"] = []
    state["shipping"] = DEFAULT_SHIPPING
    state["flow_id"] = None
    state["shown_preview_hash"] = ""
    state["released"] = None
