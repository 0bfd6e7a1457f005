"""The human-in-the-loop queue: reads, as querysets and plain values for views, tasks and other apps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Value, When
from django.utils import timezone

from audit.models import ActorType, AuditEvent, Outcome
from audit.redaction import redact_text
from consent.formatting import format_money
from consent.models import CapKind
from consent.selectors import (
    auto_checkout_threshold,
    grant_effective_status,
    grants_for_customer,
    payment_methods_for_customer,
    spend_usage,
)
from escalations.models import OPEN_STATUSES, Escalation, EscalationStatus
from ordering.hooks import EscalationSummary
from ordering.models import Conversation, EscalationReason, FlowStatus, Message, MessageRole, OrderFlow


def escalations_queue(*, now: datetime | None = None) -> QuerySet[Escalation]:
    """Every escalation, the most pressing SLA first, with `is_breached` (past due while open, or closed late)."""
    now = now or timezone.now()
    return (
        Escalation.objects.select_related("customer", "assignee", "flow")
        .annotate(
            is_breached=Case(
                When(Q(status__in=OPEN_STATUSES, sla_due_at__lt=now), then=Value(True)),
                When(Q(resolved_at__isnull=False, resolved_at__gt=F("sla_due_at")), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by(F("sla_due_at").asc(nulls_last=True), "created_at")
    )


def escalations_active() -> QuerySet[Escalation]:
    return escalations_queue().filter(status__in=OPEN_STATUSES)


def escalations_open_counts(*, now: datetime | None = None) -> dict[str, tuple[int, int]]:
    """Per reason: (open or claimed, of which past their SLA). Every reason is present, zeros included."""
    now = now or timezone.now()
    rows = (
        Escalation.objects.filter(status__in=OPEN_STATUSES)
        .values("reason")
        .annotate(total=Count("pk"), breached=Count("pk", filter=Q(sla_due_at__lt=now)))
    )
    counts = {reason: (0, 0) for reason in EscalationReason.values}
    for row in rows:
        counts[row["reason"]] = (row["total"], row["breached"])
    return counts


def escalation_get(*, escalation_id: int) -> Escalation | None:
    return escalations_queue().filter(pk=escalation_id).first()


def escalation_sla_seconds_left(escalation: Escalation, *, now: datetime | None = None) -> int | None:
    """Seconds until the SLA is due (negative once breached); None when closed or without an SLA."""
    if escalation.sla_due_at is None or escalation.status not in OPEN_STATUSES:
        return None
    return int((escalation.sla_due_at - (now or timezone.now())).total_seconds())


def duration_words(seconds: float) -> str:
    """'45 s', '12 min', '3 h 05 min', '2 d 4 h': short enough for a list column."""
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


# -- the detail page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentSummary:
    grants: list[dict[str, Any]]
    caps: list[dict[str, Any]]
    currency: str
    auto_checkout_threshold: int
    auto_checkout_text: str
    payment_methods: list[dict[str, Any]]


def escalation_consent_summary(*, customer_id: int, chat_session_reference: str = "") -> ConsentSummary:
    """The customer's grants, caps with what is used, and saved cards as brand and last 4 (never more)."""
    grants = [
        {
            "scope": grant.get_scope_display(),
            "status": grant_effective_status(grant),
            "granted_at": grant.granted_at,
            "expires_at": grant.expires_at,
        }
        for grant in grants_for_customer(user_id=customer_id)
    ]
    usage = spend_usage(user_id=customer_id, chat_session_reference=chat_session_reference)
    caps = []
    for kind in CapKind.values:
        used = usage.used.get(kind)
        caps.append(
            {
                "kind": CapKind(kind).label,
                "cap": usage.caps[kind],
                "used": used,
                "cap_text": format_money(usage.caps[kind], usage.currency),
                "used_text": "—" if used is None else format_money(used, usage.currency),
                "chosen_by_customer": usage.chosen.get(kind) is not None,
            }
        )
    cards = [
        {
            "brand": method.get_brand_display(),
            "last4": method.last4,
            "expires": f"{method.exp_month:02d}/{method.exp_year}",
            "is_default": method.is_default,
        }
        for method in payment_methods_for_customer(user_id=customer_id)
    ]
    threshold = auto_checkout_threshold(user_id=customer_id)
    return ConsentSummary(
        grants=grants,
        caps=caps,
        currency=usage.currency,
        auto_checkout_threshold=threshold,
        auto_checkout_text=format_money(threshold, usage.currency) if threshold else "off (always asks)",
        payment_methods=cards,
    )


def escalation_conversation(escalation: Escalation):
    """The conversation the escalation is about: its own, or its order's."""
    if escalation.conversation_id:
        return escalation.conversation
    if escalation.flow_id:
        return escalation.flow.conversation
    return None


def escalation_trace_id(escalation: Escalation) -> str:
    if escalation.trace_id:
        return escalation.trace_id
    if escalation.flow_id and escalation.flow.trace_id:
        return escalation.flow.trace_id
    conversation = escalation_conversation(escalation)
    return conversation.trace_id if conversation is not None else ""


def escalation_history(escalation: Escalation) -> QuerySet:
    """The audit events about this escalation, oldest first: opened, claimed, replied, …, resolved."""
    return AuditEvent.objects.filter(target_type="escalation", target_id=str(escalation.pk)).order_by("sequence")


# -- naming people -------------------------------------------------------------------------------


def person_name(user: Any) -> str:
    """How the console names a specialist (or a customer): their full name when set, else their username exactly as
    written (`lee` stays `lee`)."""
    if user is None:
        return "someone"
    return (user.get_full_name() or "").strip() or user.get_username()


def people_names(ids: Iterable[object]) -> dict[str, str]:
    """Names by user id, the id as text (as the audit log and the verification evidence hold it)."""
    wanted = {int(str(user_id)) for user_id in ids if user_id is not None and str(user_id).isdigit()}
    if not wanted:
        return {}
    return {str(user.pk): person_name(user) for user in get_user_model().objects.filter(pk__in=wanted)}


@dataclass(frozen=True)
class HistoryRow:
    event: AuditEvent
    actor: str  # the specialist's name, the customer's, or who else acted ("system", "agent")
    note: str


def escalation_history_rows(escalation: Escalation) -> list[HistoryRow]:
    """The history of the escalation as the page lists it: who acted by name, and what the event says in words."""
    events = list(escalation_history(escalation))
    names = people_names(
        event.actor_id for event in events if event.actor_type in (ActorType.STAFF, ActorType.CUSTOMER)
    )
    rows = []
    for event in events:
        actor = event.actor_type
        if event.actor_type in (ActorType.STAFF, ActorType.CUSTOMER) and event.actor_id:
            actor = names.get(event.actor_id, f"{event.actor_type} {event.actor_id}")
        data = event.data if isinstance(event.data, dict) else {}
        note = data.get("refused") or data.get("note") or data.get("detail") or ""
        rows.append(HistoryRow(event=event, actor=actor, note=str(note)))
    return rows


@dataclass(frozen=True)
class TranscriptRow:
    message: Message
    sender: str  # for a specialist's message, who wrote it; empty for the others


def escalation_transcript(conversation: Conversation | None) -> list[TranscriptRow]:
    """The conversation's messages, oldest first, each specialist's message with its author's name: a reply is named
    by its `conversation.staff_replied` event, the notice of a cancel by the specialist who canceled the order."""
    if conversation is None:
        return []
    messages = list(conversation.messages.order_by("created_at", "id"))
    staff_messages = [message for message in messages if message.role == MessageRole.STAFF]
    if not staff_messages:
        return [TranscriptRow(message=message, sender="") for message in messages]
    author_of_message = {
        str(message_id): actor_id
        for message_id, actor_id in AuditEvent.objects.filter(
            target_type="conversation",
            target_id=str(conversation.pk),
            action="conversation.staff_replied",
            actor_type=ActorType.STAFF,
        ).values_list("data__message_id", "actor_id")
    }
    canceled_flows = {
        str(message.data.get("flow_id"))
        for message in staff_messages
        if isinstance(message.data, dict) and message.data.get("kind") == "flow_canceled"
    }
    canceler_of_flow = {
        target_id: actor_id
        for target_id, actor_id in AuditEvent.objects.filter(
            target_type="flow", target_id__in=canceled_flows, action="flow.canceled", actor_type=ActorType.STAFF
        )
        .order_by("sequence")
        .values_list("target_id", "actor_id")
    }
    authors = {}
    for message in staff_messages:
        data = message.data if isinstance(message.data, dict) else {}
        author = author_of_message.get(str(message.pk))
        if author is None and data.get("kind") == "flow_canceled":
            author = canceler_of_flow.get(str(data.get("flow_id")))
        if author:
            authors[message.pk] = author
    names = people_names(authors.values())
    return [TranscriptRow(message=message, sender=names.get(authors.get(message.pk, ""), "")) for message in messages]


# -- a hand-over: why the customer is with a person, and what their chat held then ---------------------------------

# The most of the customer's words a hand-over quotes (a whole message is at most ORDERING_MESSAGE_MAX_CHARS).
HANDOVER_QUOTE_MAX_CHARS = 300


def preview_items(preview: dict[str, Any] | None) -> str:
    """A preview's lines as people say them: "1x Blue Runner (blue, 42), 2x Trail Sock"."""
    return ", ".join(
        f"{line.get('quantity', 1)}x {line.get('title', '')}" + (f" ({line['variant']})" if line.get("variant") else "")
        for line in (preview or {}).get("lines", [])
    )


def _cart_items(conversation: Conversation | None) -> str:
    """The lines of the conversation's cart as the assistant last saved them (before any preview prices them)."""
    cart = (conversation.agent_state or {}).get("cart") if conversation is not None else None
    if not isinstance(cart, list):
        return ""
    return preview_items({"lines": [line for line in cart if isinstance(line, dict)]})


def _order_words(flow: OrderFlow) -> str:
    items = preview_items(flow.preview)
    total = flow.total_amount if flow.total_amount is not None else (flow.preview or {}).get("total")
    money = f" — {format_money(total, flow.currency or (flow.preview or {}).get('currency') or 'usd')}" if total else ""
    return f"{items}{money}" if items else f"an order{money}"


# What a confirmed order was waiting for when the customer asked for a person.
_WAITING_WORDS = {
    "step_up": "their step-up code (from their authenticator app), nothing charged yet",
    "payment_verification": "their bank's 3-D Secure check, nothing charged yet",
    "risk_review": "a specialist's risk review, nothing charged yet",
    "specialist": "a specialist to repair it",
}


def handover_state(*, conversation: Conversation | None, flow: OrderFlow | None) -> str:
    """What the customer's chat held when they were handed to a person: the order a person could act on (the cart's,
    or the newest one not placed yet), else their cart, else the last order of the chat. A sentence for staff."""
    if flow is None and conversation is not None:
        newest = conversation.flows.order_by("-created_at").first()
        if newest is not None and newest.status == FlowStatus.PLACED:
            when = timezone.localtime(newest.placed_at).strftime("%Y-%m-%d at %H:%M") if newest.placed_at else ""
            order = f"{newest.merchant_order_id} ({_order_words(newest)})" if newest.merchant_order_id else ""
            return (
                f"Nothing was waiting in this chat; their last order here, {order or _order_words(newest)}, was placed"
                + (f" on {when}." if when else ".")
            )
    if flow is None or flow.status == FlowStatus.DRAFT or not flow.preview:
        items = _cart_items(conversation)
        if items:
            return f"Their cart had {items}, not previewed yet: nothing was confirmed or charged."
        return "Their cart was empty and no order was open in this chat."
    order = _order_words(flow)
    if flow.status == FlowStatus.PREVIEWED:
        return f"Their preview of {order} was waiting for their yes: nothing was confirmed or charged."
    if flow.status in (FlowStatus.REQUIRES_ACTION, FlowStatus.ESCALATED):
        waiting = _WAITING_WORDS.get(flow.waiting_for, flow.get_waiting_for_display().lower())
        return f"They had confirmed their order of {order}; it was waiting for {waiting}."
    if flow.status in (FlowStatus.CONFIRMED, FlowStatus.PLACING):
        return f"They had confirmed their order of {order}; it was being placed."
    return f"Their order of {order} was {flow.get_status_display().lower()}."


def handover_detail(*, reason: str, conversation_id: object, flow_id: object | None, noted: str = "") -> str:
    """The escalation's detail for a hand-over (the assistant handing the chat to a person, at the moment it does):
    the customer's last words, quoted, and what their cart, preview or order was then; the assistant's own note
    after, if it gave one."""
    conversation = Conversation.objects.filter(pk=conversation_id).first() if conversation_id else None
    flow = OrderFlow.objects.filter(pk=flow_id).first() if flow_id else None
    last = (
        Message.objects.filter(conversation_id=conversation.pk, role=MessageRole.CUSTOMER)
        .order_by("-created_at", "-id")
        .first()
        if conversation is not None
        else None
    )
    said = []
    if last is not None and last.text.strip():
        words = " ".join(last.text.split())
        if len(words) > HANDOVER_QUOTE_MAX_CHARS:
            words = words[: HANDOVER_QUOTE_MAX_CHARS - 1].rstrip() + "…"
        lead = "They wrote" if reason == EscalationReason.CUSTOMER_REQUEST else "Their last message"
        said.append(f"{lead} “{redact_text(words)}”.")
    said.append(handover_state(conversation=conversation, flow=flow))
    if noted.strip():
        said.append(f"The assistant noted: {noted.strip()}")
    return " ".join(said)


# -- 3-D Secure: what the merchant answered each payment attempt ---------------------------------

# Recorded by `escalations.services.escalation_payment_refusal_record` each time the merchant does not take a payment
# of an order that waits for 3-D Secure (ordering asks for a person again, in the same transaction).
PAYMENT_REFUSED = "escalation.payment_refused"


@dataclass(frozen=True)
class PaymentRefusal:
    """One payment attempt of a 3-D Secure order the merchant did not take: it asked for the bank's check (no
    verification was sent with it), or refused the verification that was (`verification_kind`)."""

    at: datetime
    step_id: int | None
    payment_attempt: int
    detail: str  # what the merchant said, in ordering's words
    verification_kind: str  # "" (nothing was sent), "staff_two_person", "customer_challenge"
    recorded_by: str
    confirmed_by: str
    challenge: str = (
        ""  # "mandated" (by the card's issuer), "preferred" (by the merchant), "" (the merchant did not say)
    )

    @property
    def refused_a_verification(self) -> bool:
        return bool(self.verification_kind)

    @property
    def refused_two_specialists(self) -> bool:
        return self.verification_kind == "staff_two_person"


def payment_refusals(*, flow_id: object) -> list[PaymentRefusal]:
    """What the merchant refused of this order's payments, oldest first (across the escalations of the order)."""
    escalation_ids = [str(pk) for pk in Escalation.objects.filter(flow_id=flow_id).values_list("pk", flat=True)]
    if not escalation_ids:
        return []
    events = AuditEvent.objects.filter(
        target_type="escalation", target_id__in=escalation_ids, action=PAYMENT_REFUSED
    ).order_by("sequence")
    refusals = []
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        if str(data.get("flow_id")) != str(flow_id):
            continue
        verification = data.get("verification") or {}
        refusals.append(
            PaymentRefusal(
                at=event.occurred_at,
                step_id=data.get("step_id") if isinstance(data.get("step_id"), int) else None,
                payment_attempt=int(data.get("payment_attempt") or 0),
                detail=str(data.get("detail") or ""),
                verification_kind=str(verification.get("kind") or ""),
                recorded_by=str(verification.get("recorded_by") or ""),
                confirmed_by=str(verification.get("confirmed_by") or ""),
                challenge=str(data.get("challenge") or ""),
            )
        )
    return refusals


def two_specialists_refused(refusals: Iterable[PaymentRefusal]) -> PaymentRefusal | None:
    """The last verification by two specialists the merchant refused for this order, if any: the merchant decides
    per checkout session whether it takes one (never where the card's issuer mandates its own challenge), so another
    would be refused the same way."""
    refused = [refusal for refusal in refusals if refusal.refused_two_specialists]
    return refused[-1] if refused else None


def challenge_mandated(refusals: Iterable[PaymentRefusal]) -> bool:
    """Whether the merchant said, the last time it said whose wish the bank's check of this order is, that the card's
    issuer mandates it: then only the customer's own check pays, and a verification by two specialists is refused."""
    said = [refusal.challenge for refusal in refusals if refusal.challenge]
    return bool(said) and said[-1] == "mandated"


@dataclass(frozen=True)
class StepRow:
    """One attempt of a saga step as the order card lists it."""

    name: str
    is_compensation: bool
    attempt: int
    status: str
    status_label: str
    failed: bool
    started_at: datetime
    error_class: str
    error_detail: str


def escalation_flow_steps(*, flow: OrderFlow, refusals: Iterable[PaymentRefusal]) -> list[StepRow]:
    """The flow's step attempts. A complete the merchant did not take is shown as what it was, with the merchant's
    words: the saga records it as a step that answered (the flow moved on to wait for the bank's check), not as a
    payment that went through."""
    refused_at_step = {refusal.step_id: refusal for refusal in refusals if refusal.step_id is not None}
    rows = []
    for step in flow.steps.order_by("started_at", "id"):
        refusal = refused_at_step.get(step.pk)
        if refusal is not None:
            rows.append(
                StepRow(
                    name=step.name,
                    is_compensation=step.is_compensation,
                    attempt=step.attempt,
                    status="refused",
                    status_label="Refused by the merchant" if refusal.refused_a_verification else "Needs 3-D Secure",
                    failed=True,
                    started_at=step.started_at,
                    error_class="merchant",
                    error_detail=refusal.detail,
                )
            )
            continue
        rows.append(
            StepRow(
                name=step.name,
                is_compensation=step.is_compensation,
                attempt=step.attempt,
                status=step.status,
                status_label=step.get_status_display(),
                failed=step.status == "failed",
                started_at=step.started_at,
                error_class=step.error_class,
                error_detail=step.error_detail,
            )
        )
    return rows


@dataclass(frozen=True)
class VerificationSummary:
    """What the order card says of the verification the flow carries: who vouched for the payment, and whether the
    merchant took it (`label` heads the row)."""

    label: str
    text: str
    refused: PaymentRefusal | None


def payment_verification_summary(*, flow: OrderFlow, refusals: Iterable[PaymentRefusal]) -> VerificationSummary | None:
    """The verification the flow was last paid with: verified once the order is placed, refused by the merchant when
    it refused that payment attempt, sent otherwise (the flow keeps its last evidence whatever the merchant said)."""
    evidence = flow.payment_verification_evidence or {}
    if not evidence:
        return None
    if evidence.get("kind") == "customer_challenge":
        who = f"the customer, with their bank (3-D Secure result {evidence.get('transaction_id', '')})"
    else:
        names = people_names([evidence.get("recorded_by"), evidence.get("confirmed_by")])
        recorded = names.get(str(evidence.get("recorded_by")), "someone")
        confirmed = names.get(str(evidence.get("confirmed_by")), "someone")
        who = f"two specialists ({recorded} recorded, {confirmed} confirmed): “{evidence.get('note', '')}”"
    if flow.status == FlowStatus.PLACED:
        return VerificationSummary(label="Payment verified by", text=f"{who}.", refused=None)
    refused = next(
        (
            refusal
            for refusal in reversed(list(refusals))
            if refusal.refused_a_verification and refusal.payment_attempt == flow.payment_attempt
        ),
        None,
    )
    if refused is not None:
        at = timezone.localtime(refused.at).strftime("%Y-%m-%d %H:%M:%S")
        # The row's label already says the merchant refused it; its words follow without ordering's own lead-in.
        reason = refused.detail.removeprefix("The merchant refused the last verification: ")
        return VerificationSummary(
            label="Verification refused by the merchant",
            text=f"{who}. The merchant refused it at {at}, and nothing was charged: {reason}",
            refused=refused,
        )
    return VerificationSummary(
        label="Payment verification",
        text=f"{who}; sent to the merchant with the payment (the order is {flow.get_status_display().lower()}).",
        refused=None,
    )


_STOPPED_BY = {ActorType.CUSTOMER: "the customer", ActorType.AGENT: "the assistant", ActorType.SYSTEM: "the system"}


def flow_stop_reason(flow: OrderFlow) -> str:
    """The words for why the flow stopped (its `failure_code`), matching that code.

    A cancel (or an expired hold) sets the code but leaves the flow's `failure_detail` as it was, which then still
    says why the flow waited before (the merchant's refusal of a verification, say): that text is not the reason. Who
    stopped it and when come from its own `flow.canceled` / `flow.expired` event instead."""
    if flow.status not in (FlowStatus.CANCELED, FlowStatus.EXPIRED):
        return flow.failure_detail
    event = (
        AuditEvent.objects.filter(target_type="flow", target_id=str(flow.pk), action=f"flow.{flow.status}")
        .order_by("-sequence")
        .first()
    )
    if event is None:
        return ""
    if event.actor_type == ActorType.STAFF:
        who = f"{people_names([event.actor_id]).get(event.actor_id, 'a specialist')} (staff)"
    else:
        who = _STOPPED_BY.get(event.actor_type, event.actor_type)
    at = timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S")
    return f"{flow.get_status_display()} by {who} at {at}."


def escalation_reply_repeated(*, escalation_id: int, staff_id: int, text: str, since: datetime) -> Message | None:
    """The message with these same words that this specialist sent on this escalation since `since`, if any: found
    through the escalation's own `escalation.replied` events, which name who sent which message."""
    message_ids = [
        message_id
        for message_id in AuditEvent.objects.filter(
            target_type="escalation",
            target_id=str(escalation_id),
            action="escalation.replied",
            outcome=Outcome.OK,
            actor_type=ActorType.STAFF,
            actor_id=str(staff_id),
            occurred_at__gte=since,
        ).values_list("data__message_id", flat=True)
        if isinstance(message_id, int)
    ]
    if not message_ids:
        return None
    return Message.objects.filter(pk__in=message_ids, text=text.strip()).order_by("-created_at", "-id").first()


def escalations_of_customer(*, customer_id: int, exclude_id: int | None = None) -> QuerySet[Escalation]:
    queryset = Escalation.objects.filter(customer_id=customer_id).order_by("-created_at")
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return queryset


def escalation_counts_for_staff(*, staff_id: int) -> dict[str, int]:
    active = Escalation.objects.filter(status__in=OPEN_STATUSES)
    now = timezone.now()
    return {
        "open": active.filter(status=EscalationStatus.OPEN).count(),
        "mine": active.filter(assignee_id=staff_id).count(),
        "breached": active.filter(sla_due_at__lt=now).count(),
    }


# -- what ordering reads of escalations (ordering.hooks.escalation_records) ----------------------------


class EscalationRecordsForOrdering:
    """Answers ordering's reads of escalations (the trace lookup, the rollout gate) without ordering
    importing this app: registered from `EscalationsConfig.ready`."""

    def escalations_of(
        self, *, flow_ids: Iterable[object], conversation_ids: Iterable[object], limit: int
    ) -> list[EscalationSummary]:
        rows = Escalation.objects.filter(
            Q(flow_id__in=list(flow_ids)) | Q(conversation_id__in=list(conversation_ids))
        ).order_by("created_at")[:limit]
        return [
            EscalationSummary(
                id=row.pk,
                reason=row.reason,
                reason_label=row.get_reason_display(),
                status=row.status,
                detail=row.detail,
                created_at=row.created_at,
                resolved_at=row.resolved_at,
                resolution_code=row.resolution_code,
                trace_id=row.trace_id,
            )
            for row in rows
        ]

    def escalations_opened_count(
        self,
        *,
        flows: QuerySet[OrderFlow],
        conversations: QuerySet[Conversation],
        since: datetime,
        until: datetime,
    ) -> int:
        return Escalation.objects.filter(
            Q(flow__in=flows) | Q(flow__isnull=True, conversation__in=conversations),
            created_at__gte=since,
            created_at__lt=until,
        ).count()


escalation_records = EscalationRecordsForOrdering()
