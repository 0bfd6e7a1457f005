"""The human-in-the-loop queue: reads, as querysets and plain values for views, tasks and other apps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Value, When
from django.utils import timezone

from audit.models import ActorType, AuditEvent, Outcome
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
from ordering.models import Conversation, EscalationReason, Message, OrderFlow


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
