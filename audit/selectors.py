"""Append-only, hash-chained audit log: reads."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from audit.models import AuditEvent
from audit.services import GENESIS_HASH, event_hash


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    count: int
    first_bad_sequence: int | None = None
    reason: str = ""


def audit_chain_verify(*, after_sequence: int = 0, after_hash: str = GENESIS_HASH) -> ChainReport:
    """Recompute the chain; name the first row whose position, link or content is wrong.

    After an archive removed rows up to N, pass `after_sequence=N` and the archived hash of row N:
    the live table must then start at N+1 and link to that hash.
    """
    expected_sequence = after_sequence + 1
    previous_hash = after_hash
    count = 0
    events = AuditEvent.objects.filter(sequence__gt=after_sequence).order_by("sequence")
    for event in events.iterator(chunk_size=2000):
        if event.sequence != expected_sequence:
            return ChainReport(False, count, expected_sequence, f"sequence {expected_sequence} is missing")
        if event.previous_hash != previous_hash:
            return ChainReport(False, count, event.sequence, "its previous_hash does not match the row before it")
        if event_hash(event) != event.hash:
            return ChainReport(False, count, event.sequence, "its content does not match its hash")
        previous_hash = event.hash
        expected_sequence += 1
        count += 1
    return ChainReport(True, count)


def audit_events_for_customer(*, customer_id: int) -> QuerySet[AuditEvent]:
    """A customer's own activity: events about them, newest first. Nobody else's events, ever."""
    return AuditEvent.objects.filter(customer_id=customer_id).order_by("-sequence")


def audit_events_for_trace(*, trace_id: str) -> QuerySet[AuditEvent]:
    """Everything that happened under one trace id, in the order it happened."""
    return AuditEvent.objects.filter(trace_id=trace_id).order_by("sequence")
