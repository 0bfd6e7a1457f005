"""What a step can answer (`StepOutcome`: `Advance`, `Retry`, `Fail`, `Repreview`, `NeedsAction`, `Escalate`,
`Await`, `Placed`), and what each answer that ends a run does to the flow (`outcome_apply`): placed, failed (its
undo enqueued), a new preview, waiting for the customer, a person or the merchant, or retried later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.models import ActorType, Outcome
from audit.services import audit_record
from catalog_adapters.contract import CheckoutSession, card_brand_normalize
from config.statements import (
    fields_update,
    fields_update_check,
    fields_update_hand_written,
    fields_update_statement,
    postgresql_or_orm,
)
from consent.formatting import format_money
from consent.models import CardBrand
from consent.selectors import payment_methods_for_customer
from consent.services.ledger import spend_commit
from ordering import metrics
from ordering.hooks import PersonNeeded, person_needed
from ordering.models import (
    CompensationStatus,
    EscalationReason,
    ExperimentEvent,
    ExperimentEventKind,
    FlowCompensation,
    FlowStatus,
    Message,
    MessageRole,
    OrderFlow,
    WaitingFor,
)
from ordering.preview import preview_build, preview_hash, preview_text
from ordering.rollout.events import experiment_event_build, experiment_event_of
from ordering.saga.base import (
    ask_for_a_person,
    flow_instruments,
    merchant_wait_delay,
    refusal_wait,
    retry_delay,
    spend_reference,
)
from ordering.saga.resumes import payment_verification_link
from ordering.services import conversation_post, insert_select
from ordering.transitions import flow_advance_on_commit, flow_compensate_on_commit, flow_transition

logger = logging.getLogger(__name__)

# -- what a step can answer ----------------------------------------------------------------------


@dataclass
class Advance:
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Retry:
    """Transient trouble (merchant 5xx, network, breaker open): try the same step again later.

    `refused`: our own breaker or rate limit sent nothing; not an attempt, and the retry waits
    `retry_after` seconds (the breaker's half-open time) instead of a backoff.
    """

    error_class: str
    detail: str
    refused: bool = False
    retry_after: float | None = None


@dataclass
class Fail:
    """The flow stops here: `code` names why (the chat message, the audit event), `detail` is for the people who
    read the flow. `result`: facts the step found, kept on its row and read by the message (e.g. the brands a
    merchant takes)."""

    code: str
    detail: str
    error_class: str = "business"
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Repreview:
    """The merchant's totals differ from the confirmed preview: charge nothing, ask again."""

    session: CheckoutSession


@dataclass
class NeedsAction:
    """The flow waits for `waiting_for` (the customer's step-up, the payment's verification); `escalate` also asks
    for a person. `code` names the stop in the chat message and the audit event."""

    code: str
    detail: str
    waiting_for: WaitingFor
    escalate: EscalationReason | None = None
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Escalate:
    """A person decides before the flow goes on (a risk review): the flow waits for them."""

    reason: EscalationReason
    code: str
    detail: str
    waiting_for: WaitingFor
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Await:
    """The merchant took the complete but has not finished it (`status`: complete_in_progress, pending_approval,
    requires_escalation, …): the outcome is unknown, so nothing is undone and the spend reservation stands. The flow
    stays placing and reads the session again later (or the merchant's order webhook places it). `review`: the shop
    reviews the order; `tell`: the shopper hears of it (first time, or the shop's status changed); `ask_person`: no
    outcome for too long; `shop_says`: the merchant's own words, if any. `result` is kept on the step's row."""

    status: str
    detail: str
    review: bool = False
    tell: bool = False
    ask_person: bool = False
    shop_says: str = ""
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Placed:
    order_id: str
    result: dict[str, Any] = field(default_factory=dict)


StepOutcome = Advance | Retry | Fail | Repreview | NeedsAction | Escalate | Await | Placed


# -- what each outcome does to the flow ----------------------------------------------------------


def _step_retry_countdown(outcome: Retry, attempt_in_round: int, since: datetime | None) -> float:
    if outcome.refused:
        deadline = since + timedelta(seconds=settings.ORDERING_STEP_GIVE_UP_SECONDS) if since else None
        return refusal_wait(outcome.retry_after, deadline=deadline)
    # A merchant that said when to come back (429 / 503 Retry-After) is not asked sooner.
    return max(retry_delay(attempt_in_round), outcome.retry_after or 0.0)


def outcome_apply(
    flow: OrderFlow,
    step: str,
    attempt_in_round: int,
    outcome: StepOutcome,
    *,
    since: datetime | None = None,
    ordered_before: bool | None = None,
) -> None:
    """Move the (locked) flow on according to a step's outcome that ends this task's run of it.

    `ordered_before`: whether the customer had placed another order, when the caller knows it already (the
    risk step of the same task counted them); a placement asks the database otherwise.
    """
    try:
        with transaction.atomic():
            if isinstance(outcome, Retry):
                fields_update(flow, ["step_lease_until", "updated_at"])
                flow_advance_on_commit(flow.pk, countdown=_step_retry_countdown(outcome, attempt_in_round, since))
            elif isinstance(outcome, Placed):
                _placed(flow, outcome, ordered_before=ordered_before)
            elif isinstance(outcome, Fail):
                _failed(flow, step, outcome)
            elif isinstance(outcome, Repreview):
                _repreview(flow, outcome.session)
            elif isinstance(outcome, NeedsAction):
                _needs_action(flow, outcome)
            elif isinstance(outcome, Escalate):
                _escalate(flow, outcome)
            elif isinstance(outcome, Await):
                _await(flow, outcome)
    except Exception as error:
        # Recording the outcome failed (our database, the ledger): a person must look, and the
        # outcome goes to them verbatim, an order id included, so nothing is done twice or lost.
        logger.exception("recording a flow step's outcome failed", extra={"flow_id": str(flow.pk)})
        flow.refresh_from_db()
        flow.failure_code = "internal_error"
        flow.failure_detail = f"{step} ended with {outcome!r} but recording it failed: {error!r}"[:2000]
        flow.next_step = ""
        flow.step_lease_until = None
        flow_transition(
            flow,
            FlowStatus.ESCALATED,
            actor_type=ActorType.SYSTEM,
            outcome=Outcome.FAILED,
            data={"step": step, "outcome": type(outcome).__name__},
            extra_fields=("failure_code", "failure_detail", "next_step", "step_lease_until"),
            waiting_for=WaitingFor.SPECIALIST,
        )
        person_needed.ask(
            PersonNeeded(
                reason=EscalationReason.AGENT_STUCK,
                customer_id=flow.customer_id,
                flow_id=flow.pk,
                conversation_id=flow.conversation_id,
                detail=flow.failure_detail,
            )
        )


def flow_placed_by_merchant(flow: OrderFlow, *, order_id: str, via: str) -> None:
    """The merchant says the order a waiting flow's complete led to exists (its order webhook): place the flow, as
    the saga would have, in the caller's transaction (the flow locked, `ordering.saga.base.flow_awaiting_merchant`
    checked under that lock). A poll of the session running meanwhile finds its claim gone and records nothing."""
    _placed(flow, Placed(order_id=order_id, result={"merchant_order_id": order_id}), via=via)


def _retire_statement(flow: OrderFlow, *, rounds: tuple[int, int], now: datetime) -> tuple[str, list[Any]]:
    """The UPDATE that makes the pending or failed undo steps of these placement rounds not needed, and its
    parameters: built once per process (plain SQL that PostgreSQL and SQLite both run; the ORM's update spent more
    Python building it than the database spends running it)."""
    fields = {field.name: field for field in FlowCompensation._meta.concrete_fields}
    sql = _RETIRE_SQL.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name
        status, round_column = quote(fields["status"].column), quote(fields["placement_round"].column)
        sql = _RETIRE_SQL[connection.vendor] = (
            f"UPDATE {quote(FlowCompensation._meta.db_table)} SET {status} = %s, "  # noqa: S608 - our own names
            f"{quote(fields['finished_at'].column)} = %s WHERE {quote(fields['flow'].column)} = %s "
            f"AND {round_column} IN (%s, %s) AND {status} IN (%s, %s)"
        )
    params = [
        CompensationStatus.NOT_NEEDED.value,
        fields["finished_at"].get_db_prep_save(now, connection),
        fields["flow"].get_db_prep_save(flow.pk, connection),
        *rounds,
        CompensationStatus.PENDING.value,
        CompensationStatus.FAILED.value,
    ]
    return sql, params


_RETIRE_SQL: dict[str, str] = {}


def _placed_records(flow: OrderFlow, *, order_id: str, now: datetime, flow_fields: list[str]) -> None:
    """What a placement writes, in the caller's transaction: `flow_fields` of the (locked) flow's row, this round's
    and the flow's own undo steps retired (an earlier round's, a token or a reservation left by a price change,
    still runs), the customer's message, and the A/B report's `order_placed` event in the phase and arm stored on
    the flow.

    One statement on PostgreSQL (a data-modifying WITH: the four writes are independent of each other), the flow's
    UPDATE, the retiring UPDATE and the ORM's two inserts elsewhere."""
    message = Message(
        conversation_id=flow.conversation_id,
        role=MessageRole.ASSISTANT,
        text=f"Your order is placed. The merchant's order number is {order_id}.",
        data={"kind": "flow_placed", "flow_id": str(flow.pk), "merchant_order_id": order_id},
    )
    rounds = (0, flow.confirmations)

    def one_statement() -> None:
        quote = connection.ops.quote_name
        retire, params = _retire_statement(flow, rounds=rounds, now=now)
        parts = [f"r AS ({retire})"]
        flow_written = fields_update_hand_written(flow)
        if flow_written:
            update, update_params = fields_update_statement(flow, flow_fields)
            parts.insert(0, f"f AS ({update} RETURNING 1)")
            params = [*update_params, *params]
        else:
            fields_update(flow, flow_fields)
        event = experiment_event_build(
            flow, kind=ExperimentEventKind.ORDER_PLACED, order_ref=order_id, amount=flow.total_amount,
            currency=flow.currency,
        )  # fmt: skip
        if event is not None:
            columns, values, event_params = insert_select(event, computed={})
            parts.append(f"e AS (INSERT INTO {quote(ExperimentEvent._meta.db_table)} ({columns}) VALUES ({values}))")  # noqa: S608
            params += event_params
        columns, values, message_params = insert_select(message, computed={})
        params += message_params
        # Only our own table and column names are interpolated; values are parameters. Every part of a
        # data-modifying WITH runs, whether or not the rest of the statement reads it.
        written = "(SELECT count(*) FROM f)" if flow_written else "1"
        message_table = quote(Message._meta.db_table)
        sql = f"WITH {', '.join(parts)} INSERT INTO {message_table} ({columns}) VALUES ({values}) RETURNING {written}"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fields_update_check(cursor.fetchone()[0])  # the flow's row was written (it is locked: it cannot have gone)

    def orm() -> None:
        fields_update(flow, flow_fields)
        retire, params = _retire_statement(flow, rounds=rounds, now=now)
        with connection.cursor() as cursor:
            cursor.execute(retire, params)
        conversation_post(
            conversation_id=message.conversation_id, role=message.role, text=message.text, data=message.data
        )
        experiment_event_of(
            flow,
            kind=ExperimentEventKind.ORDER_PLACED,
            order_ref=order_id,
            amount=flow.total_amount,
            currency=flow.currency,
        )

    postgresql_or_orm(postgresql=one_statement, orm=orm)


def _placed(flow: OrderFlow, outcome: Placed, *, ordered_before: bool | None = None, via: str = "") -> None:
    # The ledger first: it locks the reservation after the flow, the order every writer keeps.
    spend_commit(flow_reference=spend_reference(flow), amount=flow.total_amount)
    flow.merchant_order_id = outcome.order_id
    flow.placed_at = timezone.now()
    flow.next_step = ""
    flow.step_lease_until = None
    fields = ["merchant_order_id", "placed_at", "next_step", "step_lease_until"]
    if flow.failure_detail:
        flow.failure_detail = ""  # what it waited for (the merchant's completion) is over
        fields.append("failure_detail")
    data: dict[str, Any] = {"merchant_order_id": outcome.order_id, "round": flow.confirmations}
    if via:
        data["via"] = via
    # The flow's row is written by the statement that records the rest of the placement (below).
    flow_fields: list[str] = []
    flow_transition(
        flow,
        FlowStatus.PLACED,
        actor_type=ActorType.AGENT,
        data=data,
        extra_fields=tuple(fields),
        write=flow_fields.extend,
    )
    # The order stands: its undo steps retired, the customer told, the A/B report's order recorded.
    _placed_records(flow, order_id=outcome.order_id, now=timezone.now(), flow_fields=flow_fields)
    # Only a flow confirmed more than once can have an earlier round left to undo.
    if flow.confirmations > 1 and flow.compensations.filter(status=CompensationStatus.PENDING).exists():
        flow_compensate_on_commit(flow.pk)
    metrics.flows_placed.labels(merchant=flow.merchant_id, **metrics.rollout_labels(flow)).inc()
    metrics.flow_outcomes.labels(outcome="placed", **metrics.rollout_labels(flow)).inc()
    metrics.order_value.labels(currency=flow.currency).observe(flow.total_amount or 0)
    if flow.confirmed_at:
        metrics.confirm_to_placed.observe(max((flow.placed_at - flow.confirmed_at).total_seconds(), 0.0))
    if ordered_before is None:
        ordered_before = (
            OrderFlow.objects.filter(customer_id=flow.customer_id, status=FlowStatus.PLACED)
            .exclude(pk=flow.pk)
            .exists()
        )
    metrics.orders_by_history.labels(purchase="repeat" if ordered_before else "first").inc()


_FAILURE_TEXT = {
    "payment_declined": (
        "Your card was declined, so nothing was charged. You can pick another card, finish at the merchant's "
        "checkout page, or talk to a person."
    ),
    "out_of_stock": "Sorry, that item sold out before the order went through. Nothing was charged.",
    "merchant_unavailable": (
        "The shop is not answering right now, so I could not place the order and nothing was charged. "
        "Please try again in a little while, or ask for a person."
    ),
    "spend_cap_exceeded": "This order would go over one of your spending limits, so I did not place it.",
    # The merchant had taken the complete (it was completing or reviewing it) and then did not go through with it.
    # Whether the card was touched is the shop's to say: it is not claimed that nothing was charged.
    "merchant_not_completed": (
        "The shop did not go through with this order, so it is not placed. If your card shows a pending amount "
        "from the shop for it, the shop releases it; ask for a person if it does not."
    ),
    "payment_handler_unavailable": (
        "This shop does not take the kind of payment I can make for you, so I did not place the order and "
        "nothing was charged. You can finish at the shop's own checkout page, or talk to a person."
    ),
    # The merchant took an order, but not the one confirmed: it is canceled now (the undo that follows), and
    # a person takes over if the shop does not confirm the cancellation.
    "total_mismatch": (
        "The shop completed your order at a different total than the one you confirmed, so I'm canceling it "
        "with the shop; any charge is refunded in full. Nothing was ordered. Say if you'd like a new preview."
    ),
    "content_mismatch": (
        "The shop completed your order with different items or details than the ones you confirmed, so I'm "
        "canceling it with the shop; any charge is refunded in full. Nothing was ordered. Say if you'd like a "
        "new preview."
    ),
}


# Refusals of the card itself: the customer's activity names the card (brand and last four, nothing more).
_CARD_REFUSALS = ("payment_declined", "card_brand_not_accepted")
# Brands a merchant may name that our saved cards' brands (CardBrand) do not.
_MORE_BRAND_NAMES = {"diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay"}


def _brand_name(brand: str) -> str:
    known = dict(CardBrand.choices)
    return known.get(brand) or _MORE_BRAND_NAMES.get(brand) or brand.title()


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _card_not_accepted(flow: OrderFlow, outcome: Fail, accepted: list[str]) -> tuple[str, dict[str, Any]]:
    """What the customer reads when the shop does not take the card's brand, and what it offers instead: their
    other saved cards at this shop whose brand it takes (quick replies that choose one), else their settings."""
    card = flow.payment_method
    refused = card.get_brand_display() if card is not None else _brand_name(str(outcome.result.get("card_brand")))
    others = [
        other
        for other in payment_methods_for_customer(user_id=flow.customer_id).filter(merchant_id=flow.merchant_id)
        if (card is None or other.pk != card.pk) and card_brand_normalize(other.brand) in accepted
    ]
    text = f"This shop doesn't take {refused} cards, so I did not place the order and nothing was charged. "
    if others:
        text += (
            f"You can pay with your {_either([other.masked for other in others])} instead, finish at the shop's "
            "own checkout page, or talk to a person."
        )
        replies = [
            {"label": f"Pay with {other.masked}", "text": f"Pay with the card ending {other.last4}"} for other in others
        ]
        return text, {"options": ["manual_checkout", "talk_to_human"], "quick_replies": replies}
    takes = _either([_brand_name(brand) for brand in accepted]) if accepted else "other cards"
    text += (
        f"It takes {takes}, and none of your saved cards is one: you can add one on your settings page, finish at "
        "the shop's own checkout page, or talk to a person."
    )
    return text, {"options": ["settings", "manual_checkout", "talk_to_human"]}


def _failed(flow: OrderFlow, step: str, outcome: Fail) -> None:
    flow.failure_code = outcome.code[:64]
    flow.failure_detail = outcome.detail
    flow.next_step = ""
    facts: dict[str, Any] = {"step": step, "code": outcome.code, "error_class": outcome.error_class}
    if outcome.code in _CARD_REFUSALS and flow.payment_method is not None:
        # The customer's activity says which card was refused (brand and last four, nothing more).
        facts["card"] = flow.payment_method.masked
    accepted = [str(brand) for brand in outcome.result.get("accepted_brands") or ()]
    if outcome.code == "card_brand_not_accepted":
        facts["accepted_brands"] = accepted
    flow_transition(
        flow,
        FlowStatus.FAILED,
        actor_type=ActorType.AGENT,
        outcome=Outcome.FAILED,
        data=facts,
        extra_fields=("failure_code", "failure_detail", "next_step", "step_lease_until"),
    )
    text = _FAILURE_TEXT.get(outcome.code) or (
        outcome.detail
        if outcome.error_class in ("consent", "spend")
        else "I could not place this order; nothing was charged."
    )
    data: dict[str, Any] = {"kind": "flow_failed", "flow_id": str(flow.pk), "code": outcome.code}
    if outcome.code == "card_brand_not_accepted":
        text, offered = _card_not_accepted(flow, outcome, accepted)
        data.update(offered)
    elif outcome.code in ("payment_declined", "payment_handler_unavailable"):
        data["options"] = (
            ["another_card", "manual_checkout", "talk_to_human"]
            if outcome.code == "payment_declined"
            else ["manual_checkout", "talk_to_human"]
        )
    if "manual_checkout" in data.get("options", ()):
        continue_url = flow.preview.get("continue_url")
        if continue_url:
            data["manual_checkout_url"] = continue_url
    conversation_post(conversation_id=flow.conversation_id, role=MessageRole.ASSISTANT, text=text, data=data)
    metrics.flows_failed.labels(step=step, error_class=outcome.error_class, **metrics.rollout_labels(flow)).inc()
    metrics.flow_outcomes.labels(outcome="failed", **metrics.rollout_labels(flow)).inc()
    flow_compensate_on_commit(flow.pk)


def _repreview(flow: OrderFlow, session: CheckoutSession) -> None:
    payment_method, address = flow_instruments(flow)
    preview = preview_build(
        merchant_id=flow.merchant_id, session=session, payment_method=payment_method, address=address
    )
    old_total = flow.total_amount
    flow.preview = preview
    flow.preview_hash = preview_hash(preview)
    flow.total_amount = preview["total"]
    flow.currency = preview["currency"]
    flow.next_step = ""
    flow_transition(
        flow,
        FlowStatus.PREVIEWED,
        actor_type=ActorType.AGENT,
        data={"reason": "price_changed", "old_total": old_total, "preview_hash": flow.preview_hash},
        extra_fields=("preview", "preview_hash", "total_amount", "currency", "next_step", "step_lease_until"),
    )
    conversation_post(
        conversation_id=flow.conversation_id,
        role=MessageRole.ASSISTANT,
        text=(
            f"The shop's price changed from {format_money(old_total or 0, flow.currency)}, so nothing was charged. "
            + preview_text(preview)
        ),
        data={"kind": "preview", "flow_id": str(flow.pk), "preview": preview, "preview_hash": flow.preview_hash},
    )
    metrics.flow_outcomes.labels(outcome="repreviewed", **metrics.rollout_labels(flow)).inc()
    flow_compensate_on_commit(flow.pk)


def _needs_action(flow: OrderFlow, outcome: NeedsAction) -> None:
    flow.failure_detail = outcome.detail
    flow_transition(
        flow,
        FlowStatus.REQUIRES_ACTION,
        actor_type=ActorType.AGENT,
        data={"code": outcome.code},
        extra_fields=("failure_detail", "step_lease_until"),
        waiting_for=outcome.waiting_for,
    )
    if outcome.escalate is not None:
        ask_for_a_person(flow, outcome.escalate, outcome.detail)
        text = "Your bank wants to verify this payment. A specialist is looking at this and will get back to you here."
    else:
        text = "Before I place this order, please confirm it's you with the code from your authenticator app."
    data: dict[str, Any] = {"kind": "flow_requires_action", "flow_id": str(flow.pk), "code": outcome.code}
    if outcome.waiting_for == WaitingFor.PAYMENT_VERIFICATION:
        text = (
            "Your bank wants to verify this payment. Open the link to confirm it with your bank; nothing is "
            "charged until you do. A specialist is also looking at this and will get back to you here."
        )
        data["link"] = payment_verification_link(flow)
    # A verification the merchant refused asks the customer for the same thing again: not said twice in a row.
    if not _last_said_about(flow, text=text, data=data):
        conversation_post(conversation_id=flow.conversation_id, role=MessageRole.ASSISTANT, text=text, data=data)
    metrics.flow_outcomes.labels(outcome="requires_action", **metrics.rollout_labels(flow)).inc()


def _await(flow: OrderFlow, outcome: Await) -> None:
    """The merchant is still completing or reviewing the order: the flow stays placing (its spend reservation stands,
    nothing is undone), its next read of the session waits `merchant_wait_delay` (the step's lease until then, so
    the sweeper leaves it alone), and the shopper hears what is going on, honestly, once per status."""
    delay = merchant_wait_delay(int(outcome.result.get("polls") or 1))
    flow.step_lease_until = timezone.now() + timedelta(seconds=delay)
    flow.failure_detail = outcome.detail
    fields_update(flow, ["step_lease_until", "failure_detail", "updated_at"])
    flow_advance_on_commit(flow.pk, countdown=delay + 1.0)
    if outcome.ask_person:
        ask_for_a_person(
            flow,
            EscalationReason.MERCHANT_UNAVAILABLE,
            f"The merchant took this order's payment step and has said {outcome.status!r} since "
            f"{outcome.result.get('awaiting_since')}: check with the shop whether it placed and charged the order.",
        )
    if not (outcome.tell or outcome.ask_person):
        return
    audit_record(
        action="flow.awaiting_merchant",
        actor_type=ActorType.AGENT,
        customer_id=flow.customer_id,
        target_type="flow",
        target_id=flow.pk,
        data={"merchant_status": outcome.status, "person_asked": outcome.ask_person},
    )
    if outcome.review:
        text = (
            "The shop is reviewing this order before it accepts it, so it is not confirmed yet. I'll tell you here "
            "as soon as the shop decides."
        )
    else:
        text = (
            "The shop is still processing this order and its payment, so it is not confirmed yet. I'll tell you "
            "here as soon as it is."
        )
    if outcome.shop_says:
        text += f" The shop says: “{outcome.shop_says}”"
    if outcome.ask_person:
        text = "The shop still has not confirmed this order, so a specialist is checking with them and will reply here."
    data: dict[str, Any] = {"kind": "flow_awaiting_merchant", "flow_id": str(flow.pk), "code": outcome.status}
    continue_url = outcome.result.get("continue_url")
    if continue_url and outcome.review and not outcome.ask_person:
        data["link"] = {"url": continue_url, "label": "Open the order at the shop"}
    conversation_post(conversation_id=flow.conversation_id, role=MessageRole.ASSISTANT, text=text, data=data)
    if outcome.tell:
        metrics.flow_outcomes.labels(outcome="awaiting_merchant", **metrics.rollout_labels(flow)).inc()


def _last_said_about(flow: OrderFlow, *, text: str, data: dict[str, Any]) -> bool:
    """Whether this very message (its words and its link) is the last thing the customer was told about the flow."""
    last = (
        Message.objects.filter(conversation_id=flow.conversation_id, data__flow_id=str(flow.pk))
        .order_by("-created_at", "-id")
        .first()
    )
    return last is not None and last.role == MessageRole.ASSISTANT and last.text == text and last.data == data


def _escalate(flow: OrderFlow, outcome: Escalate) -> None:
    flow.failure_detail = outcome.detail
    flow_transition(
        flow,
        FlowStatus.ESCALATED,
        actor_type=ActorType.AGENT,
        data={"code": outcome.code, **outcome.result},
        extra_fields=("failure_detail", "step_lease_until"),
        waiting_for=outcome.waiting_for,
    )
    ask_for_a_person(flow, outcome.reason, outcome.detail)
    conversation_post(
        conversation_id=flow.conversation_id,
        role=MessageRole.ASSISTANT,
        text="A specialist needs to look at this order before it goes through. They will reply here.",
        data={"kind": "flow_escalated", "flow_id": str(flow.pk), "code": outcome.code},
    )
    metrics.flow_outcomes.labels(outcome="escalated", **metrics.rollout_labels(flow)).inc()
