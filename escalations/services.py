"""The human-in-the-loop queue: writes. (The staff accounts who work it: escalations/staff.py.)

Every staff action is one service here: it locks the escalation, checks that the action fits the
escalation's state and reason (`escalation_action_refusal`, which the console also uses to show
only the buttons that fit), calls the ordering service that does the work on the flow or the
conversation, and writes an `escalation.<action>` audit event, all in one transaction. A refused action
changes nothing, raises `EscalationActionRefused` with a message for the person, and is audited as
denied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import ActorType, Outcome
from audit.services import Origin, audit_record
from config.errors import DomainError
from config.tracing import get_trace_id
from consent.formatting import format_money
from escalations import metrics
from escalations.models import (
    OPEN_STATUSES,
    Escalation,
    EscalationPriority,
    EscalationStatus,
    PaymentVerification,
    ResolutionCode,
)
from escalations.selectors import (
    PAYMENT_REFUSED,
    challenge_mandated,
    escalation_reply_repeated,
    payment_refusals,
    people_names,
    person_name,
    preview_items,
    two_specialists_refused,
)
from escalations.staff import WORK_PERMISSION
from ordering.errors import FlowNotConfirmable, OrderingError
from ordering.models import (
    CompensationStatus,
    EscalationReason,
    FlowStatus,
    FlowStep,
    Message,
    MessageRole,
    OrderFlow,
    WaitingFor,
)
from ordering.saga.resumes import flow_staff_approve, flow_staff_retry_compensations, flow_staff_verify_payment
from ordering.selectors import staff_reply_sent
from ordering.services import conversation_hand_back, conversation_post, conversation_staff_reply, flow_cancel
from ordering.staff_actions import flow_staff_refusal
from ordering.transitions import status_transition

logger = logging.getLogger(__name__)


class EscalationError(DomainError):
    code = "escalation_error"
    http_status = 409


class EscalationNotFound(EscalationError):
    code = "escalation_not_found"
    http_status = 404


class EscalationActionRefused(EscalationError):
    """The action does not fit the escalation's state or reason (or the order's); nothing changed."""

    code = "escalation_action_refused"


class InvalidEscalationTransition(EscalationError):
    """A status change the transition table does not allow: a bug or a race, refused loudly."""

    code = "invalid_escalation_transition"


# -- opening -------------------------------------------------------------------------------------


def escalation_priority_for(reason: EscalationReason | str) -> EscalationPriority:
    return EscalationPriority(settings.ESCALATIONS_REASON_PRIORITY.get(str(reason), EscalationPriority.NORMAL))


def escalation_sla_due(*, opened_at: datetime, priority: EscalationPriority | str) -> datetime:
    return opened_at + timedelta(minutes=settings.ESCALATIONS_SLA_MINUTES[str(priority)])


def escalation_open(
    *,
    reason: EscalationReason | str,
    customer_id: int,
    flow_id: object | None = None,
    conversation_id: object | None = None,
    detail: str = "",
    actor_type: ActorType | str = ActorType.SYSTEM,
) -> Escalation:
    """Open an escalation, or return the one already open for this flow (or, without a flow, this
    conversation) and reason (idempotent).

    A new escalation gets the priority of its reason and the SLA of that priority, and the support
    group is e-mailed once the opening transaction commits.
    """
    reason = EscalationReason(reason)
    existing = _open_twin(reason=reason, flow_id=flow_id, conversation_id=conversation_id)
    if existing is not None:
        return existing
    priority = escalation_priority_for(reason)
    now = timezone.now()
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                reason=reason,
                priority=priority,
                sla_due_at=escalation_sla_due(opened_at=now, priority=priority),
                customer_id=customer_id,
                flow_id=flow_id,
                conversation_id=conversation_id,
                detail=detail,
                trace_id=get_trace_id() or "",
            )
            audit_record(
                action="escalation.opened",
                actor_type=actor_type,
                customer_id=customer_id,
                target_type="escalation",
                target_id=escalation.pk,
                data={
                    "reason": reason.value,
                    "priority": priority.value,
                    "flow_id": str(flow_id) if flow_id else None,
                    "detail": detail[:500],
                },
            )
    except IntegrityError:
        # A concurrent caller opened it between our check and insert.
        twin = _open_twin(reason=reason, flow_id=flow_id, conversation_id=conversation_id)
        if twin is None:
            raise
        return twin
    _enqueue_notify(escalation.pk)
    transaction.on_commit(lambda: metrics.escalations_opened.labels(reason=reason.value, priority=priority.value).inc())
    return escalation


def _open_twin(*, reason: EscalationReason, flow_id: object, conversation_id: object) -> Escalation | None:
    """The active escalation that already asks for the same thing: same flow and reason, or, without a flow,
    same conversation and reason (a customer asking twice for a person gets one specialist)."""
    active = Escalation.objects.filter(reason=reason, status__in=OPEN_STATUSES)
    if flow_id is not None:
        return active.filter(flow_id=flow_id).first()
    if conversation_id is not None:
        return active.filter(flow__isnull=True, conversation_id=conversation_id).first()
    return None


def _enqueue_notify(escalation_id: int) -> None:
    from escalations import tasks

    transaction.on_commit(lambda: tasks.escalation_notify.delay(escalation_id))


def escalation_payment_refusal_record(*, escalation_id: int, flow_id: object, detail: str) -> None:
    """The merchant did not take a payment of this 3-D Secure order: it asks for the bank's check, or refused the
    verification the order was paid with. Called when ordering asks for a person about it, in ordering's transaction.

    The saga records the complete that got this answer as a step that answered, and the flow keeps the evidence it was
    paid with whatever the merchant said; this fact (`escalation.payment_refused`) is what lets the console tell which
    attempt the merchant refused, what it said, and whose verification it refused, and stop offering a verification
    by two specialists once the merchant refused one for this order.
    """
    flow = OrderFlow.objects.filter(pk=flow_id).first()
    if flow is None:
        return
    # The complete that got this answer: its row is the flow's newest complete (written before the outcome is applied).
    step = (
        FlowStep.objects.filter(flow=flow, name="complete_checkout", is_compensation=False)
        .order_by("-started_at", "-id")
        .first()
    )
    evidence = flow.payment_verification_evidence or {}
    verification = (
        {
            "kind": str(evidence.get("kind", "")),
            "recorded_by": evidence.get("recorded_by"),
            "confirmed_by": evidence.get("confirmed_by"),
        }
        if evidence
        else None
    )
    audit_record(
        action=PAYMENT_REFUSED,
        actor_type=ActorType.SYSTEM,
        customer_id=flow.customer_id,
        target_type="escalation",
        target_id=escalation_id,
        data={
            "reason": EscalationReason.PAYMENT_VERIFICATION.value,
            "flow_id": str(flow.pk),
            "step_id": step.pk if step is not None else None,
            "payment_attempt": flow.payment_attempt,
            "round": flow.confirmations,
            "detail": detail[:1000],
            "verification": verification,
            # whose wish the bank's check is, as the merchant said it: "mandated" (the card's issuer: only the
            # customer's own check pays), "preferred" (the merchant's), or "" (not said)
            "challenge": str((step.result or {}).get("challenge") or "") if step is not None else "",
        },
    )


# -- notification --------------------------------------------------------------------------------


def support_notification_recipients() -> list[str]:
    """The configured addresses, or else every active support group member's e-mail address."""
    if settings.ESCALATIONS_NOTIFY_EMAILS:
        return list(settings.ESCALATIONS_NOTIFY_EMAILS)
    members = get_user_model().objects.filter(
        groups__name=settings.ESCALATIONS_SUPPORT_GROUP, is_active=True, is_staff=True
    )
    return sorted({email for email in members.exclude(email="").values_list("email", flat=True)})


def escalation_console_url(escalation_id: int) -> str:
    path = reverse("admin:escalations_escalation_change", args=[escalation_id])
    return f"{settings.ESCALATIONS_CONSOLE_URL}{path}"


def _notification_text(escalation: Escalation) -> tuple[str, str]:
    customer = escalation.customer
    subject = (
        f"[{escalation.get_priority_display()}] Escalation #{escalation.pk}: "
        f"{escalation.get_reason_display()} for {customer.get_username()}"
    )
    due = timezone.localtime(escalation.sla_due_at).strftime("%Y-%m-%d %H:%M %Z") if escalation.sla_due_at else "—"
    lines = [
        f"A new escalation needs a specialist: {escalation.get_reason_display()}.",
        "",
        f"Customer: {customer.get_username()}",
        f"Priority: {escalation.get_priority_display()} (resolve by {due})",
    ]
    if escalation.flow_id:
        lines.append(f"Order flow: {escalation.flow_id}")
    if escalation.detail:
        lines += ["", escalation.detail[:1000]]
    lines += ["", f"Open it in the console: {escalation_console_url(escalation.pk)}"]
    return subject, "\n".join(lines)


def escalation_notify(*, escalation_id: int) -> str:
    """E-mail the support group about a new escalation, at most once (safe to run twice, or concurrently).

    The conditional update claims the notification before sending, so two deliveries of the task
    send one e-mail; a send that fails gives the claim back and raises, for the task to retry.
    """
    now = timezone.now()
    claimed = Escalation.objects.filter(pk=escalation_id, notified_at__isnull=True).update(notified_at=now)
    if not claimed:
        return "already_notified" if Escalation.objects.filter(pk=escalation_id).exists() else "missing"
    escalation = Escalation.objects.select_related("customer").get(pk=escalation_id)
    recipients = support_notification_recipients()
    if not recipients:
        logger.warning("no one to notify about an escalation", extra={"escalation_id": escalation_id})
        return "no_recipients"
    subject, body = _notification_text(escalation)
    try:
        send_mail(subject, body, settings.ESCALATIONS_NOTIFY_FROM, recipients)
    except Exception:
        Escalation.objects.filter(pk=escalation_id, notified_at=now).update(notified_at=None)
        raise
    logger.info("support notified of escalation", extra={"escalation_id": escalation_id, "to": len(recipients)})
    return "sent"


def escalations_notify_pending(*, older_than_seconds: int = 60) -> list[int]:
    """Active escalations nobody was told about (the enqueue after commit was lost): enqueue them now."""
    from escalations import tasks

    quiet_since = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = list(
        Escalation.objects.filter(status__in=OPEN_STATUSES, notified_at__isnull=True, created_at__lt=quiet_since)
        .order_by("created_at")
        .values_list("pk", flat=True)[:200]
    )
    for escalation_id in pending:
        tasks.escalation_notify.delay(escalation_id)
    return pending


# -- which actions fit ---------------------------------------------------------------------------

ACTIONS = (
    "claim",
    "release",
    "set_priority",
    "reply",
    "approve",
    "verify_payment",
    "confirm_payment",
    "retry_compensations",
    "cancel_flow",
    "hand_back",
    "resolve",
)


def escalation_action_refusal(escalation: Escalation, action: str, *, staff_id: int) -> str | None:
    """Why `action` does not fit this escalation now (a sentence for the person), or None when it fits."""
    if action not in ACTIONS:
        return f"Unknown action {action!r}."
    if not escalation.is_active:
        return f"This escalation is already {escalation.get_status_display().lower()}; nothing more can be done on it."
    held_by_other = escalation.status == EscalationStatus.CLAIMED and escalation.assignee_id != staff_id
    if action == "claim":
        if escalation.status == EscalationStatus.CLAIMED and not held_by_other:
            return "You already hold this escalation."
        return None
    # Confirming a colleague's payment verification is the one action meant for someone else than its holder.
    if held_by_other and action != "confirm_payment":
        name = person_name(escalation.assignee) if escalation.assignee else "someone else"
        return f"{name} is working on this escalation. Take it over first if you need to act on it."
    if action == "release":
        return None if escalation.status == EscalationStatus.CLAIMED else "Nobody holds this escalation."
    if action == "set_priority":
        return None
    flow = escalation.flow
    if action == "reply":
        if escalation.conversation_id is None and (flow is None or flow.conversation_id is None):
            return "This escalation has no conversation to reply in."
        return None
    if action == "approve":
        if escalation.reason not in (EscalationReason.RISK_REVIEW, EscalationReason.PAYMENT_VERIFICATION):
            return (
                "Approve and place is for risk reviews and payment verifications, "
                f"not for “{escalation.get_reason_display()}”."
            )
        if flow is None:
            return "This escalation has no order to approve."
        if escalation.reason == EscalationReason.RISK_REVIEW:
            return flow_staff_refusal(flow, "approve")
        return two_specialists_refusal(escalation) or (
            "A payment verification needs evidence, not one click: record how you verified it with the "
            "customer and a second specialist confirms it, or the customer finishes their bank's check "
            "from the link in the chat."
        )
    if action in ("verify_payment", "confirm_payment"):
        return _payment_verification_refusal(escalation, action, staff_id=staff_id)
    if action == "retry_compensations":
        if escalation.reason != EscalationReason.COMPENSATION_FAILED:
            return (
                "Retry the failed step is for failed undo steps (compensation failed), "
                f"not for “{escalation.get_reason_display()}”."
            )
        if flow is None:
            return "Nothing of this order is waiting to be undone."
        return flow_staff_refusal(flow, "retry_compensations")
    if action == "cancel_flow":
        if flow is None:
            return "This escalation has no order to cancel."
        return flow_staff_refusal(flow, "cancel_flow")
    # hand_back, resolve: the order must not still need the specialist
    return _close_refusal(escalation, staff_id=staff_id)


# The console's buttons that move an order on, as they are labelled: what a page that cannot be closed yet names.
_FLOW_BUTTONS = (
    ("approve", "Approve and place"),
    ("verify_payment", "Payment verified (needs a second specialist)"),
    ("confirm_payment", "Confirm the verification: pay and place"),
    ("retry_compensations", "Retry the failed undo steps"),
    ("cancel_flow", "Cancel the order"),
)

# What the order waits for -> the escalation reason whose page decides it.
_DECIDED_ON = {
    WaitingFor.RISK_REVIEW: (EscalationReason.RISK_REVIEW,),
    WaitingFor.STEP_UP: (EscalationReason.RISK_REVIEW,),
    WaitingFor.PAYMENT_VERIFICATION: (EscalationReason.PAYMENT_VERIFICATION,),
    WaitingFor.SPECIALIST: (EscalationReason.COMPENSATION_FAILED, EscalationReason.AGENT_STUCK),
}


def deciding_escalation(escalation: Escalation) -> Escalation | None:
    """Another active escalation of the same order whose page takes the decision the order waits for (its risk
    review, its payment verification, its failed undo), when this one's reason does not: a customer's request about
    an order that waits for a risk decision points there instead of offering what only that page has."""
    flow = escalation.flow
    if flow is None or not flow.waiting_for:
        return None
    reasons = _DECIDED_ON.get(WaitingFor(flow.waiting_for), ())
    if escalation.reason in reasons:
        return None
    return (
        Escalation.objects.filter(flow_id=flow.pk, reason__in=reasons, status__in=OPEN_STATUSES)
        .exclude(pk=escalation.pk)
        .order_by("created_at")
        .first()
    )


def _either(labels: list[str]) -> str:
    quoted = [f"“{label}”" for label in labels]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _close_refusal(escalation: Escalation, *, staff_id: int) -> str | None:
    """Why the escalation cannot be resolved or handed back yet (ordering's word about its order), followed by what
    this specialist can do about it on this page, naming only the buttons it offers them (or the escalation that
    has them); None when it can be closed."""
    flow = escalation.flow
    if flow is None:
        return None
    refusal = flow_staff_refusal(flow, "close")
    if refusal is None:
        return None
    offered = [
        label
        for action, label in _FLOW_BUTTONS
        if escalation_action_refusal(escalation, action, staff_id=staff_id) is None
    ]
    close = "then resolve this escalation or hand it back."
    if flow.status == FlowStatus.PLACING:
        if escalation.reason == EscalationReason.MERCHANT_UNAVAILABLE:
            return (
                "The shop has not said yet whether it placed and charged this order: check with the shop. The order "
                "moves on by itself when the shop answers (its order webhook, or the next read of its checkout): "
                "reload this page then, and resolve this escalation or hand it back."
            )
        return f"{refusal} Reload this page in a moment, {close}"
    if flow.status in (FlowStatus.FAILED, FlowStatus.COMPENSATING):
        return f"{refusal} Reload this page in a moment, {close}"
    you_can = f", or you can press {_either(offered)}" if offered else ""
    if flow.status == FlowStatus.CONFIRMED:
        return f"{refusal} It is about to be placed: reload this page in a moment{you_can}; {close}"
    deciding = deciding_escalation(escalation)
    if deciding is not None:
        elsewhere = f"That is decided on escalation #{deciding.pk} ({deciding.get_reason_display()})"
        return f"{refusal} {elsewhere}{you_can + ' here' if offered else ''}; {close}"
    ways = []
    if flow.waiting_for == WaitingFor.PAYMENT_VERIFICATION:
        ways.append("the customer can finish their bank's check from the link in the chat")
        pending = pending_payment_verification(escalation)
        if pending is not None and pending.recorded_by_id == staff_id:
            ways.append("a different specialist can confirm the verification you recorded")
    if offered:
        ways.append(f"you can press {_either(offered)}")
    if not ways:
        return f"{refusal} Nothing on this page can move the order on now; reload it later, {close}"
    said = ways[0] if len(ways) == 1 else f"{', '.join(ways[:-1])}, or {ways[-1]}"
    return f"{refusal} {said[0].upper()}{said[1:]}; {close}"


# What each resolution code says the order ended as; the codes not listed say nothing about an order.
RESOLUTION_ORDER_STATUSES: dict[str, frozenset[str]] = {
    ResolutionCode.ORDER_PLACED: frozenset({FlowStatus.PLACED}),
    ResolutionCode.ORDER_CANCELED: frozenset({FlowStatus.CANCELED}),
    # a failed order's undo ran to its end, or a canceled one's (canceling undoes what the order did)
    ResolutionCode.UNDO_COMPLETED: frozenset({FlowStatus.COMPENSATED, FlowStatus.CANCELED}),
}


def resolution_code_refusal(escalation: Escalation, code: str) -> str | None:
    """Why `code` would record something the order contradicts (a sentence for the person), or None."""
    statuses = RESOLUTION_ORDER_STATUSES.get(code)
    if statuses is None:
        return None
    label = ResolutionCode(code).label
    flow = escalation.flow
    if flow is None:
        return f"“{label}” is for an escalation about an order, and this one has none: choose what you did instead."
    if flow.status not in statuses:
        return (
            f"“{label}” does not fit: the order is {flow.get_status_display().lower()}. "
            "Choose the resolution that says what happened to it."
        )
    if code == ResolutionCode.UNDO_COMPLETED:
        # A canceled order's undo runs after the cancel: its steps may still be failing (a stock hold, a token).
        failed = list(
            flow.compensations.filter(status=CompensationStatus.FAILED).order_by("id").values_list("action", flat=True)
        )
        if failed:
            steps = ", ".join(dict.fromkeys(failed))
            retry = (
                "Press “Retry the failed undo steps” once the shop answers"
                if escalation.reason == EscalationReason.COMPENSATION_FAILED
                else "Retry them from the order's failed-undo escalation"
            )
            return (
                f"“{label}” does not fit: an undo step of this order still failed ({steps}). {retry}, or choose what "
                "you did instead."
            )
    return None


def _payment_verification_refusal(escalation: Escalation, action: str, *, staff_id: int) -> str | None:
    if escalation.reason != EscalationReason.PAYMENT_VERIFICATION:
        return f"Payment verification is for 3-D Secure payments, not for “{escalation.get_reason_display()}”."
    # Both people of the four-eyes rule must be allowed to work escalations, whoever calls the service.
    staff = get_user_model().objects.filter(pk=staff_id, is_active=True, is_staff=True).first()
    if staff is None or not staff.has_perm(WORK_PERMISSION):
        return "Verifying a payment needs the permission to work escalations."
    flow = escalation.flow
    if flow is None:
        return "This escalation has no order to verify."
    refusal = flow_staff_refusal(flow, action)
    if refusal is not None:
        return refusal
    refused = two_specialists_refusal(escalation)
    if refused is not None:
        return refused
    pending = pending_payment_verification(escalation)
    if action == "verify_payment":
        if pending is not None:
            return (
                f"{person_name(pending.recorded_by)} already recorded a verification of this payment; "
                "a second specialist confirms it."
            )
        return None
    if pending is None:
        return "Nobody has recorded a verification of this payment yet: record how you verified it first."
    if pending.recorded_by_id == staff_id:
        return "You recorded this verification yourself; a different specialist must confirm it."
    return None


def two_specialists_refusal(escalation: Escalation) -> str | None:
    """Why a verification by two specialists is not offered for this escalation's order (a sentence for the person,
    with what staff can do instead), or None: the merchant already refused one for it, or said when it asked for the
    bank's check that the card's issuer mandates that check.

    The merchant decides per checkout session whether it takes two specialists' word (never where the card's issuer
    mandates its own challenge), so a verification it said it would refuse, or a second round of recording and
    confirming after it refused one, would end the same way. (Where the merchant did not say whose wish the check is,
    ACP's `flow_preference` being optional, the first verification is offered.)"""
    if escalation.flow_id is None:
        return None
    refusals = payment_refusals(flow_id=escalation.flow_id)
    refused = two_specialists_refused(refusals)
    if refused is None:
        if challenge_mandated(refusals):
            return (
                "The card's issuer mandates its own 3-D Secure check for this payment (the merchant said so), so the "
                "merchant refuses a verification by two specialists. Instead, ask "
                f"{escalation.customer.get_username()} to finish their bank's check from the link in the chat, or "
                "cancel the order."
            )
        return None
    names = people_names([refused.recorded_by, refused.confirmed_by])
    at = timezone.localtime(refused.at).strftime("%H:%M")
    return (
        "The merchant refused this order's verification by two specialists "
        f"({names.get(refused.recorded_by, 'someone')} recorded, {names.get(refused.confirmed_by, 'someone')} "
        f"confirmed, at {at}), so another would be refused the same way. Instead, ask "
        f"{escalation.customer.get_username()} to finish their bank's check from the link in the chat, or cancel "
        "the order."
    )


def pending_payment_verification(escalation: Escalation) -> PaymentVerification | None:
    """The verification recorded for the order's current payment attempt and not yet confirmed, if any."""
    if escalation.flow_id is None or escalation.flow is None:
        return None
    return (
        PaymentVerification.objects.select_related("recorded_by")
        .filter(flow_id=escalation.flow_id, payment_attempt=escalation.flow.payment_attempt, confirmed_at__isnull=True)
        .first()
    )


# -- the actions ---------------------------------------------------------------------------------


def _locked(escalation_id: int) -> Escalation:
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("flow", "assignee", "customer")
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        raise EscalationNotFound("No such escalation.", escalation_id=escalation_id)
    return escalation


def _transition(
    escalation: Escalation,
    to: EscalationStatus,
    *,
    staff_id: int,
    fields: tuple[str, ...] = (),
    data: dict[str, Any] | None = None,
    origin: Origin | None = None,
    action: str | None = None,
) -> None:
    """A staff member moves the escalation (`ordering.transitions.status_transition`, audited as theirs)."""
    status_transition(
        escalation,
        to,
        refused=InvalidEscalationTransition,
        target_type="escalation",
        action=action or f"escalation.{to}",
        actor_type=ActorType.STAFF,
        actor_id=staff_id,
        customer_id=escalation.customer_id,
        origin=origin,
        data={"reason": escalation.reason, **(data or {})},
        extra_fields=fields,
        trace_id=escalation.trace_id or None,
    )


def _audit(
    escalation: Escalation,
    action: str,
    *,
    staff_id: int,
    data: dict[str, Any] | None = None,
    outcome: Outcome | str = Outcome.OK,
    origin: Origin | None = None,
) -> None:
    audit_record(
        action=action,
        actor_type=ActorType.STAFF,
        actor_id=staff_id,
        customer_id=escalation.customer_id,
        target_type="escalation",
        target_id=escalation.pk,
        outcome=outcome,
        origin=origin,
        data={"reason": escalation.reason, **(data or {})},
        trace_id=escalation.trace_id or None,
    )


def _refuse(escalation_id: int, action: str, *, staff_id: int, message: str, origin: Origin | None) -> None:
    """Record a refused attempt (after the attempt's own transaction rolled back) and raise."""
    escalation = Escalation.objects.filter(pk=escalation_id).first()
    if escalation is not None:
        _audit(
            escalation,
            f"escalation.{action}",
            staff_id=staff_id,
            outcome=Outcome.DENIED,
            origin=origin,
            data={"refused": message[:300]},
        )
    raise EscalationActionRefused(message, escalation_id=escalation_id, action=action)


def _claim_for(escalation: Escalation, *, staff_id: int, origin: Origin | None) -> None:
    previous_assignee = escalation.assignee_id
    escalation.assignee_id = staff_id
    escalation.claimed_at = timezone.now()
    _transition(
        escalation,
        EscalationStatus.CLAIMED,
        staff_id=staff_id,
        fields=("assignee", "claimed_at"),
        data={"previous_assignee": previous_assignee},
        origin=origin,
        action="escalation.claimed",
    )


def _responded(escalation: Escalation) -> None:
    if escalation.first_response_at is not None:
        return
    escalation.first_response_at = timezone.now()
    escalation.save(update_fields=["first_response_at", "updated_at"])
    seconds = (escalation.first_response_at - escalation.created_at).total_seconds()
    reason = escalation.reason
    transaction.on_commit(lambda: metrics.time_to_first_response.labels(reason=reason).observe(seconds))


def _closed(escalation: Escalation) -> None:
    seconds = (escalation.resolved_at - escalation.created_at).total_seconds()
    reason, status = escalation.reason, escalation.status
    transaction.on_commit(lambda: metrics.time_to_resolution.labels(reason=reason, outcome=status).observe(seconds))


def _act(escalation_id: int, action: str, *, staff_id: int, origin: Origin | None, work, check=None) -> Any:
    """Run one staff action: lock, check it fits, take an open escalation, do the work, audit; or refuse.

    `check(escalation)`, if given, is the action's own last word under the lock (a refusal or None)."""
    refusal = None
    try:
        with transaction.atomic():
            escalation = _locked(escalation_id)
            refusal = escalation_action_refusal(escalation, action, staff_id=staff_id)
            if refusal is None and check is not None:
                refusal = check(escalation)
            if refusal is None:
                if escalation.status == EscalationStatus.OPEN and action not in ("claim", "set_priority"):
                    _claim_for(escalation, staff_id=staff_id, origin=origin)
                return work(escalation)
    except OrderingError as error:
        # The ordering services re-check under their own lock; a race there is refused the same way.
        refusal = getattr(error, "message", None) or str(error)
    _refuse(escalation_id, action, staff_id=staff_id, message=refusal, origin=origin)
    return None


def escalation_claim(
    *, escalation_id: int, staff_id: int, take_over_from: int | None = None, origin: Origin | None = None
) -> Escalation:
    """Take an escalation from the queue, or over from the colleague named by `take_over_from`.

    A colleague is never replaced without being named: a "Claim" pressed on a page (or a queue) that still
    showed the escalation free, after a colleague took it, is refused rather than taking it from them."""

    def check(escalation: Escalation) -> str | None:
        holder = escalation.assignee
        if escalation.status != EscalationStatus.CLAIMED or holder is None or holder.pk in (staff_id, take_over_from):
            return None
        since = timezone.localtime(escalation.claimed_at).strftime("%H:%M") if escalation.claimed_at else "now"
        name = person_name(holder)
        return (
            f"{name} is working on this escalation (since {since}); it was not taken from them. "
            f"Open it and press “Take over from {name}” if you need to act on it."
        )

    def work(escalation: Escalation) -> Escalation:
        _claim_for(escalation, staff_id=staff_id, origin=origin)
        return escalation

    return _act(escalation_id, "claim", staff_id=staff_id, origin=origin, work=work, check=check)


def escalation_release(*, escalation_id: int, staff_id: int, origin: Origin | None = None) -> Escalation:
    """Put a claimed escalation back in the queue for someone else."""

    def work(escalation: Escalation) -> Escalation:
        escalation.assignee = None
        escalation.claimed_at = None
        _transition(
            escalation,
            EscalationStatus.OPEN,
            staff_id=staff_id,
            fields=("assignee", "claimed_at"),
            origin=origin,
            action="escalation.released",
        )
        return escalation

    return _act(escalation_id, "release", staff_id=staff_id, origin=origin, work=work)


def escalation_set_priority(
    *, escalation_id: int, staff_id: int, priority: EscalationPriority | str, origin: Origin | None = None
) -> Escalation:
    """Change the priority; the SLA due time follows (counted from when the escalation opened)."""
    if priority not in EscalationPriority.values:
        _refuse(
            escalation_id,
            "set_priority",
            staff_id=staff_id,
            origin=origin,
            message=f"Unknown priority {priority!r}: choose urgent, high, normal or low.",
        )

    def work(escalation: Escalation) -> Escalation:
        previous = escalation.priority
        escalation.priority = EscalationPriority(priority)
        escalation.sla_due_at = escalation_sla_due(opened_at=escalation.created_at, priority=priority)
        escalation.save(update_fields=["priority", "sla_due_at", "updated_at"])
        _audit(
            escalation,
            "escalation.priority_changed",
            staff_id=staff_id,
            origin=origin,
            data={"from": previous, "to": escalation.priority, "sla_due_at": escalation.sla_due_at},
        )
        return escalation

    return _act(escalation_id, "set_priority", staff_id=staff_id, origin=origin, work=work)


def _conversation_id(escalation: Escalation) -> object:
    return escalation.conversation_id or (escalation.flow.conversation_id if escalation.flow else None)


# The same words sent again by the same specialist on the same escalation within this long are the reply sent
# once more by mistake (Back, then "Send reply" on the page the browser drew again with the text it remembered), not
# posted again.
REPLY_REPEAT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class ReplyRepeated:
    """A reply not posted: the same specialist sent the same words on this escalation within REPLY_REPEAT_WINDOW."""

    message: Message


def escalation_reply(
    *, escalation_id: int, staff_id: int, text: str, reply_key: str = "", origin: Origin | None = None
) -> Message | ReplyRepeated:
    """Write to the customer in their chat (the widget shows it like any other message).

    `reply_key` names one sending of the reply form: sent twice (a double click), the customer gets one
    message and the log one `escalation.replied`. The same words sent again from another page drawn since (Back,
    which draws the page again with a new key and the text the browser kept) within REPLY_REPEAT_WINDOW are not
    posted again either: the answer is `ReplyRepeated`, with the message the customer already has."""
    if not (text or "").strip():
        _refuse(escalation_id, "reply", staff_id=staff_id, origin=origin, message="Write a reply first.")
    # The chat's own limit for a message: past it, a reply is most likely a paste gone wrong (a log, a page).
    limit = settings.ORDERING_MESSAGE_MAX_CHARS
    if len(text.strip()) > limit:
        _refuse(
            escalation_id,
            "reply",
            staff_id=staff_id,
            origin=origin,
            message=(
                f"Nothing was sent: a reply is at most {limit:,} characters and this one has {len(text.strip()):,}. "
                "Shorten it, or send it in parts."
            ),
        )

    def work(escalation: Escalation):
        conversation_id = _conversation_id(escalation)
        # Under the escalation's lock, so the second of two sendings finds the first's message.
        sent = staff_reply_sent(conversation_id=conversation_id, reply_key=reply_key) if reply_key else None
        if sent is not None:
            return sent
        repeated = escalation_reply_repeated(
            escalation_id=escalation.pk, staff_id=staff_id, text=text, since=timezone.now() - REPLY_REPEAT_WINDOW
        )
        if repeated is not None:
            return ReplyRepeated(message=repeated)
        message = conversation_staff_reply(
            conversation_id=conversation_id, staff_id=staff_id, text=text, reply_key=reply_key
        )
        _responded(escalation)
        _audit(escalation, "escalation.replied", staff_id=staff_id, origin=origin, data={"message_id": message.pk})
        return message

    return _act(escalation_id, "reply", staff_id=staff_id, origin=origin, work=work)


def escalation_approve(*, escalation_id: int, staff_id: int, origin: Origin | None = None):
    """Approve and place a risk review. (A 3-D Secure payment needs evidence: see escalation_payment_verification_*.)"""

    def work(escalation: Escalation):
        flow = flow_staff_approve(flow_id=escalation.flow_id, staff_id=staff_id)
        _responded(escalation)
        _audit(escalation, "escalation.risk_approved", staff_id=staff_id, origin=origin, data={"flow_id": str(flow.pk)})
        return flow

    return _act(escalation_id, "approve", staff_id=staff_id, origin=origin, work=work)


# The most a note staff write may hold (a resolution, a hand-back, how a payment was verified), like a reply: past it,
# it is most likely a paste gone wrong (a log, a page), which would be stored whole and drawn on every page.
NOTE_MAX_CHARS = 2_000


def _refuse_long_note(escalation_id: int, action: str, *, staff_id: int, note: str, origin: Origin | None) -> None:
    if len(note) > NOTE_MAX_CHARS:
        _refuse(
            escalation_id,
            action,
            staff_id=staff_id,
            origin=origin,
            message=(
                f"Nothing was saved: a note is at most {NOTE_MAX_CHARS:,} characters and this one has {len(note):,}. "
                "Shorten it."
            ),
        )


def escalation_payment_verification_record(
    *, escalation_id: int, staff_id: int, note: str, origin: Origin | None = None
) -> PaymentVerification:
    """The first specialist says the payment is verified, and how: pending until a colleague confirms it."""
    note = (note or "").strip()
    _refuse_long_note(escalation_id, "verify_payment", staff_id=staff_id, note=note, origin=origin)
    if not note:
        _refuse(
            escalation_id,
            "verify_payment",
            staff_id=staff_id,
            origin=origin,
            message=(
                "Write how you verified the payment with the customer (who you spoke to, how, what they confirmed)."
            ),
        )

    def work(escalation: Escalation) -> PaymentVerification:
        verification = PaymentVerification.objects.create(
            escalation=escalation,
            flow=escalation.flow,
            payment_attempt=escalation.flow.payment_attempt,
            recorded_by_id=staff_id,
            note=note,
        )
        _responded(escalation)
        _audit(
            escalation,
            "escalation.payment_verification_recorded",
            staff_id=staff_id,
            origin=origin,
            data={"flow_id": str(escalation.flow_id), "verification_id": verification.pk, "note": note[:500]},
        )
        return verification

    return _act(escalation_id, "verify_payment", staff_id=staff_id, origin=origin, work=work)


def escalation_payment_verification_confirm(*, escalation_id: int, staff_id: int, origin: Origin | None = None):
    """A second specialist confirms a colleague's verification: the order is paid again, authenticated."""

    def work(escalation: Escalation):
        verification = (
            PaymentVerification.objects.select_for_update()
            .filter(
                flow_id=escalation.flow_id, payment_attempt=escalation.flow.payment_attempt, confirmed_at__isnull=True
            )
            .first()
        )
        if verification is None:
            raise FlowNotConfirmable("No verification of this payment is waiting for a second specialist.")
        verification.confirmed_by_id = staff_id
        verification.confirmed_at = timezone.now()
        verification.save(update_fields=["confirmed_by", "confirmed_at"])
        flow = flow_staff_verify_payment(
            flow_id=escalation.flow_id,
            staff_id=staff_id,
            recorded_by=verification.recorded_by_id,
            note=verification.note,
        )
        _responded(escalation)
        _audit(
            escalation,
            "escalation.payment_verified",
            staff_id=staff_id,
            origin=origin,
            data={
                "flow_id": str(flow.pk),
                "verification_id": verification.pk,
                "recorded_by": verification.recorded_by_id,
                "confirmed_by": staff_id,
            },
        )
        return flow

    return _act(escalation_id, "confirm_payment", staff_id=staff_id, origin=origin, work=work)


def escalation_retry_compensations(*, escalation_id: int, staff_id: int, origin: Origin | None = None):
    """Run the order's failed undo steps once more (after the merchant recovered)."""

    def work(escalation: Escalation):
        flow = flow_staff_retry_compensations(flow_id=escalation.flow_id, staff_id=staff_id)
        _responded(escalation)
        _audit(
            escalation,
            "escalation.compensations_retried",
            staff_id=staff_id,
            origin=origin,
            data={"flow_id": str(flow.pk)},
        )
        return flow

    return _act(escalation_id, "retry_compensations", staff_id=staff_id, origin=origin, work=work)


# Statuses in which no payment has been taken yet: the order stopped before paying (a cart, a confirmed order
# waiting for its placement, a step-up code or the bank's check). An escalated order waits for a risk decision,
# taken before paying, or for a specialist after something failed on the way, when the shop may have taken it.
_UNPAID_STATUSES = frozenset({FlowStatus.DRAFT, FlowStatus.PREVIEWED, FlowStatus.CONFIRMED, FlowStatus.REQUIRES_ACTION})


def _flow_canceled_notice(flow: OrderFlow, *, unpaid: bool) -> str:
    """What the customer reads in their chat after a specialist canceled their order: what it was (the preview's
    lines and the flow's total, as the preview showed them) and what happens to the money."""
    items = preview_items(flow.preview)
    what = f"your order of {items}" if items else "your order"
    if flow.total_amount:
        what += f" — {format_money(flow.total_amount, flow.currency)}"
    if unpaid:
        money = "Nothing was charged"
        if flow.compensations.filter(action="release_spend").exists():
            money += ", and what it held against your spending limits is released"
    else:
        money = "If the shop took payment for it, that order is canceled with the shop and refunded in full"
    return f"I canceled {what}. {money}. Ask me here if you need anything else."


def escalation_cancel_flow(*, escalation_id: int, staff_id: int, note: str = "", origin: Origin | None = None):
    """Cancel the order; whatever it had done at the merchant and in the spend ledger is undone, and the customer is
    told in their chat."""

    def work(escalation: Escalation):
        before = escalation.flow
        unpaid = before is not None and (
            before.status in _UNPAID_STATUSES
            or (before.status == FlowStatus.ESCALATED and before.waiting_for == WaitingFor.RISK_REVIEW)
        )
        flow = flow_cancel(
            flow_id=escalation.flow_id,
            actor_type=ActorType.STAFF,
            actor_id=staff_id,
            reason="staff_canceled",
            origin=origin,
        )
        # Only if this cancel stopped it (flow_cancel answers a flow already stopped as it is).
        if flow.failure_code == "staff_canceled" and flow.conversation_id is not None:
            # The customer's last word from us may be a step the order now cannot take (the bank's link answers 409).
            # Told as the specialist, after the commit, like a released hold (ordering/holds.py): the message's row
            # waits on its conversation, which a failing turn of that conversation may hold while it waits for this
            # very flow. The cancel's own audit events say who did it.
            notice = _flow_canceled_notice(flow, unpaid=unpaid)
            conversation_id, flow_id = flow.conversation_id, str(flow.pk)
            transaction.on_commit(
                lambda: conversation_post(
                    conversation_id=conversation_id,
                    role=MessageRole.STAFF,
                    text=notice,
                    data={"kind": "flow_canceled", "flow_id": flow_id},
                ),
                robust=True,
            )
        _responded(escalation)
        _audit(
            escalation,
            "escalation.flow_canceled",
            staff_id=staff_id,
            origin=origin,
            data={"flow_id": str(flow.pk), "note": note[:500]},
        )
        return flow

    return _act(escalation_id, "cancel_flow", staff_id=staff_id, origin=origin, work=work)


def _hand_conversation_back(escalation: Escalation, *, staff_id: int) -> None:
    """The assistant answers the customer again, unless another escalation still holds the conversation."""
    conversation_id = _conversation_id(escalation)
    if conversation_id is None:
        return
    others = Escalation.objects.filter(status__in=OPEN_STATUSES).exclude(pk=escalation.pk)
    if (
        others.filter(conversation_id=conversation_id).exists()
        or others.filter(flow__conversation_id=conversation_id).exists()
    ):
        return
    conversation_hand_back(conversation_id=conversation_id, staff_id=staff_id)


def escalation_hand_back(*, escalation_id: int, staff_id: int, note: str = "", origin: Origin | None = None):
    """The specialist is done with the conversation: the assistant takes it again."""
    note = (note or "").strip()
    _refuse_long_note(escalation_id, "hand_back", staff_id=staff_id, note=note, origin=origin)

    def work(escalation: Escalation) -> Escalation:
        _responded(escalation)
        escalation.resolved_at = timezone.now()
        escalation.resolution_code = ResolutionCode.HANDED_BACK
        escalation.resolution_note = note
        _transition(
            escalation,
            EscalationStatus.HANDED_BACK,
            staff_id=staff_id,
            fields=("resolved_at", "resolution_code", "resolution_note"),
            origin=origin,
            data={"note": note[:500]},
        )
        _hand_conversation_back(escalation, staff_id=staff_id)
        _closed(escalation)
        return escalation

    return _act(escalation_id, "hand_back", staff_id=staff_id, origin=origin, work=work)


def escalation_resolve(
    *, escalation_id: int, staff_id: int, code: ResolutionCode | str, note: str, origin: Origin | None = None
) -> Escalation:
    """Close the escalation with what was done and a note for whoever reads it later."""
    note = (note or "").strip()
    if code not in ResolutionCode.values or code == ResolutionCode.HANDED_BACK:
        _refuse(
            escalation_id,
            "resolve",
            staff_id=staff_id,
            origin=origin,
            message="Choose what resolved it (the resolution code).",
        )
    if not note:
        _refuse(
            escalation_id,
            "resolve",
            staff_id=staff_id,
            origin=origin,
            message="Write a short resolution note: what you did and why.",
        )
    _refuse_long_note(escalation_id, "resolve", staff_id=staff_id, note=note, origin=origin)

    def check(escalation: Escalation) -> str | None:
        return resolution_code_refusal(escalation, code)

    def work(escalation: Escalation) -> Escalation:
        _responded(escalation)
        escalation.resolved_at = timezone.now()
        escalation.resolution_code = ResolutionCode(code)
        escalation.resolution_note = note
        _transition(
            escalation,
            EscalationStatus.RESOLVED,
            staff_id=staff_id,
            fields=("resolved_at", "resolution_code", "resolution_note"),
            origin=origin,
            data={"code": code, "note": note[:500]},
        )
        _hand_conversation_back(escalation, staff_id=staff_id)
        _closed(escalation)
        return escalation

    return _act(escalation_id, "resolve", staff_id=staff_id, origin=origin, work=work, check=check)
