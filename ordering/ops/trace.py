"""Trace lookup: from one id a person pasted, the whole story of a conversation on one timeline.

The id may be a trace id (the `X-Trace-ID` a request carried, stored on conversations, flows, flow steps,
escalations, webhook events and audit events), an order flow's id, a conversation's id or a merchant's
order id. It leads to one or more conversations; the story is everything of those conversations, in
time order: messages, chat turns, the agent's decisions (with the risk policy version that decided, from
the `risk.assessed` audit events), the flows with their steps, undo steps and compensations, escalations,
the merchant's webhook events for the orders, and the audit events of the traces and targets involved.
Nothing of another conversation appears. A fixed number of queries, each capped at `limit` rows.

Our side stores no row per HTTP attempt to a merchant: the flow's steps and undo steps that call the
shop are marked as merchant calls, with their idempotency key, and the attempts themselves are the
`merchant.request` log lines of the same trace id. When the built-in sandbox merchant is installed (the
demo, the tests) its own record of every request it received (`ReceivedRequest`: method, path, status,
duration, trace id) is shown for the story's trace ids: what the shop saw, attempt by attempt.

Text and JSON shown go through audit.redaction first (a card number a customer typed into the chat,
a `token` key in a step's result), and delegated payment token ids (`vt_…`, credentials) are masked
wherever they appear: this page never shows a secret, whatever a row holds.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q

from audit.models import AuditEvent
from audit.redaction import redact, redact_text
from catalog_adapters.models import MerchantWebhookEvent
from consent.formatting import format_money
from ordering.hooks import escalation_records
from ordering.models import (
    AgentDecision,
    Conversation,
    ConversationTurn,
    FlowCompensation,
    FlowStep,
    Message,
    OrderFlow,
)
from ordering.saga.base import LOCAL_STEPS

MAX_QUERY_LENGTH = 128
DEFAULT_LIMIT = 500
# Undo steps that are our own ledger, not a call to the shop.
LOCAL_COMPENSATIONS = frozenset({"release_spend"})
RISK_ACTION = "risk.assessed"
# A delegated payment token's id is a credential (catalog_adapters.http keeps it out of logs the same way).
_TOKEN_ID = re.compile(r"vt_[A-Za-z0-9]+")


class TraceQueryInvalid(ValueError):
    """What was pasted cannot be an id (empty, or longer than any id we store)."""


@dataclass(frozen=True)
class StoryEntry:
    at: datetime
    kind: str  # message, turn, decision, flow, step, undo, compensation, escalation, webhook, audit
    title: str
    detail: str = ""
    outcome: str = ""  # ok, failed, or "" (styling and a word for the person reading)
    trace_id: str = ""
    merchant_call: bool = False
    policy_version: str = ""
    data: str = ""  # redacted, pretty JSON, or ""

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


KIND_LABELS = {
    "message": "message",
    "turn": "chat turn",
    "decision": "agent decision",
    "flow": "order flow",
    "step": "flow step",
    "undo": "undo step",
    "compensation": "compensation",
    "escalation": "escalation",
    "webhook": "merchant webhook",
    "merchant_request": "merchant received",
    "audit": "audit event",
}
# Ties in time (the same transaction) read cause before effect.
_KIND_ORDER = {kind: number for number, kind in enumerate(KIND_LABELS)}


@dataclass
class TraceStory:
    query: str
    matched_by: list[str]
    conversations: list[Conversation]
    flows: list[OrderFlow]
    entries: list[StoryEntry] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)
    truncated: bool = False

    @property
    def found(self) -> bool:
        return bool(self.conversations or self.flows or self.entries)


def _json(value: Any) -> str:
    if not value:
        return ""
    return json.dumps(redact(value), cls=DjangoJSONEncoder, indent=2, sort_keys=True, ensure_ascii=False)


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _seconds(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    return f"{(end - start).total_seconds():.2f} s"


def trace_story(*, query: str, limit: int = DEFAULT_LIMIT) -> TraceStory:
    """The story behind `query`; `found` is False when no row carries it. Raises TraceQueryInvalid."""
    text = (query or "").strip()
    if not text:
        raise TraceQueryInvalid("Paste a trace id, an order flow id or a merchant order id.")
    if len(text) > MAX_QUERY_LENGTH:
        raise TraceQueryInvalid(f"That is {len(text)} characters long; ids are at most {MAX_QUERY_LENGTH}.")
    if not text.isprintable():
        # PostgreSQL refuses a NUL in a query's text (a 500); no id carries a control character of any kind.
        raise TraceQueryInvalid("That has a control character in it (a tab, a line break or a NUL); ids have none.")
    as_uuid = _as_uuid(text)

    # -- which conversations the id leads to --------------------------------------------------------
    matched_by: list[str] = []
    flow_match = Q(merchant_order_id=text) | Q(trace_id=text) | Q(steps__trace_id=text)
    conversation_match = Q(trace_id=text)
    if as_uuid is not None:
        flow_match |= Q(pk=as_uuid)
        conversation_match |= Q(pk=as_uuid)
    hit_flows = list(OrderFlow.objects.filter(flow_match).distinct().values("pk", "conversation_id", "trace_id",
                                                                            "merchant_order_id")[:limit])  # fmt: skip
    hit_conversations = list(Conversation.objects.filter(conversation_match).values("pk", "trace_id")[:limit])
    for row in hit_flows:
        if as_uuid is not None and row["pk"] == as_uuid:
            matched_by.append("order flow id")
        if row["merchant_order_id"] == text:
            matched_by.append("merchant order id")
    for row in hit_conversations:
        if as_uuid is not None and row["pk"] == as_uuid:
            matched_by.append("conversation id")
    if any(row["trace_id"] == text for row in [*hit_flows, *hit_conversations]) or (
        hit_flows and "order flow id" not in matched_by and "merchant order id" not in matched_by
    ):
        matched_by.append("trace id")
    conversation_ids = {row["conversation_id"] for row in hit_flows} | {row["pk"] for row in hit_conversations}
    # A trace that left only audit events (a turn, a staff action) still names its flow or conversation.
    traced_targets = list(
        AuditEvent.objects.filter(trace_id=text, target_type__in=("flow", "conversation"))
        .values_list("target_type", "target_id")
        .distinct()[:limit]
    )
    target_flow_ids = [_as_uuid(target_id) for kind, target_id in traced_targets if kind == "flow"]
    target_conversation_ids = [_as_uuid(target_id) for kind, target_id in traced_targets if kind == "conversation"]
    if traced_targets:
        extra = Conversation.objects.filter(
            Q(pk__in=[pk for pk in target_conversation_ids if pk])
            | Q(flows__pk__in=[pk for pk in target_flow_ids if pk])
        ).values_list("pk", flat=True)
        before = len(conversation_ids)
        conversation_ids |= set(extra[:limit])
        if len(conversation_ids) > before and "trace id" not in matched_by:
            matched_by.append("trace id")

    conversations = list(
        Conversation.objects.filter(pk__in=conversation_ids).select_related("customer").order_by("created_at")
    )
    flows = list(
        OrderFlow.objects.filter(conversation_id__in=conversation_ids)
        .select_related("payment_method")
        .order_by("created_at")[:limit]
    )
    story = TraceStory(query=text, matched_by=matched_by, conversations=conversations, flows=flows)
    if not conversations:
        # Audit events under the trace that belong to no conversation (a sign-in, a staff action).
        _add_audit_events(story, Q(trace_id=text), limit=limit)
        if story.entries:
            story.matched_by.append("trace id")
        _finish(story, limit=limit)
        return story

    flow_ids = [flow.pk for flow in flows]
    entries = story.entries
    truncated = False

    def capped(rows: list) -> list:
        nonlocal truncated
        if len(rows) > limit:
            truncated = True
            return rows[:limit]
        return rows

    for message in capped(list(Message.objects.filter(conversation_id__in=conversation_ids)[: limit + 1])):
        entries.append(
            StoryEntry(
                at=message.created_at,
                kind="message",
                title=message.get_role_display(),
                detail=redact_text(message.text),
                data=_json(message.data),
            )
        )
    for turn in capped(list(ConversationTurn.objects.filter(conversation_id__in=conversation_ids)[: limit + 1])):
        took = _seconds(turn.started_at, turn.finished_at)
        entries.append(
            StoryEntry(
                at=turn.started_at,
                kind="turn",
                title=f"Turn #{turn.pk} {turn.status}",
                detail=f"planner {turn.planner or '-'}" + (f", answered in {took}" if took else ", not finished"),
                outcome="failed" if turn.status == "failed" else "",
            )
        )
    for decision in capped(list(AgentDecision.objects.filter(conversation_id__in=conversation_ids)[: limit + 1])):
        detail = redact_text(decision.rationale)
        if decision.error:
            detail = f"{detail}\nError: {redact_text(decision.error)}".strip()
        entries.append(
            StoryEntry(
                at=decision.created_at,
                kind="decision",
                title=f"{decision.get_kind_display()}: {decision.name}",
                detail=detail,
                outcome="ok" if decision.ok else "failed",
                data=_json({"arguments": decision.arguments, "result": decision.result}),
            )
        )
    for flow in flows:
        _add_flow(entries, flow)
    steps = capped(list(FlowStep.objects.filter(flow_id__in=flow_ids)[: limit + 1]))
    for step in steps:
        took = _seconds(step.started_at, step.finished_at)
        error = f"{step.error_class}: {redact_text(step.error_detail)}" if step.error_class else ""
        merchant_call = step.name not in LOCAL_STEPS and step.name not in LOCAL_COMPENSATIONS
        entries.append(
            StoryEntry(
                at=step.started_at,
                kind="undo" if step.is_compensation else "step",
                title=f"{step.name} (attempt {step.attempt}) {step.status}",
                detail="; ".join(
                    part
                    for part in (
                        f"flow {step.flow_id}",
                        f"took {took}" if took else "not finished",
                        f"idempotency key {step.idempotency_key}" if step.idempotency_key and merchant_call else "",
                        error,
                    )
                    if part
                ),
                outcome={"failed": "failed", "succeeded": "ok"}.get(step.status, ""),
                trace_id=step.trace_id,
                merchant_call=merchant_call,
                data=_json(step.result),
            )
        )
    for compensation in capped(list(FlowCompensation.objects.filter(flow_id__in=flow_ids)[: limit + 1])):
        entries.append(
            StoryEntry(
                at=compensation.registered_at,
                kind="compensation",
                title=f"Undo registered: {compensation.action} ({compensation.status})",
                detail="; ".join(
                    part
                    for part in (
                        f"flow {compensation.flow_id}, round {compensation.placement_round}",
                        f"{compensation.attempts} attempt(s)",
                        f"finished {compensation.finished_at:%Y-%m-%d %H:%M:%S}" if compensation.finished_at else "",
                        f"gave up {compensation.gave_up_at:%Y-%m-%d %H:%M:%S}" if compensation.gave_up_at else "",
                        f"last error: {redact_text(compensation.last_error)}" if compensation.last_error else "",
                    )
                    if part
                ),
                outcome={"failed": "failed", "done": "ok"}.get(compensation.status, ""),
                merchant_call=compensation.action not in LOCAL_COMPENSATIONS,
            )
        )
    escalations = capped(
        escalation_records.get().escalations_of(flow_ids=flow_ids, conversation_ids=conversation_ids, limit=limit + 1)
    )
    for escalation in escalations:
        resolved = (
            f"; {escalation.status} {escalation.resolved_at:%Y-%m-%d %H:%M:%S} ({escalation.resolution_code})"
            if escalation.resolved_at
            else f"; {escalation.status}"
        )
        entries.append(
            StoryEntry(
                at=escalation.created_at,
                kind="escalation",
                title=f"Escalation #{escalation.id}: {escalation.reason_label}",
                detail=redact_text(escalation.detail) + resolved,
                trace_id=escalation.trace_id,
            )
        )
    orders = [(flow.merchant_id, flow.merchant_order_id) for flow in flows if flow.merchant_order_id]
    if orders:
        order_match = Q()
        for merchant_id, order_id in orders:
            order_match |= Q(merchant_id=merchant_id, order_id=order_id)
        for event in capped(
            list(MerchantWebhookEvent.objects.filter(order_match).order_by("received_at")[: limit + 1])
        ):
            entries.append(
                StoryEntry(
                    at=event.received_at,
                    kind="webhook",
                    title=f"{event.merchant_id} sent {event.event_type} for {event.order_id}",
                    detail=f"order status {event.order_status or '-'}; delivered {event.deliveries}x; "
                    f"outcome {event.outcome or 'not handled yet'}",
                    trace_id=event.trace_id,
                    merchant_call=True,
                    data=_json(event.payload),
                )
            )

    trace_ids = {text} | {conversation.trace_id for conversation in conversations} | {flow.trace_id for flow in flows}
    trace_ids |= {step.trace_id for step in steps}
    trace_ids.discard("")
    audit_match = (
        Q(trace_id__in=sorted(trace_ids))
        | Q(target_type="flow", target_id__in=[str(pk) for pk in flow_ids])
        | Q(target_type="conversation", target_id__in=[str(pk) for pk in conversation_ids])
        | Q(target_type="escalation", target_id__in=[str(escalation.id) for escalation in escalations])
    )
    _add_audit_events(story, audit_match, limit=limit)
    # The turns' and staff's requests left their trace ids only on audit events: the shop saw those too.
    trace_ids |= {entry.trace_id for entry in story.entries if entry.trace_id}
    _add_sandbox_requests(story, trace_ids=trace_ids, limit=limit)
    story.truncated = story.truncated or truncated
    _finish(story, limit=limit)
    return story


def _add_flow(entries: list[StoryEntry], flow: OrderFlow) -> None:
    total = format_money(flow.total_amount, flow.currency) if flow.total_amount is not None and flow.currency else "-"
    card = f", {flow.payment_method}" if flow.payment_method_id else ""
    entries.append(
        StoryEntry(
            at=flow.created_at,
            kind="flow",
            title=f"Order flow {flow.pk} started at {flow.merchant_id}",
            detail=f"checkout session {flow.checkout_session_id}; now {flow.status}",
            trace_id=flow.trace_id,
            merchant_call=True,
        )
    )
    if flow.confirmed_at:
        entries.append(
            StoryEntry(
                at=flow.confirmed_at,
                kind="flow",
                title=f"Customer confirmed {total}{card}",
                detail=f"via {flow.get_confirmed_via_display() or '-'}; confirmation {flow.confirmations}",
                trace_id=flow.trace_id,
            )
        )
    if flow.placed_at:
        entries.append(
            StoryEntry(
                at=flow.placed_at,
                kind="flow",
                title=f"Placed: merchant order {flow.merchant_order_id}",
                detail=f"{total}; shop's status {flow.merchant_order_status or '-'}"
                + (f"; refunded {format_money(flow.refunded_amount, flow.currency)}" if flow.refunded_amount else ""),
                outcome="ok",
                trace_id=flow.trace_id,
            )
        )
    elif flow.failure_code:
        entries.append(
            StoryEntry(
                at=flow.updated_at,
                kind="flow",
                title=f"Flow {flow.status}: {flow.failure_code}",
                detail=redact_text(flow.failure_detail),
                outcome="failed",
                trace_id=flow.trace_id,
            )
        )
    elif flow.waiting_for:
        entries.append(
            StoryEntry(
                at=flow.updated_at,
                kind="flow",
                title=f"Flow {flow.status}: waiting for {flow.get_waiting_for_display().lower()}",
                detail=redact_text(flow.failure_detail),
                trace_id=flow.trace_id,
            )
        )


def _add_audit_events(story: TraceStory, match: Q, *, limit: int) -> None:
    events = list(AuditEvent.objects.filter(match).order_by("sequence")[: limit + 1])
    if len(events) > limit:
        story.truncated = True
        events = events[:limit]
    for event in events:
        actor = f"{event.actor_type}:{event.actor_id}" if event.actor_id else event.actor_type
        target = f" → {event.target_type}:{event.target_id}" if event.target_type else ""
        is_risk = event.action == RISK_ACTION
        story.entries.append(
            StoryEntry(
                at=event.occurred_at,
                # The risk decision is the agent's side's decision as much as an audit fact: shown as one.
                kind="decision" if is_risk else "audit",
                title=f"Risk decision: {event.data.get('decision', '?')}" if is_risk else event.action,
                detail=(
                    f"score {event.data.get('score', '?')}; reasons: {', '.join(event.data.get('reasons') or ['-'])}"
                    if is_risk
                    else f"#{event.sequence} by {actor}{target}"
                ),
                outcome="failed" if event.outcome != "ok" else "ok",
                trace_id=event.trace_id,
                policy_version=event.policy_version or "",
                data=_json(event.data),  # redacted when written; redacted again costs nothing
            )
        )


def _add_sandbox_requests(story: TraceStory, *, trace_ids: set[str], limit: int) -> None:
    if not trace_ids or not apps.is_installed("sandbox_merchant"):
        return
    received = apps.get_model("sandbox_merchant", "ReceivedRequest")
    requests = list(received.objects.filter(trace_id__in=sorted(trace_ids)).order_by("received_at", "id")[: limit + 1])
    if len(requests) > limit:
        story.truncated = True
        requests = requests[:limit]
    for request in requests:
        status = request.status
        story.entries.append(
            StoryEntry(
                at=request.received_at,
                kind="merchant_request",
                title=f"{request.method} {request.path} → {status or 'no answer'}",
                detail="; ".join(
                    part
                    for part in (
                        f"sandbox merchant, operation {request.operation or '-'}",
                        f"{request.duration_ms} ms" if request.duration_ms is not None else "",
                        "replayed for a repeated Idempotency-Key" if request.replayed else "",
                        f"faults {request.faults}" if request.faults else "",
                        f"Request-Id {request.request_id}" if request.request_id else "",
                    )
                    if part
                ),
                outcome="" if status is None else ("ok" if status < 400 else "failed"),
                trace_id=request.trace_id,
                merchant_call=True,
            )
        )


def _without_token_ids(text: str) -> str:
    return _TOKEN_ID.sub("vt_[redacted]", text) if "vt_" in text else text


def _finish(story: TraceStory, *, limit: int) -> None:
    # A token id can sit anywhere (a shop's path, an audit event's data): none leaves this page.
    story.entries = [
        replace(
            entry,
            title=_without_token_ids(entry.title),
            detail=_without_token_ids(entry.detail),
            data=_without_token_ids(entry.data),
        )
        for entry in story.entries
    ]
    story.entries.sort(key=lambda entry: (entry.at, _KIND_ORDER.get(entry.kind, 99)))
    traces = {entry.trace_id for entry in story.entries if entry.trace_id}
    traces |= {conversation.trace_id for conversation in story.conversations if conversation.trace_id}
    story.trace_ids = sorted(traces)
    if not story.matched_by and story.found:
        story.matched_by.append("trace id")
    story.matched_by = list(dict.fromkeys(story.matched_by))
