"""Conversations and order flows: writes.

A flow's status changes only through `_transition`, which checks the transition table, saves with
`update_fields` and writes the audit event in the same transaction. Placement itself is the saga
(`ordering/saga/`), run by Celery tasks that are enqueued only after the confirming transaction commits.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone

from audit.models import ActorType, Outcome
from audit.services import Origin, audit_record
from catalog_adapters.contract import CheckoutSession
from config.statements import postgresql_or_orm
from config.tracing import get_trace_id
from consent.models import Address, PaymentMethod
from consent.selectors import (
    SavedDetails,
    address_get,
    auto_checkout_threshold_of,
    order_placement_check,
    payment_method_get,
    saved_details_for_customer,
    saved_details_parse,
    saved_details_sql,
    stepup_verified_within,
)
from ordering import metrics
from ordering.agent import metrics as agent_metrics
from ordering.errors import (
    AutoCheckoutNotAllowed,
    FlowNotConfirmable,
    FlowNotFound,
    IdempotencyConflict,
    InvalidFlowTransition,
    PreviewExpired,
    RolloutCeilingExceeded,
    StalePreview,
)
from ordering.models import (
    NOT_YET_PLACED_STATUSES,
    CompensationStatus,
    ConfirmationChannel,
    Conversation,
    ConversationRating,
    ConversationStatus,
    ConversationTurn,
    ExperimentChannel,
    ExperimentEvent,
    ExperimentEventKind,
    FlowCompensation,
    FlowStatus,
    FlowStep,
    Message,
    MessageRole,
    OrderFlow,
    TurnStatus,
    WaitingFor,
)
from ordering.preview import preview_build, preview_hash
from ordering.rollout.access import orders_paused_check, phase_limits_check, recorded_arm
from ordering.rollout.assignment import Assignment, assign, rollout_state
from ordering.rollout.events import experiment_event_build, experiment_event_record
from ordering.selectors import staff_reply_sent, uuid_or_none
from ordering.transitions import flow_advance_on_commit, flow_compensate_on_commit, flow_transition

logger = logging.getLogger(__name__)

# Saved cards or addresses a turn reads (ordering.agent.turn.MAX_SAVED; the settings page keeps far fewer).
SAVED_PER_TURN = 50
# The first step of every placement round.
FIRST_STEP = "check_consent"


# -- conversations -------------------------------------------------------------------------------


def conversation_start(
    *, customer_id: int, is_staff: bool | None = None, assignment: Assignment | None = None
) -> Conversation:
    """A new conversation, in the rollout phase and experiment arm the customer is in now (recorded on it,
    and as the funnel's `session_started` event unless the customer is staff outside the experiment).

    `assignment` when the caller has it (the API checked it); otherwise from `is_staff` (read if not given)."""
    if assignment is None:
        if is_staff is None:
            from django.contrib.auth import get_user_model

            is_staff = bool(get_user_model().objects.filter(pk=customer_id).values_list("is_staff", flat=True).first())
        assignment = assign(customer_id=customer_id, is_staff=is_staff)
    with transaction.atomic():
        conversation = Conversation.objects.create(
            customer_id=customer_id,
            trace_id=get_trace_id() or "",
            rollout_phase=assignment.phase,
            rollout_arm=recorded_arm(assignment),
        )
        audit_record(
            action="conversation.started",
            actor_type=ActorType.CUSTOMER,
            actor_id=customer_id,
            customer_id=customer_id,
            target_type="conversation",
            target_id=conversation.pk,
        )
        experiment_event_record(
            assignment=assignment,
            customer_id=customer_id,
            kind=ExperimentEventKind.SESSION_STARTED,
            channel=ExperimentChannel.ASSISTANT,
            conversation_id=conversation.pk,
        )
    return conversation


def conversation_post(
    *,
    conversation_id: object,
    role: MessageRole | str,
    text: str,
    data: dict[str, Any] | None = None,
    turn: ConversationTurn | None = None,
) -> Message:
    return Message.objects.create(conversation_id=conversation_id, role=role, text=text, data=data or {}, turn=turn)


def conversation_staff_reply(*, conversation_id: object, staff_id: int, text: str, reply_key: str = "") -> Message:
    """A specialist writes to the customer; the widget shows it like any other message.

    `reply_key` names one sending of the reply form: the same form sent twice (a double click, Back and
    send again) returns the message it already posted instead of posting it again."""
    text = text.strip()
    if not text:
        raise ValueError("A reply needs some text.")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if reply_key:
            sent = staff_reply_sent(conversation_id=conversation.pk, reply_key=reply_key)
            if sent is not None:
                return sent
        message = conversation_post(
            conversation_id=conversation.pk,
            role=MessageRole.STAFF,
            text=text,
            data={"reply_key": reply_key} if reply_key else None,
        )
        audit_record(
            action="conversation.staff_replied",
            actor_type=ActorType.STAFF,
            actor_id=staff_id,
            customer_id=conversation.customer_id,
            target_type="conversation",
            target_id=conversation.pk,
            data={"message_id": message.pk, "length": len(text)},
        )
    return message


def conversation_hand_back(*, conversation_id: object, staff_id: int) -> Conversation:
    """A specialist is done: the assistant answers the customer again."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.status != ConversationStatus.ESCALATED:
            return conversation
        conversation.status = ConversationStatus.ACTIVE
        conversation.save(update_fields=["status", "updated_at"])
        conversation_post(
            conversation_id=conversation.pk,
            role=MessageRole.SYSTEM,
            text="The specialist handed you back to the assistant. How can I help?",
            data={"kind": "handed_back"},
        )
        audit_record(
            action="conversation.handed_back",
            actor_type=ActorType.STAFF,
            actor_id=staff_id,
            customer_id=conversation.customer_id,
            target_type="conversation",
            target_id=conversation.pk,
        )
    return conversation


def conversation_mark_escalated(*, conversation_id: object) -> None:
    Conversation.objects.filter(pk=conversation_id).exclude(status=ConversationStatus.CLOSED).update(
        status=ConversationStatus.ESCALATED, updated_at=timezone.now()
    )


# -- flow status ---------------------------------------------------------------------------------


def _locked_flow(*, flow_id: object, customer_id: int | None = None) -> OrderFlow:
    queryset = OrderFlow.objects.select_for_update()
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    flow = queryset.filter(pk=flow_id).first()
    if flow is None:
        raise FlowNotFound("No such order.", flow_id=str(flow_id))
    return flow


def compensation_register(
    *, flow: OrderFlow, action: str, target_ref: str, placement_round: int = 0
) -> FlowCompensation:
    """Register an undo before the foreign call it undoes; registering it twice is harmless."""
    compensation, _ = FlowCompensation.objects.get_or_create(
        flow=flow,
        action=action,
        target_ref=target_ref,
        defaults={"registered_at": timezone.now(), "placement_round": placement_round},
    )
    return compensation


def compensations_register(*, flow: OrderFlow, undo: list[tuple[str, str]], placement_round: int = 0) -> None:
    """Register several undo steps (action, target) in one statement; any already registered stays as it is."""
    if not undo:
        return
    now = timezone.now()
    FlowCompensation.objects.bulk_create(
        [
            FlowCompensation(
                flow=flow, action=action, target_ref=target, registered_at=now, placement_round=placement_round
            )
            for action, target in undo
        ],
        ignore_conflicts=True,
    )


# -- flow lifecycle ------------------------------------------------------------------------------


def flow_start(*, conversation: Conversation, merchant_id: str, checkout_session_id: str) -> OrderFlow:
    """A draft flow owning a merchant checkout session the cart tools created (which holds stock).

    The customer's oldest carts beyond ORDERING_MAX_OPEN_PREVIEWS are released first, in this transaction
    (`ordering.holds.holds_make_room`)."""
    from ordering.holds import holds_make_room

    with transaction.atomic():
        holds_make_room(customer_id=conversation.customer_id)
        flow = OrderFlow(
            customer_id=conversation.customer_id,
            conversation=conversation,
            merchant_id=merchant_id,
            checkout_session_id=checkout_session_id,
            trace_id=get_trace_id() or "",
            # The flow counts for the phase and arm its conversation started in (never assigned again).
            rollout_phase=conversation.rollout_phase,
            rollout_arm=conversation.rollout_arm,
        )
        # The session already reserves stock at the merchant: whatever happens next, cancel it unless placed.
        # (A new flow has no compensation yet: a plain INSERT, no look-up.)
        undo = FlowCompensation(
            flow=flow, action="cancel_checkout", target_ref=checkout_session_id, registered_at=timezone.now()
        )
        _flow_insert(
            flow=flow, undo=undo, event=experiment_event_build(flow, kind=ExperimentEventKind.CHECKOUT_STARTED)
        )
        audit_record(
            action="flow.started",
            actor_type=ActorType.AGENT,
            customer_id=flow.customer_id,
            target_type="flow",
            target_id=flow.pk,
            data={"merchant_id": merchant_id, "checkout_session_id": checkout_session_id},
        )
    metrics.flows_started.labels(merchant=merchant_id, **metrics.rollout_labels(flow)).inc()
    return flow


def _flow_insert(*, flow: OrderFlow, undo: FlowCompensation, event: ExperimentEvent | None) -> None:
    """Insert a new flow, its first undo and its funnel event (if any): one statement on PostgreSQL."""

    def one_statement() -> None:
        quote = connection.ops.quote_name
        flow_columns, flow_values, flow_params = insert_select(flow, computed={})
        undo_columns, undo_values, undo_params = insert_select(undo, computed={"flow_id": "f.id"})
        # Only our own table and column names are interpolated; values are parameters.
        insert_flow = f"INSERT INTO {quote(OrderFlow._meta.db_table)} ({flow_columns}) SELECT {flow_values}"
        undo_table = quote(FlowCompensation._meta.db_table)
        insert_undo = f"INSERT INTO {undo_table} ({undo_columns}) SELECT {undo_values} FROM f"  # noqa: S608
        params = [*flow_params, *undo_params]
        # A data-modifying WITH runs once whether or not the rest of the statement reads it.
        last = "SELECT NULL"
        if event is not None:
            event_columns, event_values, event_params = insert_select(event, computed={"flow_id": "f.id"})
            event_table = quote(ExperimentEvent._meta.db_table)
            last = f"INSERT INTO {event_table} ({event_columns}) SELECT {event_values} FROM f RETURNING id"  # noqa: S608
            params += event_params
        with connection.cursor() as cursor:
            cursor.execute(f"WITH f AS ({insert_flow} RETURNING id), u AS ({insert_undo}) {last}", params)
            event_id = cursor.fetchone()[0]
        mark_saved(flow, flow.pk)
        if event is not None:
            mark_saved(event, event_id)

    def orm() -> None:
        flow.save(force_insert=True)
        undo.save(force_insert=True)
        if event is not None:
            event.save(force_insert=True)

    postgresql_or_orm(postgresql=one_statement, orm=orm)


def flow_preview(
    *,
    flow_id: object,
    customer_id: int,
    session: CheckoutSession,
    payment_method_id: int,
    address_id: int,
    payment_method: PaymentMethod | None = None,
    address: Address | None = None,
    known: OrderFlow | None = None,
) -> OrderFlow:
    """Show the customer a new preview of the merchant's session; any earlier preview stops being confirmable.

    `payment_method` and `address` are the card and address with those ids when the caller has read them
    already (this customer's, not removed); otherwise they are read here. `known` is the flow as the caller
    read it (not locked): its merchant prices the preview, and the flow is checked and updated in one
    conditional statement; when that finds the flow no longer previewable, it is read under its lock and
    refused as before."""
    if not _usable(payment_method, pk=payment_method_id, customer_id=customer_id):
        payment_method = payment_method_get(user_id=customer_id, payment_method_id=payment_method_id)
    if not _usable(address, pk=address_id, customer_id=customer_id):
        address = address_get(user_id=customer_id, address_id=address_id)
    if known is not None and str(known.pk) == str(flow_id) and known.customer_id == customer_id:
        # The usual case in one statement on PostgreSQL: lock, check and update the flow the caller read. The
        # ORM's way of doing the same is the locked read below.
        previewed = postgresql_or_orm(
            postgresql=lambda: _flow_preview_update(
                flow=known, session=session, payment_method=payment_method, address=address
            ),
            orm=lambda: None,
        )
        if previewed is not None:
            return previewed
    with transaction.atomic():
        flow = _locked_flow(flow_id=flow_id, customer_id=customer_id)
        if session.id != flow.checkout_session_id:
            raise InvalidFlowTransition("That checkout session belongs to another flow.", flow_id=str(flow.pk))
        if flow.status not in (FlowStatus.DRAFT, FlowStatus.PREVIEWED):
            # A confirmed or placing flow keeps the preview the customer confirmed; only the saga may
            # show a new one (after a price change).
            raise FlowNotConfirmable(
                f"This order is {flow.get_status_display().lower()}; its preview cannot change now.",
                flow_id=str(flow.pk),
            )
        orders_paused_check()  # the kill switch: no new preview to confirm
        preview = preview_build(
            merchant_id=flow.merchant_id, session=session, payment_method=payment_method, address=address
        )
        phase_limits_check(flow=flow, total=preview["total"], currency=preview["currency"])
        flow.preview = preview
        flow.preview_hash = preview_hash(preview)
        flow.total_amount = preview["total"]
        flow.currency = preview["currency"]
        flow.payment_method = payment_method
        flow.shipping_address = address
        flow_transition(
            flow,
            FlowStatus.PREVIEWED,
            actor_type=ActorType.AGENT,
            data={"preview_hash": flow.preview_hash},
            extra_fields=("preview", "preview_hash", "total_amount", "currency", "payment_method", "shipping_address"),
        )
    return flow


PREVIEW_FIELDS = ("preview", "preview_hash", "total_amount", "currency", "payment_method", "shipping_address")


def _flow_preview_update(
    *, flow: OrderFlow, session: CheckoutSession, payment_method: PaymentMethod, address: Address
) -> OrderFlow | None:
    """`flow_preview` for a flow still draft or previewed with this session: one UPDATE that locks the row,
    checks it and writes the preview, with its audit event in the same transaction. None (nothing written) when
    the flow is anything else, or the rollout refuses the preview (the kill switch, the phase's limits): the
    caller refuses it under the lock, in the order the checks come there."""
    if session.id != flow.checkout_session_id or rollout_state().kill_switch:
        return None
    preview = preview_build(
        merchant_id=flow.merchant_id, session=session, payment_method=payment_method, address=address
    )
    # The flow's phase, arm, merchant and conversation never change: the caller's read serves.
    try:
        phase_limits_check(flow=flow, total=preview["total"], currency=preview["currency"])
    except RolloutCeilingExceeded:
        return None
    draft = OrderFlow(
        pk=flow.pk,
        status=FlowStatus.PREVIEWED,
        preview=preview,
        preview_hash=preview_hash(preview),
        total_amount=preview["total"],
        currency=preview["currency"],
        payment_method=payment_method,
        shipping_address=address,
    )
    meta = OrderFlow._meta
    quote = connection.ops.quote_name
    assignments, params = [], []
    for name in ("status", "updated_at", *PREVIEW_FIELDS):
        field = meta.get_field(name)
        assignments.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(field.pre_save(draft, False), connection))
    table = quote(meta.db_table)
    # The statuses the locked path accepts (and FLOW_TRANSITIONS allows to become previewed).
    previewable = [str(FlowStatus.DRAFT), str(FlowStatus.PREVIEWED)]
    # Only our own table and column names are interpolated; values are parameters.
    columns = ", ".join(f"f.{quote(field.column)}" for field in meta.concrete_fields)
    lock = f"SELECT id, status FROM {table} WHERE id = %s AND customer_id = %s FOR UPDATE"  # noqa: S608
    update = f"UPDATE {table} f SET {', '.join(assignments)} FROM ({lock}) previous"  # noqa: S608
    sql = (
        f"{update} WHERE f.id = previous.id AND previous.status = ANY(%s) AND f.checkout_session_id = %s "
        f"RETURNING previous.status, {columns}"
    )
    params += [flow.pk, flow.customer_id, previewable, session.id]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None  # nothing was written: the transaction is empty
        previous, updated = row[0], model_from_row(OrderFlow, row[1:])
        audit_record(
            action=f"flow.{FlowStatus.PREVIEWED}",
            actor_type=ActorType.AGENT,
            customer_id=updated.customer_id,
            target_type="flow",
            target_id=updated.pk,
            data={
                "from": previous,
                "total": updated.total_amount,
                "currency": updated.currency,
                "preview_hash": updated.preview_hash,
            },
        )
    logger.info(
        "flow %s -> %s",
        previous,
        FlowStatus.PREVIEWED,
        extra={"flow_id": str(updated.pk), "from": previous, "to": FlowStatus.PREVIEWED},
    )
    # As the locked path leaves them: the card and address objects it previewed with.
    updated.payment_method = payment_method
    updated.shipping_address = address
    return updated


def model_from_row(model: type, row: Any) -> Any:
    """An instance of `model` from a row of its concrete columns in order, as the ORM would load it."""
    fields = model._meta.concrete_fields
    values = []
    for field, value in zip(fields, row, strict=True):
        for converter in field.get_db_converters(connection):
            value = converter(value, None, connection)
        values.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], values)


def _usable(record: PaymentMethod | Address | None, *, pk: int, customer_id: int) -> bool:
    return record is not None and record.pk == pk and record.user_id == customer_id and record.removed_at is None


def flow_confirm(
    *,
    flow_id: object,
    customer_id: int,
    preview_hash: str,
    channel: ConfirmationChannel | str = ConfirmationChannel.BUTTON,
    origin: Origin | None = None,
) -> OrderFlow:
    """Bind the customer's confirmation to the exact preview they saw, and start placing.

    Posting the same confirmation again (a double click, a retried request) returns the flow as it
    is: the first confirmation already started the one placement. A hash that is not the current
    preview raises StalePreview and changes nothing.
    """
    with transaction.atomic():
        pk = uuid_or_none(flow_id)
        flow = (
            _flow_confirm_previewed(
                match={"id": pk}, customer_id=customer_id, preview_hash=preview_hash, channel=channel, origin=origin
            )
            if pk
            else None
        )
        if flow is None:
            flow = _locked_flow(flow_id=flow_id, customer_id=customer_id)
            _flow_confirm_locked(
                flow, customer_id=customer_id, preview_hash=preview_hash, channel=channel, origin=origin
            )
    return flow


# What a confirmation writes on the flow (with `confirmations` + 1): a new placement round from its first step.
def _confirmation_changes(*, preview_hash: str, channel: ConfirmationChannel | str) -> dict[str, object]:
    return {
        "confirmed_hash": preview_hash,
        "confirmed_at": timezone.now(),
        "confirmed_via": str(channel),
        "next_step": FIRST_STEP,
        "step_lease_until": None,
        "failure_code": "",
        "failure_detail": "",
        "risk_approved_by": "",
    }


def _flow_confirm_previewed(
    *,
    match: dict[str, object],
    customer_id: int,
    preview_hash: str,
    channel: ConfirmationChannel | str,
    origin: Origin | None,
) -> OrderFlow | None:
    """The usual confirmation in one round trip, in the caller's transaction: the customer's previewed flow
    with this preview hash is confirmed by a conditional `UPDATE … RETURNING`, which also locks the row and
    reads it. The checks run after it under that lock, and a refusal raises and rolls the update back
    with the caller's transaction, so the outcome is the locked read's. None when no such flow matched
    (already confirmed, stale, another customer's…): the caller locks the flow and says why."""
    if not preview_hash:
        return None
    # The guard repeats the customer and the hash: PostgreSQL re-evaluates only the outer conditions on a row
    # that another transaction changed while this one waited for its lock (the sub-select keeps what it saw
    # when the statement began), so a preview replaced meanwhile must fail them here, not be confirmed.
    flow = _flow_update_returning(
        match={**match, "customer": customer_id, "preview_hash": preview_hash},
        guard={"status": FlowStatus.PREVIEWED.value, "customer": customer_id, "preview_hash": preview_hash},
        changes={
            "status": FlowStatus.CONFIRMED.value,
            **_confirmation_changes(preview_hash=preview_hash, channel=channel),
            "updated_at": timezone.now(),
        },
        increment="confirmations",
    )
    if flow is None:
        return None
    _confirmation_checks(flow, customer_id=customer_id, channel=channel)
    _confirmation_recorded(flow, previous=FlowStatus.PREVIEWED, customer_id=customer_id, channel=channel, origin=origin)
    return flow


def _flow_update_returning(
    *, match: dict[str, object], guard: dict[str, object], changes: dict[str, object], increment: str
) -> OrderFlow | None:
    """`UPDATE … RETURNING *` of the newest flow that `match`es, if it also passes `guard` (Django's `update()`
    returns only a count). Only the guard is evaluated again on the locked row (of two racing calls one wins):
    every condition that must still hold after waiting for the lock belongs in it, not only in `match`."""
    options = OrderFlow._meta
    quote = connection.ops.quote_name
    table, pk = quote(options.db_table), quote(options.pk.column)

    def conditions(fields: dict[str, object]) -> tuple[list[str], list[object]]:
        sql, values = [], []
        for name, value in fields.items():
            field = options.get_field(name)
            sql.append(f"{quote(field.column)} = %s")
            values.append(field.get_db_prep_value(value, connection, prepared=False))
        return sql, values

    assignments, params = [], []
    for name, value in changes.items():
        field = options.get_field(name)
        assignments.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    column = quote(options.get_field(increment).column)
    assignments.append(f"{column} = {column} + 1")
    matched, match_params = conditions(match)
    guarded, guard_params = conditions(guard)
    created = quote(options.get_field("created_at").column)
    # Identifiers and fixed fragments only are formatted in; every value is a parameter.
    sql = (
        f"UPDATE {table} SET {', '.join(assignments)} WHERE {pk} = ("  # noqa: S608
        f"SELECT {pk} FROM {table} WHERE {' AND '.join(matched)} ORDER BY {created} DESC LIMIT 1"
        f") AND {' AND '.join(guarded)} RETURNING *"
    )
    return next(iter(OrderFlow.objects.raw(sql, [*params, *match_params, *guard_params])), None)


def _confirmation_checks(flow: OrderFlow, *, customer_id: int, channel: ConfirmationChannel | str) -> None:
    """What a previewed flow with the right hash must still pass to be confirmed: raises the refusal."""
    # The kill switch first: while it is on, no confirmation starts a placement (those already placing finish).
    orders_paused_check()
    expires_at = flow.preview.get("expires_at")
    if expires_at and datetime.fromisoformat(expires_at) <= timezone.now():
        raise PreviewExpired("That preview expired; ask for a fresh one.", flow_id=str(flow.pk))
    phase_limits_check(flow=flow, total=flow.total_amount, currency=flow.currency or "usd")
    # The customer's own limits are checked before anything starts, so a confirmation that could never
    # be placed is refused with what stands in the way (which grant, which cap and what is left); the
    # saga checks again, atomically, when it reserves.
    profile = order_placement_check(
        user_id=customer_id,
        amount=flow.total_amount or 0,
        currency=flow.currency or "usd",
        chat_session_reference=str(flow.conversation_id),
    )
    if channel == ConfirmationChannel.AUTO_CHECKOUT:
        threshold = auto_checkout_threshold_of(profile=profile)
        if not (flow.total_amount is not None and flow.total_amount < threshold):
            raise AutoCheckoutNotAllowed(
                "This order is not under your auto-checkout amount, so it needs your confirmation.",
                flow_id=str(flow.pk),
            )


def _confirmation_recorded(
    flow: OrderFlow,
    *,
    previous: str,
    customer_id: int,
    channel: ConfirmationChannel | str,
    origin: Origin | None,
) -> None:
    """The audit event of a confirmation already written on the flow (as `_transition` writes it); the saga starts."""
    audit_record(
        action=f"flow.{FlowStatus.CONFIRMED}",
        actor_type=ActorType.CUSTOMER if channel != ConfirmationChannel.AUTO_CHECKOUT else ActorType.AGENT,
        actor_id=customer_id,
        customer_id=flow.customer_id,
        target_type="flow",
        target_id=flow.pk,
        outcome=Outcome.OK,
        origin=origin,
        data={
            "from": previous,
            "total": flow.total_amount,
            "currency": flow.currency,
            "preview_hash": flow.confirmed_hash,
            "channel": channel,
            "round": flow.confirmations,
        },
    )
    logger.info(
        "flow %s -> %s",
        previous,
        FlowStatus.CONFIRMED,
        extra={"flow_id": str(flow.pk), "from": previous, "to": FlowStatus.CONFIRMED},
    )
    flow_advance_on_commit(flow.pk)


def _flow_confirm_locked(
    flow: OrderFlow,
    *,
    customer_id: int,
    preview_hash: str,
    channel: ConfirmationChannel | str = ConfirmationChannel.BUTTON,
    origin: Origin | None = None,
) -> bool:
    """`flow_confirm` on a flow the caller locked, in the caller's transaction: True when this call confirmed
    it, False for a duplicate of the confirmation that started this round; refusals raise."""
    if flow.status != FlowStatus.PREVIEWED:
        if flow.confirmed_hash and flow.confirmed_hash == preview_hash:
            return False  # a duplicate of the confirmation that started this round
        from ordering.holds import flow_released_refusal

        # A preview whose stock hold was released says so (and how to get a fresh one), not just "expired".
        flow_released_refusal(flow, customer_id=customer_id)
        raise FlowNotConfirmable(
            f"This order is {flow.get_status_display().lower()} and cannot be confirmed.",
            flow_id=str(flow.pk),
            status=flow.status,
        )
    if preview_hash != flow.preview_hash:
        raise StalePreview(
            "That preview is out of date; please review the latest one.",
            flow_id=str(flow.pk),
            current_preview_hash=flow.preview_hash,
        )
    _confirmation_checks(flow, customer_id=customer_id, channel=channel)
    for name, value in _confirmation_changes(preview_hash=preview_hash, channel=channel).items():
        setattr(flow, name, value)
    flow.confirmations += 1
    flow_transition(
        flow,
        FlowStatus.CONFIRMED,
        actor_type=ActorType.CUSTOMER if channel != ConfirmationChannel.AUTO_CHECKOUT else ActorType.AGENT,
        actor_id=customer_id,
        origin=origin,
        data={"preview_hash": preview_hash, "channel": channel, "round": flow.confirmations},
        extra_fields=(
            "confirmed_hash",
            "confirmed_at",
            "confirmed_via",
            "confirmations",
            "next_step",
            "step_lease_until",
            "failure_code",
            "failure_detail",
            "risk_approved_by",
        ),
    )
    flow_advance_on_commit(flow.pk)
    return True


def flow_decline(*, flow_id: object, customer_id: int, origin: Origin | None = None) -> OrderFlow:
    """The customer said no to the preview: nothing is placed and the merchant session is released."""
    return flow_cancel(
        flow_id=flow_id,
        customer_id=customer_id,
        actor_type=ActorType.CUSTOMER,
        actor_id=customer_id,
        reason="declined",
        origin=origin,
    )


def flow_cancel(
    *,
    flow_id: object,
    actor_type: ActorType | str,
    reason: str,
    customer_id: int | None = None,
    actor_id: object = None,
    origin: Origin | None = None,
) -> OrderFlow:
    """Stop a flow that has not been placed and undo its partial work (in the background)."""
    with transaction.atomic():
        flow = _locked_flow(flow_id=flow_id, customer_id=customer_id)
        if flow.status in (FlowStatus.CANCELED, FlowStatus.EXPIRED):
            return flow  # already stopped (an expired cart's hold was released with it: ordering/holds.py)
        if flow.status == FlowStatus.PLACING:
            # A step is talking to the merchant right now; the saga re-checks consent before every
            # foreign mutation, and a revoked grant stops it there.
            raise FlowNotConfirmable(
                "This order is being placed right now and cannot be canceled.", flow_id=str(flow.pk)
            )
        flow.failure_code = reason[:64]
        flow.next_step = ""
        flow_transition(
            flow,
            FlowStatus.CANCELED,
            actor_type=actor_type,
            actor_id=actor_id,
            origin=origin,
            data={"reason": reason},
            extra_fields=("failure_code", "next_step"),
        )
        undo = flow.compensations.filter(status__in=(CompensationStatus.PENDING, CompensationStatus.FAILED))
        if undo.exists():
            undo.filter(status=CompensationStatus.FAILED).update(
                status=CompensationStatus.PENDING, attempts=0, retry_at=None, failing_since=None, gave_up_at=None
            )
            flow_compensate_on_commit(flow.pk)
    return flow


def flow_order_cancel(*, flow_id: object, customer_id: int) -> str:
    """Ask the merchant to cancel a placed order at the customer's explicit request; returns the shop's status.

    The customer confirmed this cancellation in words (`ordering.agent.policy`). No lock is held across
    the merchant call; the operation id is stable, so a retry replays at the merchant instead of
    cancelling twice. Refund and spend adjustments follow the merchant's order events.
    """
    from catalog_adapters.errors import MerchantError
    from catalog_adapters.registry import get_merchant

    flow = OrderFlow.objects.filter(pk=flow_id, customer_id=customer_id).first()
    if flow is None or flow.status != FlowStatus.PLACED or not flow.merchant_order_id:
        raise FlowNotConfirmable("Only an order that is placed with the shop can be canceled there.")

    def record(outcome: str, **data: object) -> None:
        audit_record(
            action="flow.order_cancel_requested",
            actor_type=ActorType.CUSTOMER,
            actor_id=customer_id,
            customer_id=customer_id,
            target_type="flow",
            target_id=flow.pk,
            outcome=outcome,
            data={"merchant_order_id": flow.merchant_order_id, **data},
        )

    try:
        order = get_merchant(flow.merchant_id).orders.cancel(
            order_id=flow.merchant_order_id, operation_id=f"flow:{flow.pk}:customer-cancel"
        )
    except MerchantError as error:
        record(Outcome.FAILED, error_class=error.error_class)
        raise
    record(Outcome.OK, merchant_status=order.status)
    return order.status


def flows_halt_for_customer(*, customer_id: int, reason: str) -> list[str]:
    """Stop every flow of the customer that is not placed yet (consent revoked). Returns the flow ids stopped."""
    stopped = []
    candidates = OrderFlow.objects.filter(customer_id=customer_id, status__in=NOT_YET_PLACED_STATUSES).exclude(
        status=FlowStatus.PLACING
    )
    for flow_id in candidates.values_list("pk", flat=True):
        try:
            flow_cancel(flow_id=flow_id, actor_type=ActorType.SYSTEM, reason=reason)
        except (FlowNotConfirmable, InvalidFlowTransition):
            continue  # it moved on meanwhile; the saga's own consent checks stop it
        stopped.append(str(flow_id))
    return stopped


def flow_resume_after_step_up(*, flow_id: object, customer_id: int) -> OrderFlow:
    """The customer verified with their authenticator: carry on placing the flow that waited for it."""
    with transaction.atomic():
        flow = _locked_flow(flow_id=flow_id, customer_id=customer_id)
        if flow.status != FlowStatus.REQUIRES_ACTION or flow.waiting_for != WaitingFor.STEP_UP:
            raise FlowNotConfirmable("This order is not waiting for a verification code.", flow_id=str(flow.pk))
        if not stepup_verified_within(user_id=customer_id):
            raise FlowNotConfirmable("Please verify with your authenticator code first.", flow_id=str(flow.pk))
        flow.next_step = "score_risk"
        flow.failure_detail = ""
        flow_transition(
            flow,
            FlowStatus.PLACING,
            actor_type=ActorType.CUSTOMER,
            actor_id=customer_id,
            data={"resumed_after": "step_up"},
            extra_fields=("next_step", "failure_detail"),
        )
        flow_advance_on_commit(flow.pk)
    return flow


# -- the conversation API ------------------------------------------------------------------------

GREETING = (
    "Hi! I'm an ordering assistant acting for you at the shop: I can find products, build your cart and "
    "place orders for you, always after showing you a preview priced by the shop. What would you like?"
)


def conversation_open(
    *, customer_id: int, is_staff: bool | None = None, assignment: Assignment | None = None
) -> Conversation:
    """A new conversation with the assistant's greeting (which says whom it acts for)."""
    with transaction.atomic():
        conversation = conversation_start(customer_id=customer_id, is_staff=is_staff, assignment=assignment)
        conversation_post(
            conversation_id=conversation.pk, role=MessageRole.ASSISTANT, text=GREETING, data={"kind": "greeting"}
        )
    return conversation


TURN_FAILED_TEXT = (
    "Sorry, I couldn't finish answering that in time, so I stopped. Nothing from that message is left half "
    "done: any cart change I had started is undone. Please send it again."
)
# A turn that fails drops its cart at the shop (if the turn touched it) and starts the next cart version
# well past any the lost turn may have sent, so no operation id is ever reused with another cart.
CART_VERSION_SKIP_AFTER_FAILURE = 50


def turn_claim(
    *, conversation: Conversation, idempotency_key: str, text: str, command: dict | None
) -> tuple[ConversationTurn, bool]:
    """Commit the turn (queued) with the customer's message before any work: (the turn, True) to run it, or
    (the earlier turn with this Idempotency-Key, False) to answer it again, whatever its status.

    The earlier turn answers only a repeat of its own request (the same text and command, as the sandbox
    merchant compares request bodies): the same key with another message is IdempotencyConflict, never the
    first message's turn in place of the second one."""
    from ordering.agent.errors import TurnInProgress

    for _ in range(2):
        try:
            _, record = _turn_insert(
                conversation_id=conversation.pk,
                customer_id=conversation.customer_id,
                idempotency_key=idempotency_key,
                text=text,
                command=command,
            )
            if record is not None:
                return record, True
        except IntegrityError:
            pass
        if idempotency_key:
            earlier = ConversationTurn.objects.filter(
                conversation=conversation, idempotency_key=idempotency_key
            ).first()
            if earlier is not None:
                if not _turn_repeats(earlier, text=text, command=command):
                    raise IdempotencyConflict(
                        "This Idempotency-Key was already used for a different message. Send a new message with a "
                        "new key; repeat a key only to retry exactly the same message.",
                        turn_id=earlier.pk,
                    )
                return earlier, False
        # A turn left queued or running far too long was lost with its process; it is failed (with an
        # apology) and the new message may go ahead.
        if not turns_abandon(conversation_id=conversation.pk):
            break
    raise TurnInProgress("I'm still answering your previous message; send this one in a moment.", retry_after_seconds=1)


def insert_select(obj: Any, *, computed: dict[str, str]) -> tuple[str, str, list[Any]]:
    """The column list, the SELECT list and its parameters that insert `obj` as `Model.objects.create` would
    (defaults and `auto_now_add` included), with the columns in `computed` taken from SQL instead."""
    columns, values, params = [], [], []
    # The connection itself, not the `connection` proxy: each of its attributes read through the proxy is a
    # thread-local lookup, and a turn's inserts read them hundreds of times.
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    for field in obj._meta.concrete_fields:
        if field.primary_key and field.db_returning:
            continue  # a serial id: the database's
        columns.append(quote(field.column))
        if field.attname in computed:
            values.append(computed[field.attname])
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(obj, True), db))
    return ", ".join(columns), ", ".join(values), params


def mark_saved(obj: Any, pk: Any) -> Any:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


def _turn_insert(
    *, conversation_id: object, customer_id: int, idempotency_key: str, text: str, command: dict | None
) -> tuple[Conversation | None, ConversationTurn | None]:
    """The customer's conversation and, committed with the customer's message, a new queued turn: one statement
    on PostgreSQL (the conversation read, both inserts). (None, None) when the customer has no such conversation;
    raises IntegrityError when the conversation already has a turn queued or running, or one with this key."""
    pk = uuid_or_none(conversation_id)
    if pk is None:
        return None, None
    turn = ConversationTurn(conversation_id=pk, idempotency_key=idempotency_key, command=command)
    message = Message(conversation_id=pk, role=MessageRole.CUSTOMER, text=text, data={})

    def one_statement() -> tuple[Conversation | None, ConversationTurn | None]:
        turn_columns, turn_values, turn_params = insert_select(turn, computed={"conversation_id": "c.id"})
        message_columns, message_values, message_params = insert_select(message, computed={"turn_id": "t.id"})
        fields = Conversation._meta.concrete_fields
        quote = connection.ops.quote_name
        # Only our own table and column names are interpolated; values are parameters.
        conversation_table, turn_table = quote(Conversation._meta.db_table), quote(ConversationTurn._meta.db_table)
        read = f"SELECT {', '.join(quote(f.column) for f in fields)} FROM {conversation_table}"  # noqa: S608
        insert_turn = f"INSERT INTO {turn_table} ({turn_columns}) SELECT {turn_values} FROM c"  # noqa: S608
        message_table = quote(Message._meta.db_table)
        insert_message = f"INSERT INTO {message_table} ({message_columns}) SELECT {message_values} FROM t"  # noqa: S608
        sql = (
            f"WITH c AS ({read} WHERE id = %s AND customer_id = %s), t AS ({insert_turn} RETURNING id), "  # noqa: S608
            f"m AS ({insert_message} RETURNING id) SELECT c.*, (SELECT id FROM t), (SELECT id FROM m) FROM c"
        )
        # A failure inside a caller's transaction must not spoil it: a savepoint there (none needed in autocommit).
        savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        with savepoint, connection.cursor() as cursor:
            cursor.execute(sql, [pk, customer_id, *turn_params, *message_params])
            row = cursor.fetchone()
        if row is None:
            return None, None
        conversation = model_from_row(Conversation, row[: len(fields)])
        turn_id, message_id = row[len(fields)], row[len(fields) + 1]
        record = mark_saved(turn, turn_id)
        record.conversation = conversation
        message.turn_id = turn_id
        mark_saved(message, message_id)
        # The answer to the POST lists the turn's messages: this one, as written (`selectors.turn_messages`).
        record._prefetched_objects_cache = {"messages": [message]}
        return conversation, record

    def orm() -> tuple[Conversation | None, ConversationTurn | None]:
        conversation = Conversation.objects.filter(pk=pk, customer_id=customer_id).first()
        if conversation is None:
            return None, None
        turn.conversation = conversation
        with transaction.atomic():
            turn.save(force_insert=True)
            message.turn = turn
            message.save(force_insert=True)
        turn._prefetched_objects_cache = {"messages": [message]}
        return conversation, turn

    return postgresql_or_orm(postgresql=one_statement, orm=orm)


def _turn_repeats(turn: ConversationTurn, *, text: str, command: dict | None) -> bool:
    """Whether a post is the same request as the one that made `turn`: its customer message and command."""
    customer_messages = Message.objects.filter(turn=turn, role=MessageRole.CUSTOMER).order_by("id")
    asked = customer_messages.values_list("text", flat=True).first()
    return asked == text and (turn.command or None) == (command or None)


def conversation_message_post(
    *, conversation_id: object, customer_id: int, text: str, idempotency_key: str = "", command: dict | None = None
) -> tuple[ConversationTurn, bool]:
    """Record the customer's message and its turn (queued), and have it run: by a worker on the turn queue
    once the claim commits, or right here in synchronous mode (ORDERING_TURNS_INLINE).

    Returns (the turn, replayed). A retried post with the same Idempotency-Key returns the first turn,
    whatever its status, and runs nothing new (a turn still queued after a few seconds has its task sent
    again: the first may have been lost with the broker); a post while another turn of the conversation is queued or
    running is refused (TurnInProgress).
    """
    from django.conf import settings

    from audit.redaction import redact_text
    from ordering.agent.errors import ConversationNotFound
    from ordering.selectors import conversation_get

    idempotency_key = idempotency_key[:255]
    # A card number or security code typed into the chat is never kept (nor sent to a model): it goes before the
    # message is written; the assistant says so (policy, "card_number_in_chat").
    text = redact_text(text)
    try:
        # The usual case in one statement: the conversation read, the turn and the message written.
        conversation, record = _turn_insert(
            conversation_id=conversation_id,
            customer_id=customer_id,
            idempotency_key=idempotency_key,
            text=text,
            command=command,
        )
    except IntegrityError:
        # A turn is queued or running, or this key was used: `turn_claim` says which, and what to answer.
        conversation = conversation_get(customer_id=customer_id, conversation_id=conversation_id)
        record, fresh = turn_claim(
            conversation=conversation, idempotency_key=idempotency_key, text=text, command=command
        )
    else:
        if conversation is None or record is None:
            raise ConversationNotFound("No such conversation.", conversation_id=str(conversation_id))
        fresh = True
    if not fresh:
        if record.status == TurnStatus.QUEUED and record.started_at < timezone.now() - timedelta(
            seconds=settings.ORDERING_TURN_REPLAY_REQUEUE_AFTER_SECONDS
        ):
            # The client sent the same request again (the widget does after a 503) and its turn is still
            # queued: its task may never have reached the broker (down at the time). Send it again rather
            # than wait for the sweep; a duplicate delivery finds the turn taken and does nothing.
            if settings.ORDERING_TURNS_INLINE:
                turn_execute(turn_id=record.pk, conversation=conversation)
                record.refresh_from_db()
            else:
                turn_enqueue(turn_id=record.pk)
        return record, True
    finished: dict[int, ConversationTurn] = {}
    token = _turns_finished_here.set(finished)
    try:
        if settings.ORDERING_TURNS_INLINE:
            turn_execute(turn_id=record.pk, conversation=conversation)
            ran = True
        else:
            ran = bool(turn_enqueue(turn_id=record.pk))
    finally:
        _turns_finished_here.reset(token)
    if ran:
        # The turn ran in this very process (the synchronous mode, or Celery eager: tests, the benchmark): answer
        # it as it ended rather than a queued turn that has in fact finished; as it is in memory when it ended
        # done, else read back.
        record = finished.get(record.pk) or _turn_reread(record)
    return record, False


# The turns that ran in this thread while a message POST waited for them (`conversation_message_post`): each
# as it ended done, with its messages, so the POST answers it without reading it back. None outside a POST.
_turns_finished_here: ContextVar[dict[int, ConversationTurn] | None] = ContextVar("turns_finished_here", default=None)


def _turn_finished_here(record: ConversationTurn, messages: list[Message]) -> None:
    """Hand a turn that ended done, and its messages as written, to the message POST waiting for it, if any."""
    finished = _turns_finished_here.get()
    if finished is not None:
        record._prefetched_objects_cache = {"messages": messages}
        finished[record.pk] = record


def _turn_reread(record: ConversationTurn) -> ConversationTurn:
    """The turn as it stands now with its messages (for `selectors.turn_messages`), in one read."""
    messages = list(Message.objects.select_related("turn").filter(turn_id=record.pk).order_by("id"))
    if not messages:
        record.refresh_from_db()
        return record
    fresh = messages[0].turn
    for message in messages:
        message.turn = fresh
    fresh._prefetched_objects_cache = {"messages": messages}
    return fresh


def turn_enqueue(*, turn_id: int) -> list[bool]:
    """Send the turn to the workers on the turn queue (after the surrounding transaction commits, if any).

    Returns a list that holds True once the task has run in this process (Celery eager mode)."""
    from celery.result import EagerResult
    from django.conf import settings

    from ordering import tasks

    deadline = settings.ORDERING_TURN_DEADLINE_SECONDS
    ran: list[bool] = []

    def send() -> None:
        result = tasks.turn_run.apply_async(
            args=[turn_id],
            queue=settings.ORDERING_TURN_QUEUE,
            # Past its deadline the turn stops by itself; these limits only catch a turn stuck in a
            # place that never checks it (the soft one still ends it as failed, with the apology).
            soft_time_limit=deadline + 15,
            time_limit=deadline + 30,
        )
        if isinstance(result, EagerResult):
            ran.append(True)

    transaction.on_commit(send)
    return ran


def turn_execute(*, turn_id: int, conversation: Conversation | None = None) -> str:
    """Run one queued turn under its deadline (the turn task, or the synchronous mode); returns its status.

    Safe to run twice: only a queued turn is taken (queued -> running under a row lock), so a duplicate
    or redelivered task finds nothing to do. Past the deadline (ORDERING_TURN_DEADLINE_SECONDS) the turn
    stops before its next step and ends failed with an apology (`_turn_fail`).
    """
    from django.conf import settings

    from config.deadline import DeadlineExceeded, deadline_scope
    from ordering.agent.pipeline import turn_run
    from ordering.selectors import pending_confirmation

    merchant_id = settings.DEFAULT_MERCHANT_ID
    taken, record, question, saved = _turn_take(turn_id=turn_id, merchant_id=merchant_id)
    if not taken or record is None:
        return record.status if record is not None else "missing"
    if conversation is None or conversation.pk != record.conversation_id or not _customer_loaded(conversation):
        conversation = record.conversation
    # The pipeline's own first test: a conversation with a specialist gets no answer from the assistant.
    with_specialist = conversation.status == ConversationStatus.ESCALATED
    try:
        with deadline_scope(settings.ORDERING_TURN_DEADLINE_SECONDS):
            turn = turn_run(
                conversation=conversation,
                record=record,
                text=question.text if question else "",
                command=record.command,
                saved=saved,
                write_state=False,
            )
        if with_specialist and question is not None:
            _sent_to_specialist(question)
        said = [*([question.pk] if question else []), *(message.pk for message in turn.messages_said())]
        record.planner = turn.planner_name[:32]
        record.response = {
            "message_ids": said,
            "pending_confirmation": pending_confirmation(
                conversation=conversation, flow=turn.cart_flow(), said=turn.messages_said()
            ),
        }
        record.status = TurnStatus.DONE
        record.finished_at = timezone.now()
        _turn_done(record=record, conversation=conversation if turn.state_changed else None)
        _turn_finished_here(record, [*([question] if question else []), *turn.messages_said()])
    except (Exception, DeadlineExceeded) as error:
        if not isinstance(error, DeadlineExceeded):
            logger.exception(
                "turn failed", extra={"conversation_id": str(record.conversation_id), "turn_id": record.pk}
            )
        _turn_fail(record=record, reason=type(error).__name__)
    agent_metrics.turn_seconds.labels(planner=record.planner or "none").observe(
        ((record.finished_at or timezone.now()) - record.started_at).total_seconds()
    )
    return record.status


def _sent_to_specialist(message: Message) -> None:
    """Mark a customer's message written while a specialist has the conversation (the assistant stays silent on it):
    the API answers it with `delivered_to: "specialist"`, so the widget says "Sent to the specialist" under it instead
    of leaving the customer to wonder whether it arrived; the console marks it for the specialist too."""
    message.data = {**(message.data or {}), "delivered_to": "specialist"}
    Message.objects.filter(pk=message.pk).update(data=message.data)


def _updates(obj: Any, names: tuple[str, ...]) -> tuple[str, list[Any]]:
    """The SET list and its parameters that `obj.save(update_fields=names)` would write."""
    assignments, params = [], []
    for name in names:
        field = obj._meta.get_field(name)
        assignments.append(f"{connection.ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(field.pre_save(obj, False), connection))
    return ", ".join(assignments), params


TURN_END_FIELDS = ("planner", "response", "status", "finished_at")


def _turn_done(*, record: ConversationTurn, conversation: Conversation | None) -> None:
    """End the turn as done and, when given, write the conversation's state: one statement on PostgreSQL."""
    if conversation is None:
        record.save(update_fields=list(TURN_END_FIELDS))
        return

    def one_statement() -> None:
        quote = connection.ops.quote_name
        state_set, state_params = _updates(conversation, ("agent_state", "updated_at"))
        turn_set, turn_params = _updates(record, TURN_END_FIELDS)
        # Only our own table and column names are interpolated; values are parameters.
        state = f"UPDATE {quote(Conversation._meta.db_table)} SET {state_set} WHERE id = %s"  # noqa: S608
        end = f"UPDATE {quote(ConversationTurn._meta.db_table)} SET {turn_set} WHERE id = %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(f"WITH state AS ({state}) {end}", [*state_params, conversation.pk, *turn_params, record.pk])

    def orm() -> None:
        # Two statements, no transaction (as before the single one): a crash between them leaves the turn
        # running with its state written, which the sweep ends as failed (`turns_sweep`).
        conversation.save(update_fields=["agent_state", "updated_at"])
        record.save(update_fields=list(TURN_END_FIELDS))

    postgresql_or_orm(postgresql=one_statement, orm=orm)


def _turn_take(
    *, turn_id: int, merchant_id: str
) -> tuple[bool, ConversationTurn | None, Message | None, SavedDetails | None]:
    """Take a queued turn and read what it needs: (taken, the turn with its conversation and customer, the
    customer's message, the customer's saved cards, addresses and account at `merchant_id` when taken). One
    statement on PostgreSQL.

    Taken with a conditional UPDATE (queued -> running): of two deliveries of the task, one runs it."""
    now = timezone.now()

    def one_statement() -> tuple[bool, ConversationTurn | None, Message | None, SavedDetails | None]:
        user_model = get_user_model()
        quote = connection.ops.quote_name
        parts = [(ConversationTurn, "t"), (Conversation, "c"), (user_model, "u"), (Message, "m")]
        columns = ", ".join(f"{alias}.{quote(f.column)}" for model, alias in parts for f in model._meta.concrete_fields)
        turn_table, message_table = quote(ConversationTurn._meta.db_table), quote(Message._meta.db_table)
        conversation_table, user_table = quote(Conversation._meta.db_table), quote(user_model._meta.db_table)
        # Only our own table and column names are interpolated; values are parameters.
        take = f"UPDATE {turn_table} SET status = %s, started_at = %s WHERE id = %s AND status = %s RETURNING id"  # noqa: S608
        question = f"SELECT * FROM {message_table} WHERE turn_id = t.id AND role = %s ORDER BY id LIMIT 1"  # noqa: S608
        saved = saved_details_sql(user_column="c.customer_id", limit=SAVED_PER_TURN)
        sql = (
            f"WITH taken AS ({take}) SELECT EXISTS (SELECT 1 FROM taken), {columns}, {saved} "  # noqa: S608
            f"FROM {turn_table} t JOIN {conversation_table} c ON c.id = t.conversation_id "
            f"JOIN {user_table} u ON u.id = c.customer_id LEFT JOIN LATERAL ({question}) m ON true WHERE t.id = %s"
        )
        # In the order they appear: the UPDATE's, the saved details' merchant, the message's role, the turn.
        params = [TurnStatus.RUNNING, now, turn_id, TurnStatus.QUEUED, merchant_id, MessageRole.CUSTOMER, turn_id]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return False, None, None, None
        taken, row = bool(row[0]), row[1:]
        instances = []
        for model, _ in parts:
            width = len(model._meta.concrete_fields)
            instances.append(model_from_row(model, row[:width]) if row[0] is not None else None)
            row = row[width:]
        record, conversation, customer, question_row = instances
        conversation.customer = customer
        record.conversation = conversation
        if question_row is not None:
            question_row.turn = record
        if not taken:
            return False, record, question_row, None
        # The read beside the UPDATE saw the row as it was before it: set running here as it was there.
        record.status, record.started_at = TurnStatus.RUNNING, now
        return True, record, question_row, saved_details_parse(row[0], merchant_id=merchant_id)

    def orm() -> tuple[bool, ConversationTurn | None, Message | None, SavedDetails | None]:
        taken = ConversationTurn.objects.filter(pk=turn_id, status=TurnStatus.QUEUED).update(
            status=TurnStatus.RUNNING, started_at=now
        )
        question = (
            Message.objects.select_related("turn__conversation__customer")
            .filter(turn_id=turn_id, role=MessageRole.CUSTOMER)
            .order_by("id")
            .first()
        )
        record = (
            question.turn
            if question is not None
            else ConversationTurn.objects.select_related("conversation__customer").filter(pk=turn_id).first()
        )
        if record is None:
            return False, None, None, None
        if not taken:
            return False, record, question, None
        saved = saved_details_for_customer(
            user_id=record.conversation.customer_id, merchant_id=merchant_id, limit=SAVED_PER_TURN
        )
        return True, record, question, saved

    return postgresql_or_orm(postgresql=one_statement, orm=orm)


def _customer_loaded(conversation: Conversation) -> bool:
    return Conversation.customer.is_cached(conversation)


def _turn_fail(*, record: ConversationTurn, reason: str) -> None:
    """End a turn as failed: undo the cart changes it made that the customer was not shown, apologise once.

    A flow of the conversation still a cart (draft or previewed) and changed since the turn started is
    canceled (its merchant session released by the compensation), and the conversation's cart is reset,
    so neither a half-built cart nor an unseen preview waits for a yes.
    """
    from ordering.agent.state import cart_reset, state_bounded, state_load

    with transaction.atomic():
        record = ConversationTurn.objects.select_for_update().get(pk=record.pk)
        if record.status in (TurnStatus.DONE, TurnStatus.FAILED):
            return
        conversation = Conversation.objects.select_for_update().get(pk=record.conversation_id)
        touched = list(
            conversation.flows.filter(
                status__in=(FlowStatus.DRAFT, FlowStatus.PREVIEWED), updated_at__gte=record.started_at
            ).values_list("pk", flat=True)
        )
        for flow_id in touched:
            try:
                flow_cancel(flow_id=flow_id, actor_type=ActorType.AGENT, reason="turn_failed")
            except (FlowNotConfirmable, InvalidFlowTransition):
                continue
        # The state is saved once, at the end of a turn that finished: the one kept is the state before this
        # turn. Its cart goes if the turn touched the cart's flow; its next cart version skips past any the
        # lost turn may have sent to the shop.
        state = state_load(conversation.agent_state)
        if touched:
            cart_reset(state)
        state["pending"] = None
        state["cart_version"] = int(state.get("cart_version") or 0) + CART_VERSION_SKIP_AFTER_FAILURE
        conversation.agent_state = state_bounded(state)
        conversation.save(update_fields=["agent_state", "updated_at"])
        apology = conversation_post(
            conversation_id=conversation.pk,
            role=MessageRole.ASSISTANT,
            text=TURN_FAILED_TEXT,
            data={"kind": "turn_failed"},
            turn=record,
        )
        said = list(record.messages.order_by("id").values_list("id", flat=True))
        record.status = TurnStatus.FAILED
        record.finished_at = timezone.now()
        record.response = {"message_ids": said, "pending_confirmation": None, "error": reason[:64]}
        record.save(update_fields=["status", "finished_at", "response"])
        audit_record(
            action="conversation.turn_failed",
            actor_type=ActorType.SYSTEM,
            customer_id=conversation.customer_id,
            target_type="conversation",
            target_id=conversation.pk,
            outcome=Outcome.FAILED,
            data={"turn_id": record.pk, "reason": reason[:64], "carts_dropped": len(touched), "message_id": apology.pk},
        )


def turns_abandon(*, conversation_id: object | None = None) -> int:
    """Fail turns lost with their process: queued or running for longer than ORDERING_TURN_GIVE_UP_AFTER_SECONDS.

    Returns how many were failed (each with its apology and its cart changes undone)."""
    from django.conf import settings

    stale_before = timezone.now() - timedelta(seconds=settings.ORDERING_TURN_GIVE_UP_AFTER_SECONDS)
    lost = ConversationTurn.objects.filter(
        status__in=(TurnStatus.QUEUED, TurnStatus.RUNNING), started_at__lt=stale_before
    )
    if conversation_id is not None:
        lost = lost.filter(conversation_id=conversation_id)
    from ordering.turn_wait import turn_ended_notify

    count = 0
    for record in lost:
        _turn_fail(record=record, reason="abandoned")
        # A client long-polling this turn learns it failed now, not when its wait runs out.
        transaction.on_commit(functools.partial(turn_ended_notify, turn_id=record.pk))
        count += 1
    return count


def turns_sweep() -> dict:
    """The beat's sweep: enqueue again a queued turn whose task was lost (a crash between commit and
    enqueue, a purged queue) and fail turns lost for good. A duplicate enqueue is harmless (`turn_execute`)."""
    from django.conf import settings

    abandoned = turns_abandon()
    waiting_since = timezone.now() - timedelta(seconds=settings.ORDERING_TURN_REQUEUE_AFTER_SECONDS)
    requeued = list(
        ConversationTurn.objects.filter(status=TurnStatus.QUEUED, started_at__lt=waiting_since).values_list(
            "pk", flat=True
        )[:500]
    )
    for turn_id in requeued:
        turn_enqueue(turn_id=turn_id)
    return {"requeued": len(requeued), "abandoned": abandoned}


def conversation_decide(
    *, conversation_id: object, customer_id: int, preview_hash: str, decision: str, origin: Origin | None = None
) -> OrderFlow:
    """The Confirm or Cancel button on a preview: bound to the preview's hash (StalePreview otherwise)."""
    from ordering.agent.errors import NothingToConfirm
    from ordering.agent.state import state_load
    from ordering.selectors import conversation_current_flow, conversation_get

    if decision == "confirm":
        return _conversation_confirm(
            conversation_id=conversation_id, customer_id=customer_id, preview_hash=preview_hash, origin=origin
        )
    conversation = conversation_get(customer_id=customer_id, conversation_id=conversation_id)
    flow = conversation.flows.filter(preview_hash=preview_hash).first() if preview_hash else None
    flow = flow or conversation_current_flow(conversation=conversation)
    if flow is None:
        raise NothingToConfirm("There is no order preview to decide on.")
    with transaction.atomic():
        if flow.preview_hash != preview_hash:
            raise StalePreview(
                "That preview is out of date; please review the latest one.",
                flow_id=str(flow.pk),
                current_preview_hash=flow.preview_hash,
            )
        flow = flow_decline(flow_id=flow.pk, customer_id=customer_id, origin=origin)
        state = state_load(conversation.agent_state)
        # The cart's flow, or the one whose hold was released while its lines stayed in the cart.
        if str(flow.pk) in (state.get("flow_id"), (state.get("released") or {}).get("flow_id")):
            state.update(cart=[], flow_id=None, shown_preview_hash="", released=None)
            conversation.agent_state = state
            conversation.save(update_fields=["agent_state", "updated_at"])
        kind = "flow_declined"
        if not conversation.messages.filter(data__kind=kind, data__flow_id=str(flow.pk)).exists():
            conversation_post(
                conversation_id=conversation.pk,
                role=MessageRole.ASSISTANT,
                text="OK, I won't order it. Nothing was charged and the items are released.",
                data={"kind": kind, "flow_id": str(flow.pk), "channel": "button"},
            )
    return flow


def _conversation_confirm(
    *, conversation_id: object, customer_id: int, preview_hash: str, origin: Origin | None
) -> OrderFlow:
    """The Confirm button: the customer's previewed flow in this conversation with this hash is confirmed in
    one statement (`_flow_confirm_previewed`; a flow is its conversation's customer's, so this also proves
    the conversation is theirs); the confirmation message is posted by the call that confirmed, once."""
    from django.db.models import Prefetch, prefetch_related_objects

    from ordering.agent.errors import NothingToConfirm
    from ordering.selectors import conversation_current_flow, conversation_get

    with transaction.atomic():
        pk = uuid_or_none(conversation_id)
        flow = (
            _flow_confirm_previewed(
                match={"conversation": pk},
                customer_id=customer_id,
                preview_hash=preview_hash,
                channel=ConfirmationChannel.BUTTON,
                origin=origin,
            )
            if pk
            else None
        )
        confirmed = flow is not None
        if flow is None:
            # No previewed flow of theirs with that preview: the conversation's own flow answers why (a
            # duplicate, stale, not confirmable), as before; another customer's conversation is not found.
            flow = (
                OrderFlow.objects.select_for_update()
                .filter(conversation_id=pk, customer_id=customer_id, preview_hash=preview_hash)
                .first()
                if pk and preview_hash
                else None
            )
            if flow is None:
                conversation = conversation_get(customer_id=customer_id, conversation_id=conversation_id)
                current = conversation_current_flow(conversation=conversation)
                if current is None:
                    raise NothingToConfirm("There is no order preview to decide on.")
                flow = _locked_flow(flow_id=current.pk, customer_id=customer_id)
            confirmed = _flow_confirm_locked(flow, customer_id=customer_id, preview_hash=preview_hash, origin=origin)
        if confirmed:
            conversation_post(
                conversation_id=flow.conversation_id,
                role=MessageRole.ASSISTANT,
                text="Thank you, confirmed. I'm placing your order with the shop now.",
                data={"kind": "flow_confirmed", "flow_id": str(flow.pk), "channel": "button"},
            )
    if confirmed and flow.confirmations == 1:
        # The answer shows the flow as this call left it. A first round has no steps yet (only the saga
        # writes them, after this commit): said without a query (a `none()` prefetch runs none).
        prefetch_related_objects([flow], Prefetch("steps", queryset=FlowStep.objects.none()))
    return flow


def conversation_rate(
    *, conversation_id: object, customer_id: int, score: int, comment: str = ""
) -> ConversationRating:
    """The customer's satisfaction score (1..5); rating again replaces the earlier score."""
    from ordering.selectors import conversation_get

    if not 1 <= score <= 5:
        raise ValueError("A score is 1 to 5.")
    conversation = conversation_get(customer_id=customer_id, conversation_id=conversation_id)
    with transaction.atomic():
        rating, _ = ConversationRating.objects.update_or_create(
            conversation=conversation, defaults={"score": score, "comment": comment[:2000]}
        )
        audit_record(
            action="conversation.rated",
            actor_type=ActorType.CUSTOMER,
            actor_id=customer_id,
            customer_id=customer_id,
            target_type="conversation",
            target_id=conversation.pk,
            data={"score": score},
        )
    agent_metrics.csat_scores.observe(score)
    return rating
