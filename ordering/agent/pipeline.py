"""One customer turn, end to end: read the message into commands, let the policy act, then auto-checkout.

1. An escalated conversation is with a person: the agent stays silent (it says so once).
2. The message becomes commands: a structured command posted by the widget is taken as it is;
   otherwise a command generator reads the words: the language model when `LLM_*` is configured
   (falling back to the offline reader on any failure), else the offline reader grounded in the
   merchant's catalog (`ordering.agent.understand`).
3. The policy (`ordering.agent.policy`) executes the commands with the tools. A typed yes confirms
   only the preview that is the assistant's latest message (code, not a generator, decides).
4. A preview shown in this turn under the customer's auto-checkout amount, and placeable under their
   grants and caps, is confirmed without asking, and the message says so.
5. Every turn ends with an answer: one that would end without an assistant message (a tool that failed
   on a path that returns early, a handler that forgot to speak) gets a fallback answer, and why is
   recorded (a `no_answer_fallback` decision, a warning log, `ordering_agent_turns_unanswered_total`).
   A conversation with a specialist is the one exception: the agent stays silent there on purpose.
6. The conversation's state is written once, at the end (`Turn.state_flush`).

The caller (`ordering.services.turn_execute`) runs this under the turn's deadline: once it has passed,
`config.deadline.DeadlineExceeded` stops the turn before its next step and is not caught here (a turn
that ran out of time is failed by the caller, which undoes its cart changes and apologises).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from config.deadline import deadline_check
from consent.exceptions import ConsentError
from consent.formatting import format_money
from consent.selectors import SavedDetails
from ordering.agent import commands as c
from ordering.agent import metrics as agent_metrics
from ordering.agent.merchant import merchant_id_default
from ordering.agent.policy import Policy, quick_replies
from ordering.agent.tools.handover import HANDOVER_TEXT
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
from ordering.services import flow_confirm, flow_decline

logger = logging.getLogger(__name__)

PLACING_TEXT = "Thank you, confirmed. I'm placing your order with the shop now."
NO_ANSWER_TEXT = (
    "Sorry, I couldn't answer that properly just now. Please try again in other words, or say "
    '"show my order" to see your cart as it is, or "talk to a person".'
)
DECLINED_TEXT = "OK, I won't order it. Nothing was charged and the items are released."


def turn_run(
    *,
    conversation: Conversation,
    record: ConversationTurn | None,
    text: str,
    command: dict | None = None,
    saved: SavedDetails | None = None,
    write_state: bool = True,
) -> Turn:
    """`saved`: the customer's saved cards, addresses and shop account when the caller read them with the turn.
    `write_state` False: the caller writes the conversation's state if `turn.state_changed` (with the turn's end)."""
    turn = Turn(conversation=conversation, record=record, customer_text=text, saved=saved)
    try:
        _turn_body(turn, command)
    except BaseException:
        # A failed turn (its deadline passed, a crash) keeps the record of what it decided and why.
        try:
            turn.decisions_flush()
        except Exception:
            logger.exception("decisions of a failed turn not written", extra={"conversation_id": str(conversation.pk)})
        raise
    turn.decisions_flush()
    turn.state_changed = turn.state_flush(write=write_state)
    return turn


def _turn_body(turn: Turn, command: dict | None) -> None:
    if turn.conversation.status == ConversationStatus.ESCALATED:
        _while_escalated(turn)
        return
    try:
        policy = Policy()
        # Before anything is read: a cart that has become an order is no longer the cart the reader sees.
        policy.settle_cart(turn)
        commands = _read(turn, command)
        deadline_check()
        policy.run(turn, commands)
    except Exception:
        logger.exception("turn crashed", extra={"conversation_id": str(turn.conversation.pk)})
        turn.say("Sorry, something went wrong on my side. Please try again, or ask for a person.")
    _auto_checkout(turn)
    _answer_if_silent(turn)
    # A turn that overran its deadline is failed as a whole (the caller undoes what it left), even if it
    # got to the end: the customer was told nothing yet, and the widget stopped waiting at the deadline.
    deadline_check()


def _answer_if_silent(turn: Turn) -> None:
    """A turn that would end without a word to the customer ends with a fallback answer, and why is on record.

    Silence reads to the customer as a message that was lost (they send it again, or leave); the fallback
    tells them what they can do. Staff read the decision naming what failed in the turn; operators see the
    counter and the log line. A conversation with a specialist stays silent on purpose (`_while_escalated`).
    """
    if turn.messages_said() or turn.conversation.status == ConversationStatus.ESCALATED:
        return
    failed = [f"{d.name}: {d.error or 'failed'}" for d in turn.decisions_unwritten() if not d.ok]
    decided = [d.name for d in turn.decisions_unwritten()]
    why = "; ".join(failed) if failed else f"no step answered (decisions: {', '.join(decided) or 'none'})"
    logger.warning(
        "turn.no_answer",
        extra={"conversation_id": str(turn.conversation.pk), "planner": turn.planner_name, "why": why[:300]},
    )
    agent_metrics.turns_unanswered.labels(planner=turn.planner_name or "none").inc()
    turn.record_decision(
        DecisionKind.RULE,
        "no_answer_fallback",
        rationale=f'"{turn.customer_text[:80]}" would have ended without an answer ({why})',
        ok=False,
        error=why,
    )
    turn.say(
        NO_ANSWER_TEXT,
        data={"kind": "no_answer", "quick_replies": quick_replies(["Show my order", "Talk to a person"])},
    )


def _read(turn: Turn, command: dict | None) -> list[c.Command]:
    """The message as commands: the widget's structured command, the model's, or the offline reader's."""
    if command is not None:
        turn.planner_name = "widget"
        return [c.command_from_dict(command)]
    context = dialogue_context(turn)
    from ordering.agent import llm

    factory = getattr(llm, "llm_generator_for_settings", None)
    generator = factory() if factory is not None else None
    if generator is not None:
        turn.planner_name = generator.name
        try:
            return generator.generate(
                text=turn.customer_text, context=context, recent=turn.recent_messages(settings.LLM_RECENT_MESSAGES)
            )
        except llm.LLMFailure as failure:
            logger.warning(
                "llm.fallback",
                extra={"reason": failure.reason, "conversation_id": str(turn.conversation.pk)},
            )
            turn.planner_name = "llm>offline"
    else:
        turn.planner_name = "offline"
    return offline_generator().generate(text=turn.customer_text, context=context)


def offline_generator() -> Any:
    from ordering.agent.understand import OfflineGenerator, catalog_lexicon

    return OfflineGenerator(catalog_lexicon(merchant_id_default()))


def _cart_lines(rows: list[dict], owners: dict[str, list[str]] | None = None) -> tuple[c.CartLine, ...]:
    return tuple(
        c.CartLine(
            variant_id=line["variant_id"],
            product_id=line["product_id"],
            title=line["title"],
            colour=line.get("colour"),
            size=line.get("size"),
            quantity=line["quantity"],
            people=len(set((owners or {}).get(line["variant_id"]) or [])),
        )
        for line in rows
    )


def _asked_count(pending: dict) -> int | None:
    """The count asked of the item an open question is about (None when none was said)."""
    quantity = (pending.get("item") or {}).get("quantity")
    return quantity if isinstance(quantity, int) and quantity > 0 else None


def dialogue_context(turn: Turn) -> c.DialogueContext:
    """What a generator may know: the cart, the open question, whether a preview waits, what was shown."""
    state = turn.state
    pending = state.get("pending")
    flow = turn.cart_flow()
    awaiting = bool(flow and flow.status == FlowStatus.PREVIEWED and turn.latest_preview_hash() == flow.preview_hash)
    return c.DialogueContext(
        cart=_cart_lines(state["cart"], state.get("owners") or {}),
        pending=c.PendingQuestion(
            slot=pending.get("slot") or "product",
            options=tuple(c.Option(value=o["value"], label=o["label"]) for o in pending.get("options") or []),
            product_id=pending.get("product_id"),
            title=pending.get("title") or "",
            quantity=_asked_count(pending),
        )
        if pending
        else None,
        awaiting_confirmation=awaiting,
        last_shown=tuple(c.Option(value=o["value"], label=o["label"]) for o in state.get("last_shown") or []),
        cards=tuple(c.Option(value=m.last4, label=f"{m.brand} ending {m.last4}") for m in turn.payment_methods()[:10]),
        addresses=tuple(a.label for a in turn.addresses()[:10]),
        ordered=_cart_lines(state.get("ordered_lines") or []),
        shipping_offered=bool(state.get("shipping_told")) and state.get("shipping_told") == state.get("turn_no"),
        promotions_told=bool(state.get("turn_no"))
        and (state.get("promotions_told") or {}).get("turn") == state.get("turn_no"),
        values_said=(state.get("values_said") or {}).get("text", "")
        if (state.get("values_said") or {}).get("turn") == state.get("turn_no")
        else "",
    )


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


def confirm_typed(turn: Turn, flow: OrderFlow) -> None:
    _confirm(
        turn,
        flow,
        ConfirmationChannel.TYPED,
        f'the customer typed "{turn.customer_text.strip()[:80]}" right after preview {flow.preview_hash[:12]}',
    )


def decline_typed(turn: Turn, flow: OrderFlow) -> None:
    try:
        with transaction.atomic():
            flow_decline(flow_id=flow.pk, customer_id=turn.customer_id)
            turn.record_decision(
                DecisionKind.CONFIRMATION, "typed_decline",
                rationale=f'the customer typed "{turn.customer_text.strip()[:80]}" while preview '
                f"{flow.preview_hash[:12]} was shown",
            )  # fmt: skip
            turn.state["cart"] = []
            turn.state["flow_id"] = None
            turn.state["shown_preview_hash"] = ""
            turn.save_state()
            turn.say(DECLINED_TEXT, data={"kind": "flow_declined", "flow_id": str(flow.pk)})
    except OrderingError as error:
        turn.say(error.message)
    finally:
        turn.forget_cart_flow()


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
    except (OrderingError, ConsentError) as error:
        turn.record_decision(
            DecisionKind.CONFIRMATION, f"confirm_{channel}", rationale=rationale, ok=False, error=error.message
        )
        if channel != ConfirmationChannel.AUTO_CHECKOUT:
            turn.say(error.message)
    finally:
        turn.forget_cart_flow()


def _auto_checkout(turn: Turn) -> None:
    """A fresh preview under the customer's auto-checkout amount is placed without asking, and says so."""
    from consent.selectors import auto_checkout_threshold, auto_checkout_threshold_of

    if not any(message.data.get("kind") == "preview" for message in turn.messages_said()):
        return  # only a preview shown in this very turn
    flow = turn.cart_flow()
    if flow is None or flow.status != FlowStatus.PREVIEWED or flow.total_amount is None:
        return
    if flow.preview_hash != turn.state.get("shown_preview_hash"):
        return
    deadline_check()
    # The preview's placement check read the customer's settings moments ago (flow_confirm checks again).
    if turn.placement_profile is not None:
        threshold = auto_checkout_threshold_of(profile=turn.placement_profile[0])
    else:
        threshold = auto_checkout_threshold(user_id=turn.customer_id)
    if not flow.total_amount < threshold:
        return
    # A specialist may have taken the conversation meanwhile (a hand-over in this turn, or the saga's).
    turn.conversation.refresh_from_db(fields=["status"])
    if turn.conversation.status == ConversationStatus.ESCALATED:
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
