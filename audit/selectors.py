"""Append-only, hash-chained audit log: reads."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Max, QuerySet

from audit.models import AuditEvent, AuditSeal
from audit.services import GENESIS_HASH, HeadAnchor, seal_hash

_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    count: int
    first_bad_sequence: int | None = None  # the chain position of the first bad row
    reason: str = ""
    # Events committed after the last seal looked: not in the chain yet, which is not a fault.
    pending: int = 0


def audit_chain_verify(*, after_sequence: int = 0, after_hash: str = GENESIS_HASH) -> ChainReport:
    """Recompute the chain; name the first position whose place, link or content is wrong.

    Run `audit_seal` first to include everything committed so far (`manage.py audit_verify` does).
    After an archive removed positions up to N, pass `after_sequence=N` and the archived hash of
    position N: the live chain must then start at N+1 and link to that hash. An event left out of
    the chain although every transaction before it has ended (it was slipped in under the sealer's
    horizon, or its seal was removed) breaks the chain too.
    """
    expected_position = after_sequence + 1
    previous_hash = after_hash
    count = 0
    seals = AuditSeal.objects.filter(position__gt=after_sequence).select_related("event").order_by("position")
    for seal in seals.iterator(chunk_size=2000):
        if seal.position != expected_position:
            return ChainReport(
                False, count, expected_position, f"position {expected_position} is missing (its seal or its event)"
            )
        if seal.previous_hash != previous_hash:
            return ChainReport(False, count, seal.position, "its previous_hash does not match the row before it")
        if seal_hash(seal.event, position=seal.position, previous_hash=seal.previous_hash) != seal.hash:
            return ChainReport(False, count, seal.position, "its content does not match its hash")
        previous_hash = seal.hash
        expected_position += 1
        count += 1
    head = AuditSeal.objects.order_by("-position").values("horizon").first()
    unsealed = AuditEvent.objects.filter(seal__isnull=True)
    if head is not None:
        outside = unsealed.filter(xact__lt=head["horizon"]).order_by("sequence").values("sequence").first()
        if outside is not None:
            return ChainReport(
                False,
                count,
                None,
                f"event sequence {outside['sequence']} is not in the chain, though it was committed before the "
                "chain's last seal",
            )
    return ChainReport(True, count, pending=unsealed.count())


class AnchorFileError(Exception):
    """The anchor file cannot be read or a line of it is not an anchor."""


@dataclass(frozen=True)
class AnchorReport:
    intact: bool
    checked: int
    skipped: int
    chain_head: int
    broken_line: int | None = None
    broken_anchor: HeadAnchor | None = None
    reason: str = ""


def audit_anchors_read(*, path: str | os.PathLike) -> list[tuple[int, HeadAnchor]]:
    """The anchors in an exported head file, with their line numbers, in file (= export) order."""
    try:
        with open(path, encoding="utf-8") as lines:
            raw_lines = list(lines)
    except OSError as error:
        raise AnchorFileError(f"Cannot read the anchor file {path}: {error.strerror}") from error
    anchors = []
    for number, line in enumerate(raw_lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            anchor = HeadAnchor(sequence=record["sequence"], hash=record["hash"], at=str(record.get("at", "")))
        except (ValueError, KeyError, TypeError):
            raise AnchorFileError(f"{path} line {number} is not an anchor {{sequence, hash, at}}.") from None
        if not isinstance(anchor.sequence, int) or anchor.sequence < 1 or not _HASH.fullmatch(str(anchor.hash)):
            raise AnchorFileError(f"{path} line {number} has no valid sequence and SHA-256 hash.")
        anchors.append((number, anchor))
    return anchors


def audit_anchors_verify(*, anchors: Iterable[tuple[int, HeadAnchor]], after_sequence: int = 0) -> AnchorReport:
    """Check that the chain holds, at every anchored sequence, exactly the anchored hash.

    A re-chained history (rows rewritten and every hash recomputed) passes `audit_chain_verify` but
    not this; nor does a chain whose tail was cut off (it ends before the last anchor). Anchors at or
    below `after_sequence` point into an archive and are skipped. The first broken anchor is named.
    """
    anchors = list(anchors)
    chain_head = AuditSeal.objects.aggregate(head=Max("position"))["head"] or 0
    wanted = sorted({anchor.sequence for _, anchor in anchors if anchor.sequence > after_sequence})
    hashes: dict[int, str] = {}
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        hashes.update(AuditSeal.objects.filter(position__in=chunk).values_list("position", "hash"))
    checked = skipped = 0
    for number, anchor in anchors:
        if anchor.sequence <= after_sequence:
            skipped += 1
            continue
        actual = hashes.get(anchor.sequence)
        reason = ""
        if actual is None and anchor.sequence > chain_head:
            reason = (
                f"the chain ends at sequence {chain_head}, before this anchor: "
                f"events {chain_head + 1}..{anchor.sequence} were removed"
            )
        elif actual is None:
            reason = f"sequence {anchor.sequence} is missing from the chain"
        elif actual != anchor.hash:
            reason = (
                f"the chain has hash {actual[:16]}… at sequence {anchor.sequence}, the anchor {anchor.hash[:16]}…: "
                f"history up to sequence {anchor.sequence} was rewritten"
            )
        if reason:
            return AnchorReport(False, checked, skipped, chain_head, number, anchor, reason)
        checked += 1
    return AnchorReport(True, checked, skipped, chain_head)


def audit_events_for_customer(*, customer_id: int) -> QuerySet[AuditEvent]:
    """A customer's own activity: events about them, newest first. Nobody else's events, ever."""
    return AuditEvent.objects.filter(customer_id=customer_id).order_by("-sequence")


def audit_event_seal(*, event: AuditEvent) -> AuditSeal | None:
    """The event's place in the chain, or None while it waits for the sealer."""
    return AuditSeal.objects.filter(event=event).first()


def audit_events_for_trace(*, trace_id: str) -> QuerySet[AuditEvent]:
    """Everything that happened under one trace id, in the order it happened."""
    return AuditEvent.objects.filter(trace_id=trace_id).order_by("sequence")
