"""Append-only, hash-chained audit log: writes.

`audit_record` is the only door: nothing else creates AuditEvent rows, and the database refuses to
change or delete them. Each event's hash covers its canonical JSON plus the previous event's hash,
so removing, reordering or editing any row breaks the chain at that row.

Writers are serialized so the chain never forks and sequence numbers have no gaps: a transaction
advisory lock on PostgreSQL, the write lock of an IMMEDIATE transaction on SQLite. The event joins
the caller's transaction, so it commits or rolls back with the change it describes; callers should
keep such transactions short, since the lock is held until they end.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.models import ActorType, AuditEvent, Outcome
from config.client_ip import client_ip
from config.tracing import get_trace_id

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# Any constant shared by all writers; it names the lock in pg_locks ("audit" in ASCII).
_POSTGRES_LOCK_KEY = 0x6175646974
REDACTED = "[redacted]"

# Keys whose values never enter the log, whatever their content.
_SECRET_KEY_PATTERN = re.compile(
    r"(card.?number|^number$|^pan$|cvc|cvv|security.?code|secret|password|passwd|token|authorization|"
    r"api.?key|credential|cookie|session.?id|otp|totp)",
    re.IGNORECASE,
)
# Digit runs that look like card numbers (13-19 digits, spaces or dashes allowed) inside any string.
_PAN_PATTERN = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


class AuditWriteError(Exception):
    """The event could not be written; the caller's transaction must not commit without it."""


class AuditExportError(Exception):
    """The chain head could not be exported (no destination configured, or it cannot be appended to)."""


@dataclass(frozen=True)
class HeadAnchor:
    """The chain head at a moment: the last event's sequence and hash, as exported out of the app's reach."""

    sequence: int
    hash: str
    at: str

    def to_json_line(self) -> str:
        return json.dumps({"sequence": self.sequence, "hash": self.hash, "at": self.at}, sort_keys=True) + "\n"


@dataclass(frozen=True)
class Origin:
    """Where an action came from: the client's address and software, and the channel it used."""

    ip: str | None = None
    user_agent: str = ""
    channel: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, *, channel: str = "web") -> Origin:
        # The address sign-in lockouts count too: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the
        # entry of X-Forwarded-For they appended (never one the client wrote).
        return cls(ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")[:256], channel=channel)


def redact(value: Any) -> Any:
    """A JSON-safe copy of `value` with secrets and card-number-like strings removed."""
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if _SECRET_KEY_PATTERN.search(str(key)) else redact(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return _PAN_PATTERN.sub(REDACTED, value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(event: AuditEvent) -> str:
    """The hash of an event: SHA-256 over the canonical JSON of its fields and the previous hash."""
    content = {
        "sequence": event.sequence,
        "occurred_at": _timestamp(event.occurred_at),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "customer_id": event.customer_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "outcome": event.outcome,
        "trace_id": event.trace_id,
        "origin_ip": event.origin_ip,
        "origin_user_agent": event.origin_user_agent,
        "origin_channel": event.origin_channel,
        "policy_version": event.policy_version,
        "data": event.data,
        "previous_hash": event.previous_hash,
    }
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_POSTGRES_LOCK_KEY])
    elif connection.vendor == "sqlite":
        # The transaction began with BEGIN IMMEDIATE, so this connection already holds the write lock.
        if getattr(connection, "transaction_mode", None) != "IMMEDIATE":
            raise ImproperlyConfigured("SQLite needs OPTIONS transaction_mode=IMMEDIATE for the audit chain.")
    else:
        raise ImproperlyConfigured(f"The audit chain has no writer lock for {connection.vendor}.")


def audit_record(
    *,
    action: str,
    actor_type: ActorType | str,
    actor_id: str | int | None = None,
    customer_id: int | None = None,
    target_type: str = "",
    target_id: str | int | None = None,
    outcome: Outcome | str = Outcome.OK,
    data: Mapping[str, Any] | None = None,
    origin: Origin | None = None,
    policy_version: str | None = None,
    trace_id: str | None = None,
) -> AuditEvent:
    """Append one event to the audit chain, inside the caller's transaction if there is one.

    `action` is a dotted name (`flow.confirmed`); `customer_id` is the customer the event concerns
    (it puts the event in their activity log); `data` is redacted before it is stored; the trace id
    defaults to the current one.
    """
    if actor_type not in ActorType.values:
        raise ValueError(f"unknown actor type {actor_type!r}")
    if outcome not in Outcome.values:
        raise ValueError(f"unknown outcome {outcome!r}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", action):
        raise ValueError(f"action {action!r} must be a dotted lower-case name such as 'flow.confirmed'")
    origin = origin or Origin()
    # Store exactly what was hashed: a JSON round trip makes the stored data equal the hashed data.
    clean_data = json.loads(canonical_json(redact(dict(data or {}))))

    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
        event = AuditEvent(
            sequence=(last["sequence"] + 1) if last else 1,
            occurred_at=timezone.now(),
            actor_type=str(actor_type),
            actor_id="" if actor_id is None else str(actor_id)[:64],
            customer_id=customer_id,
            action=action,
            target_type=target_type[:64],
            target_id="" if target_id is None else str(target_id)[:64],
            outcome=str(outcome),
            trace_id=(trace_id or get_trace_id() or "")[:64],
            origin_ip=origin.ip,
            origin_user_agent=origin.user_agent[:256],
            origin_channel=origin.channel[:32],
            policy_version=policy_version,
            data=clean_data,
            previous_hash=last["hash"] if last else GENESIS_HASH,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
    return event


def audit_head_export(*, path: str | os.PathLike | None = None) -> HeadAnchor | None:
    """Append the current chain head as one JSON line to `path` (default AUDIT_HEAD_EXPORT_PATH).

    The file is only ever opened for appending (O_APPEND, one write per line), so it works on a file
    made append-only with `chattr +a` and never rewrites an earlier line. The same anchor goes to the
    log, for deployments that ship logs to a store the app cannot change. An empty chain has no head:
    nothing is written and None is returned.
    """
    destination = path or getattr(settings, "AUDIT_HEAD_EXPORT_PATH", "")
    if not destination:
        raise AuditExportError("No destination for the audit head: set AUDIT_HEAD_EXPORT_PATH or pass a path.")
    head = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
    if head is None:
        return None
    anchor = HeadAnchor(sequence=head["sequence"], hash=head["hash"], at=_timestamp(timezone.now()))
    try:
        descriptor = os.open(destination, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, anchor.to_json_line().encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as error:
        raise AuditExportError(f"Cannot append the audit head to {destination}: {error.strerror}") from error
    logger.info(
        "audit head exported",
        extra={"audit_head_sequence": anchor.sequence, "audit_head_hash": anchor.hash, "audit_head_at": anchor.at},
    )
    return anchor
