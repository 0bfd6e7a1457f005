"""One customer turn, end to end: the decisions that are code, not planner.

Before any planner runs: an escalated conversation is with a person (the agent stays silent), and a
typed "yes"/"no" while a preview waits is a confirmation or a decline, bound by deterministic code to
the exact preview the customer was shown. After the planner: an auto-checkout grant that covers a
fresh preview confirms it, and the message says so. Nothing else can start a placement.
"""

from __future__ import annotations

import logging

from django.db import transaction

from ordering.agent import parser
from ordering.agent.dialog import planner_for_settings
from ordering.agent.merchant import cart_flow
from ordering.agent.tools import HANDOVER_TEXT
from ordering.agent.turn import Turn
from ordering.errors import OrderingError
from ordering.models import (
    ConfirmationChannel,
    Conversation,
    ConversationStatus,
    ConversationTurn,
    DecisionKind,
    FlowStatus,
    MessageRole,
    OrderFlow,
)
from ordering.money import format_money
from ordering.preview import preview_text
from ordering.selectors import preview_public, preview_shown_hash
from ordering.services import flow_confirm, flow_decline

logger = logging.getLogger(__name__)

PLACING_TEXT = "Thank you, confirmed. I'm placing your order with the shop now."
DECLINED_TEXT = "OK, I won't order it. Nothing was charged and the items are released."


def turn_run(*, conversation: Conversation, record: ConversationTurn | None, text: str) -> Turn:
    turn = Turn(conversation=conversation, record=record, customer_text=text)
    if conversation.status == ConversationStatus.ESCALATED:
        _while_escalated(turn)
        return turn
    if _typed_decision(turn):
        return turn
    planner = planner_for_settings()
    turn.planner_name = getattr(planner, "name", type(planner).__name__)[:32]
    try:
        planner.run(turn)
    except Exception:
        logger.exception("planner crashed", extra={"conversation_id": str(conversation.pk)})
        turn.say("Sorry, something went wrong on my side. Please try again, or ask for a person.")
    conversation.refresh_from_db(fields=["status"])
    if conversation.status != ConversationStatus.ESCALATED:
        _auto_checkout(turn)
    return turn


def _while_escalated(turn: Turn) -> None:
    """A specialist has the conversation: the agent does nothing, and says so once, not at every message."""
    messages = turn.conversation.messages.all()
    handed_back = messages.filter(data__kind="handed_back").order_by("-id").values_list("id", flat=True).first()
    said = messages.filter(data__kind__in=("handed_over", "specialist_has_it"), id__gt=handed_back or 0)
    if said.exists():
        return  # told once since the specialist took over; the customer is talking to a person now
    turn.record_decision(
        DecisionKind.HANDOVER, "silent_while_escalated", rationale="the conversation is with a specialist"
    )
    turn._post(MessageRole.SYSTEM, HANDOVER_TEXT, {"kind": "specialist_has_it"})


def _typed_decision(turn: Turn) -> bool:
    flow = cart_flow(turn.conversation, turn.state)
    if flow is None or flow.status != FlowStatus.PREVIEWED:
        return False
    words = turn.customer_text.strip()[:80]
    if parser.is_affirmative(turn.customer_text):
        shown = {turn.state.get("shown_preview_hash"), preview_shown_hash(conversation=turn.conversation, flow=flow)}
        if flow.preview_hash not in shown:
            # The cart or the shop's prices changed after the customer's preview: show the new one first.
            turn.record_decision(
                DecisionKind.CONFIRMATION, "typed_confirmation_refused", ok=False,
                rationale=f'"{words}" would confirm a preview the customer has not seen; showing the current one',
            )  # fmt: skip
            turn.state["shown_preview_hash"] = flow.preview_hash
            turn.save_state()
            turn.say(
                "The order changed since the preview you saw. " + preview_text(flow.preview),
                data={"kind": "preview", "flow_id": str(flow.pk), "preview": preview_public(flow)},
            )
            return True
        _confirm(
            turn,
            flow,
            ConfirmationChannel.TYPED,
            f'the customer typed "{words}" while preview {flow.preview_hash[:12]} was shown',
        )
        return True
    if parser.is_negative(turn.customer_text):
        try:
            with transaction.atomic():
                flow_decline(flow_id=flow.pk, customer_id=turn.customer_id)
                turn.record_decision(
                    DecisionKind.CONFIRMATION, "typed_decline",
                    rationale=f'the customer typed "{words}" while preview {flow.preview_hash[:12]} was shown',
                )  # fmt: skip
                turn.state["cart"] = []
                turn.state["flow_id"] = None
                turn.state["shown_preview_hash"] = ""
                turn.save_state()
                turn.say(DECLINED_TEXT, data={"kind": "flow_declined", "flow_id": str(flow.pk)})
        except OrderingError as error:
            turn.say(error.message)
        return True
    return False


def _confirm(turn: Turn, flow: OrderFlow, channel: str, rationale: str, text: str = PLACING_TEXT) -> None:
    try:
        # One transaction: the saga is enqueued on commit, so the customer reads "placing" before any outcome.
        with transaction.atomic():
            flow = flow_confirm(
                flow_id=flow.pk, customer_id=turn.customer_id, preview_hash=flow.preview_hash, channel=channel
            )
            turn.record_decision(
                DecisionKind.CONFIRMATION, f"confirm_{channel}", rationale=rationale,
                arguments={"preview_hash": flow.preview_hash, "flow_id": str(flow.pk)},
            )  # fmt: skip
            turn.say(text, data={"kind": "flow_confirmed", "flow_id": str(flow.pk), "channel": channel})
    except OrderingError as error:
        turn.record_decision(
            DecisionKind.CONFIRMATION, f"confirm_{channel}", rationale=rationale, ok=False, error=error.message
        )
        turn.say(error.message)


def _auto_checkout(turn: Turn) -> None:
    """A fresh preview under the customer's auto-checkout amount is placed without asking, and says so."""
    from consent.selectors import auto_checkout_threshold

    flow = cart_flow(turn.conversation, turn.state)
    if flow is None or flow.status != FlowStatus.PREVIEWED or flow.total_amount is None:
        return
    if flow.preview_hash != turn.state.get("shown_preview_hash"):
        return
    if not any(message.data.get("kind") == "preview" for message in turn.messages_said()):
        return  # only a preview shown in this very turn
    threshold = auto_checkout_threshold(user_id=turn.customer_id)
    if not flow.total_amount < threshold:
        return
    currency = flow.currency
    _confirm(
        turn,
        flow,
        ConfirmationChannel.AUTO_CHECKOUT,
        f"the total {format_money(flow.total_amount, currency)} is under the auto-checkout amount "
        f"{format_money(threshold, currency)} the customer granted",
        text=(
            f"Your auto-checkout setting covers orders under {format_money(threshold, currency)}, so I'm placing this "
            "one without asking. You can change that on your settings page."
        ),
    )
