"""Append-only, hash-chained audit log: writes.

`audit_record` is the only door for events: nothing else creates AuditEvent rows, and the database
refuses to change or delete them. It writes the event *unsealed* inside the caller's transaction (so
it commits or rolls back with the change it describes), taking no lock and reading nothing: appends
from any number of processes do not wait for each other.

Inside a transaction (an atomic block) on PostgreSQL the event is buffered on the connection, and the
events go to the database as one multi-row INSERT just before the first later statement of that
connection that names an audit table (every one is `audit_*`), a savepoint boundary (SAVEPOINT, RELEASE)
or the COMMIT. The transaction therefore sees its events in every later read of the audit log, exactly
as if each had been inserted at once, and an event still commits or rolls back with its unit of work;
what it saves is a round trip per event (the events of a chat turn's or an order step's transaction take
one, however many other statements run between them). A ROLLBACK TO SAVEPOINT discards the buffer
instead (it would undo those rows anyway; a batch never spans a savepoint boundary). Reading a buffered event's `id`,
`sequence` or `xact` writes it first (audit/models.py); `audit_flush()` writes the buffer now. Outside
a transaction, and on SQLite, an event is one INSERT at once, as before.

`audit_seal` gives committed events their place in the chain: under one lock per batch (a
PostgreSQL transaction advisory lock; SQLite's write lock) it inserts an `AuditSeal` per event with
the next position and a hash over the event's content, that position and the previous seal's hash,
so removing, reordering or editing any row breaks the chain at that row. It runs in a worker soon
after a commit (`audit.seal`, debounced: one task per AUDIT_SEAL_DELAY_SECONDS per process), on
beat every AUDIT_SEAL_EVERY_SECONDS as a fallback, and before `audit_verify` and the head export read.

Which events are safe to seal: event numbers are taken at insert, not at commit, so a lower number
may still commit after a higher one. The sealer seals every committed event it can see, whatever its
number, and remembers a horizon (the oldest transaction id still running when it looked, PostgreSQL's
snapshot xmin): every event written by a transaction below it is sealed, so the next run scans only
events of transactions from the horizon on. Chain order is therefore seal order, not number order.

Lock order: the sealer takes the chain lock first, then reads; writers take none.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import BigIntegerField, Func
from django.http import HttpRequest
from django.utils import timezone

from audit.models import ActorType, AuditEvent, AuditSeal, Outcome
from audit.redaction import REDACTED as REDACTED  # the marker callers and tests compare with
from audit.redaction import redact
from config.client_ip import client_ip
from config.tracing import get_trace_id

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# Any constant shared by all writers; it names the lock in pg_locks ("audit" in ASCII).
_POSTGRES_LOCK_KEY = 0x6175646974


class AuditWriteError(Exception):
    """The event could not be written; the caller's transaction must not commit without it."""


class AuditExportError(Exception):
    """The chain head could not be exported (no destination configured, or it cannot be appended to)."""


@dataclass(frozen=True)
class HeadAnchor:
    """The chain head at a moment: the last seal's position (`sequence` in the file) and hash, exported out
    of the app's reach."""

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


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def seal_hash(event: AuditEvent, *, position: int, previous_hash: str) -> str:
    """The hash of an event at a chain position: SHA-256 over the canonical JSON of its fields, its
    position and the previous hash.

    The event's own number is covered too, under its own key when it differs from the position. Where
    they are equal (every event written before sealing became asynchronous) the content is exactly
    what the synchronous chain hashed, so those hashes, and the heads exported from them, still verify.
    """
    content = {
        "sequence": position,
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
        "previous_hash": previous_hash,
    }
    if event.sequence != position:
        content["event_sequence"] = event.sequence
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


# The sealer reads the unsealed events from its horizon on: a range of the `xact` index, each probed for its seal
# by the seal's unique `event_id` index, a few hundred rows however long the log is. Without statistics on the two
# tables (a log filled faster than autovacuum analyses it, a restored database, autovacuum off) PostgreSQL's
# default estimate for `xact >= horizon` is a third of the table, and it planned a parallel scan of the whole
# log and of every seal instead: 230-250 ms on a log of a million events, run about once a second by every
# process that commits events (`make bench` row 6 after row 9: ~30 ms of PostgreSQL's CPU per chat turn in the
# parallel workers alone, p95 2.3-2.8 s instead of 0.2 s). The seal's transaction therefore plans its statements
# without sequential scans, hash or merge joins, parallel workers (two processes forked for a read of a few rows) or
# JIT compilation (`SET LOCAL`, set with the chain lock in one statement): its read is the index range and the probes
# whatever the statistics say. Nothing else runs in that transaction.
_SEAL_PLAN = {
    "enable_seqscan": "off",
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "max_parallel_workers_per_gather": "0",
    "jit": "off",
}


def _lock_chain() -> None:
    """Take the chain's writer lock for this transaction (and, on PostgreSQL, pin the sealer's plans: above)."""
    if connection.vendor == "postgresql":
        plan = ", ".join(f"set_config('{name}', '{value}', true)" for name, value in _SEAL_PLAN.items())
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_xact_lock(%s), {plan}", [_POSTGRES_LOCK_KEY])
    elif connection.vendor == "sqlite":
        _require_sqlite_write_lock()
    else:
        raise ImproperlyConfigured(f"The audit chain has no writer lock for {connection.vendor}.")


def _require_sqlite_write_lock() -> None:
    # Transactions begin with BEGIN IMMEDIATE, so the connection holds SQLite's one write lock from
    # the start: writers are serialized and commit in the order they take numbers.
    # Read from the settings: the connection learns its mode only when it first connects.
    mode = str(connection.settings_dict.get("OPTIONS", {}).get("transaction_mode") or "").upper()
    if mode != "IMMEDIATE":
        raise ImproperlyConfigured("SQLite needs OPTIONS transaction_mode=IMMEDIATE for the audit chain.")


_ACTOR_TYPES = frozenset(ActorType.values)
_OUTCOMES = frozenset(Outcome.values)
_ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")

# The columns audit_record writes; the event's number and transaction id are the columns' database defaults.
_INSERT_FIELDS = (
    "occurred_at",
    "actor_type",
    "actor_id",
    "customer_id",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "trace_id",
    "origin_ip",
    "origin_user_agent",
    "origin_channel",
    "policy_version",
    "data",
)
_insert_sql: str | None = None
# The event's data as the INSERT sends it (its canonical JSON, computed once when the event is built).
_DATA_JSON = "_audit_data_json"
_NO_ORIGIN = Origin()


def _postgres_insert_sql() -> str:
    global _insert_sql
    if _insert_sql is None:
        meta = AuditEvent._meta
        quote = connection.ops.quote_name
        columns = ", ".join(quote(meta.get_field(name).column) for name in _INSERT_FIELDS)
        values = ", ".join("%s::jsonb" if name == "data" else "%s" for name in _INSERT_FIELDS)
        returning = ", ".join(quote(meta.get_field(name).column) for name in ("id", "sequence", "xact"))
        _insert_sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values}) RETURNING {returning}"  # noqa: S608 - names from the model, values bound
    return _insert_sql


def _insert_postgres(event: AuditEvent, db: Any = connection) -> None:
    """The append as one prepared-shape INSERT … RETURNING: the ORM's insert compiler costs more than the
    round trip for a row this simple, and appends are on every hot path. Same row, same one query."""
    params = _insert_params(event)
    with db.cursor() as cursor:
        cursor.execute(_postgres_insert_sql(), params)
        event.id, event.sequence, event.xact = cursor.fetchone()
    event._state.adding = False
    event._state.db = db.alias


# Several rows in one parameter: a JSON array of rows, each a JSON array of the columns in `_INSERT_FIELDS`
# order. One parameter keeps the statement's shape fixed (the driver parses it once and caches it, where a
# VALUES list of 14 parameters a row is parsed again each time), and encoding the rows is one call.
_COLUMN_TYPES = {"occurred_at": "timestamptz", "customer_id": "bigint", "origin_ip": "inet"}
_insert_rows_sql: str | None = None


def _postgres_insert_rows_sql() -> str:
    global _insert_rows_sql
    if _insert_rows_sql is None:
        meta = AuditEvent._meta
        quote = connection.ops.quote_name
        columns = ", ".join(quote(meta.get_field(name).column) for name in _INSERT_FIELDS)
        values = ", ".join(
            f"row -> {index}" if name == "data" else f"(row ->> {index})::{_COLUMN_TYPES.get(name, 'text')}"
            for index, name in enumerate(_INSERT_FIELDS)
        )
        returning = ", ".join(quote(meta.get_field(name).column) for name in ("id", "sequence", "xact"))
        _insert_rows_sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 - names from the model, values bound
            f"SELECT {values} FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS rows(row, position) "
            f"ORDER BY position RETURNING {returning}"
        )
    return _insert_rows_sql


def _insert_many_postgres(events: list[AuditEvent], db: Any = connection) -> None:
    """Several appends as one INSERT … SELECT … RETURNING, inserted (and so numbered) in the given order."""
    rows = []
    for event in events:
        values = event.__dict__
        head = [values["occurred_at"].isoformat(), *(values[name] for name in _INSERT_FIELDS[1:-1])]
        data = values.get(_DATA_JSON) or canonical_json(event.data)
        rows.append(f"{json.dumps(head, ensure_ascii=False, default=str)[:-1]},{data}]")
    with db.cursor() as cursor:
        cursor.execute(_postgres_insert_rows_sql(), [f"[{','.join(rows)}]"])
        returned = cursor.fetchall()
    # Numbers are taken row by row in insertion order: the lowest is the first event's.
    returned.sort(key=lambda row: row[1])
    for event, (event_id, sequence, xact) in zip(events, returned, strict=True):
        event.id, event.sequence, event.xact = event_id, sequence, xact
        event._state.adding = False
        event._state.db = db.alias


def _insert_params(event: AuditEvent) -> list[Any]:
    values = event.__dict__
    params = [values[name] for name in _INSERT_FIELDS]
    params[-1] = values.get(_DATA_JSON) or canonical_json(event.data)  # "data" is the last column
    return params


class _SqliteNextSequence(Func):
    # SQLite has no sequences and serializes writers: the next number is read inside the INSERT itself.
    template = "(SELECT COALESCE(MAX(sequence), 0) + 1 FROM audit_auditevent)"
    arity = 0
    output_field = BigIntegerField()


def _finished_below() -> int:
    """A transaction id below which every transaction has ended (committed or rolled back)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")
        else:
            # Under SQLite's write lock (held by the sealer) no other writer is in flight.
            cursor.execute("SELECT COALESCE(MAX(xact), 0) + 1 FROM audit_auditevent")
        return int(cursor.fetchone()[0])


def _event_build(
    *,
    action: str,
    actor_type: ActorType | str,
    actor_id: str | int | None = None,
    customer_id: int | None = None,
    target_type: str = "",
    target_id: str | int | UUID | None = None,
    outcome: Outcome | str = Outcome.OK,
    data: Mapping[str, Any] | None = None,
    origin: Origin | None = None,
    policy_version: str | None = None,
    trace_id: str | None = None,
) -> AuditEvent:
    """The event as it will be stored (checked, redacted), not saved yet."""
    if actor_type not in _ACTOR_TYPES:
        raise ValueError(f"unknown actor type {actor_type!r}")
    if outcome not in _OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    if not _ACTION_PATTERN.fullmatch(action):
        raise ValueError(f"action {action!r} must be a dotted lower-case name such as 'flow.confirmed'")
    origin = origin or _NO_ORIGIN
    # Store exactly what was hashed: a JSON round trip makes the stored data equal the hashed data.
    data_json = canonical_json(redact(dict(data or {})))
    # Positional, in the model's column order (Django's fast path, as when loading a row); the id, the
    # number and the transaction id come from the database.
    event = AuditEvent(
        None,
        None,
        None,
        timezone.now(),
        str(actor_type),
        "" if actor_id is None else str(actor_id)[:64],
        customer_id,
        action,
        target_type[:64],
        "" if target_id is None else str(target_id)[:64],
        str(outcome),
        (trace_id or get_trace_id() or "")[:64],
        origin.ip,
        origin.user_agent[:256],
        origin.channel[:32],
        policy_version,
        json.loads(data_json),
    )
    event.__dict__[_DATA_JSON] = data_json  # what the INSERT sends: encoded once
    return event


def _insert_one(event: AuditEvent) -> None:
    if connection.vendor == "postgresql":
        _insert_postgres(event)
        return
    if connection.vendor == "sqlite":
        _require_sqlite_write_lock()
    event.sequence = _SqliteNextSequence()
    event.xact = _SqliteNextSequence()
    # One INSERT … RETURNING (the number and transaction id come back from the database), atomic on
    # its own: no savepoint, no lock, no read.
    event.save(force_insert=True)


def audit_record(
    *,
    action: str,
    actor_type: ActorType | str,
    actor_id: str | int | None = None,
    customer_id: int | None = None,
    target_type: str = "",
    target_id: str | int | UUID | None = None,
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
    event = _event_build(
        action=action,
        actor_type=actor_type,
        actor_id=actor_id,
        customer_id=customer_id,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        data=data,
        origin=origin,
        policy_version=policy_version,
        trace_id=trace_id,
    )
    _append([event])
    return event


def audit_record_many(events: Sequence[Mapping[str, Any]]) -> list[AuditEvent]:
    """Append several events at once, in the given order, inside the caller's transaction if there is one.

    Each item holds `audit_record`'s keyword arguments and is checked and redacted the same way. On
    PostgreSQL the events go in one multi-row INSERT … RETURNING (numbers in the given order); elsewhere
    one INSERT each. Nothing is written if any item is invalid.
    """
    built = [_event_build(**event) for event in events]
    if built:
        _append(built)
    return built


def audit_flush() -> None:
    """Write the events this connection's transaction has buffered now (they are written before its next
    query of the audit tables, savepoint or commit anyway; this is for code about to reach the database by
    other means)."""
    audit_pending_flush(connections[DEFAULT_DB_ALIAS])


# -- the per-transaction buffer --------------------------------------------------------------------------


def _append(events: list[AuditEvent]) -> None:
    """Write `events` in the caller's transaction: buffered inside an atomic block on PostgreSQL, at once
    otherwise."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        if len(events) > 1 and connection.vendor == "postgresql":
            _insert_many_postgres(events)
        else:
            for event in events:
                _insert_one(event)
        if getattr(settings, "AUDIT_SEAL_ON_COMMIT", True):
            transaction.on_commit(_seal_soon)
        return
    # A transaction that can no longer commit refuses the event now, as the INSERT would have.
    connection.validate_no_broken_transaction()
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection object itself, not the `connection` proxy
    batch = _open_batch(db)
    for event in events:
        values = event.__dict__
        del values["id"], values["sequence"], values["xact"]  # filled in by the INSERT (audit/models.py)
        values[_PENDING] = db
    batch.events += events


class _SealAfterCommit:
    """The on-commit callback of one batch of buffered events. Django drops it when the transaction (or the
    savepoint it was registered in) rolls back or the connection closes, so while it is still listed in
    `connection.run_on_commit` the batch belongs to a transaction that is still open."""

    __slots__ = ()

    def __call__(self) -> None:
        if getattr(settings, "AUDIT_SEAL_ON_COMMIT", True):
            _seal_soon()


class _Batch:
    __slots__ = ("events", "marker")

    def __init__(self, marker: _SealAfterCommit) -> None:
        self.events: list[AuditEvent] = []
        self.marker = marker


# Attributes on Django's connection object (one per thread and database) and on a buffered event.
_BATCH = "_audit_batch"
_PENDING = "_audit_pending"


def _open_batch(db: Any) -> _Batch:
    _hook(db)
    batch = db.__dict__.get(_BATCH)
    if batch is not None and not _batch_open(db, batch):
        # Its transaction ended without a query or commit of ours seeing it (a rollback, a closed
        # connection): its events went with it.
        _forget(db, batch)
        batch = None
    if batch is None:
        batch = _Batch(_SealAfterCommit())
        db.on_commit(batch.marker)
        db.__dict__[_BATCH] = batch
    return batch


def _batch_open(db: Any, batch: _Batch) -> bool:
    # Not `in_atomic_block`: the outermost atomic block clears it just before it commits.
    marker = batch.marker
    return any(func is marker for _, func, _ in db.run_on_commit)


def audit_pending_flush(db: Any) -> None:
    """Write the connection's buffered events (one INSERT), or drop them if their transaction is gone.

    Only the thread that owns the connection writes: from any other thread its transaction (and so the
    event's number) is out of reach and the event simply is not written yet."""
    if db is not connections[db.alias]:
        return
    batch = db.__dict__.pop(_BATCH, None)
    if batch is None:
        return
    if not _batch_open(db, batch):
        _forget(db, batch, popped=True)
        return
    try:
        if len(batch.events) == 1:
            _insert_postgres(batch.events[0], db)  # a lone event: the plain one-row INSERT
        else:
            _insert_many_postgres(batch.events, db)
    except BaseException:
        _forget(db, batch, popped=True)
        raise
    for event in batch.events:
        del event.__dict__[_PENDING]


def _forget(db: Any, batch: _Batch, *, popped: bool = False) -> None:
    """Drop a batch that will never be written: its events keep no id, number or transaction."""
    if not popped:
        db.__dict__.pop(_BATCH, None)
    for event in batch.events:
        values = event.__dict__
        values.pop(_PENDING, None)
        values["id"] = values["sequence"] = values["xact"] = None


# Statements before which the buffer is written whatever they name: savepoint boundaries (so a batch never spans
# one, and `ROLLBACK TO SAVEPOINT` drops exactly the events recorded since the last boundary) and explicit commits.
_BOUNDARIES = ("SAVEPOINT", "RELEASE", "COMMIT", "END", "PREPARE")


def _flush_before_query(execute: Any, sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """Execute wrapper: the buffered events go before the first statement of their transaction that reads the
    audit tables (every such statement names one: their tables are all `audit_*`), before a savepoint boundary,
    and before COMMIT (the connection's `commit`); a ROLLBACK (TO SAVEPOINT) would undo them, so it drops them
    instead. Statements on other tables go first: the events of a unit of work are one INSERT at its end.
    """
    db = context["connection"]
    batch = db.__dict__.get(_BATCH)
    if batch is not None:
        if not isinstance(sql, str):
            audit_pending_flush(db)  # a composed statement: written first, as before
        else:
            head = sql.lstrip()[:9].upper()
            if head.startswith("ROLLBACK"):
                _forget(db, batch)
            elif head.startswith(_BOUNDARIES) or "audit_" in sql:
                audit_pending_flush(db)
    return execute(sql, params, many, context)


def _hook(db: Any) -> None:
    """Make sure this connection object writes the buffer before each statement and before COMMIT."""
    if _flush_before_query not in db.execute_wrappers:
        # First in the list (outermost); `connection.execute_wrapper()` blocks push and pop at the end.
        db.execute_wrappers.insert(0, _flush_before_query)
    if not getattr(type(db), "_audit_writes_before_commit", False):
        # The connection's class becomes a subclass whose commit() writes the buffer first: a method of the
        # class, so code that wraps `connection.commit` on the instance and later deletes its wrapper (as
        # the saga meter does) cannot take it away.
        db.__class__ = _writing_before_commit(type(db))


_hooked_classes: dict[type, type] = {}


def _writing_before_commit(base: type) -> type:
    hooked = _hooked_classes.get(base)
    if hooked is None:

        def commit(self: Any) -> None:
            audit_pending_flush(self)
            base.commit(self)

        hooked = type(base.__name__, (base,), {"commit": commit, "_audit_writes_before_commit": True})
        hooked.__module__ = base.__module__
        _hooked_classes[base] = hooked
    return hooked


# -- sealing ---------------------------------------------------------------------------------------

# When the seal task this process last enqueued is due (wall clock, as Celery's ETA is).
_seal_due_at = 0.0
# A task due this close to now might already have looked: enqueue another rather than rely on it.
_SEAL_DUE_MARGIN_SECONDS = 0.05


def _seal_soon() -> None:
    """After a commit with events: have a worker seal them soon, one task per delay window per process."""
    global _seal_due_at
    now = time.time()
    if now < _seal_due_at - _SEAL_DUE_MARGIN_SECONDS:
        return  # the task already enqueued runs after this commit and will see its events
    delay = float(getattr(settings, "AUDIT_SEAL_DELAY_SECONDS", 0.2))
    _seal_due_at = now + delay
    from audit.tasks import seal

    try:
        seal.apply_async(countdown=delay)
    except Exception:
        # The event is committed; beat's periodic seal picks it up.
        _seal_due_at = 0.0
        logger.warning("could not enqueue the audit seal; the periodic seal will catch up", exc_info=True)


def audit_seal(*, batch_size: int | None = None, max_batches: int | None = None) -> int:
    """Seal every committed, unsealed event into the chain; returns how many were sealed.

    Safe to run concurrently and twice (batches are serialized by the chain lock and skip sealed
    events). Each batch is its own short transaction, so appends never wait for a long seal.
    """
    batch_size = batch_size or int(getattr(settings, "AUDIT_SEAL_BATCH_SIZE", 5000))
    sealed = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        count = _seal_batch(batch_size=batch_size)
        sealed += count
        batches += 1
        if count < batch_size:
            break
    return sealed


def _seal_batch(*, batch_size: int) -> int:
    # Inside a caller's transaction (a test, a command run in one) the seal's block is a savepoint, and the planner's
    # settings it pins would last until that transaction ends: put them back after the batch.
    nested = connection.in_atomic_block
    with transaction.atomic():
        try:
            return _seal_batch_locked(batch_size=batch_size)
        finally:
            if nested:
                _seal_plan_restore()


def _seal_plan_restore() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config(name, reset_val, true) FROM pg_settings WHERE name = ANY(%s)", [list(_SEAL_PLAN)]
            )


def _seal_batch_locked(*, batch_size: int) -> int:
    _lock_chain()
    head = AuditSeal.objects.order_by("-position").values("position", "hash", "horizon").first()
    finished_below = _finished_below()
    horizon = head["horizon"] if head else 0
    events = list(
        AuditEvent.objects.filter(xact__gte=horizon, seal__isnull=True).order_by("xact", "sequence")[:batch_size]
    )
    if not events:
        return 0
    # Every transaction below `finished_below` has ended, and its committed events are all in this
    # batch, except (when the batch is full) those of the last transaction read or after it.
    next_horizon = finished_below if len(events) < batch_size else min(finished_below, events[-1].xact)
    next_horizon = max(next_horizon, horizon)
    position = head["position"] if head else 0
    previous_hash = head["hash"] if head else GENESIS_HASH
    now = timezone.now()
    seals = []
    for event in events:
        position += 1
        digest = seal_hash(event, position=position, previous_hash=previous_hash)
        seals.append(
            AuditSeal(
                position=position,
                event_id=event.pk,
                previous_hash=previous_hash,
                hash=digest,
                horizon=next_horizon,
                sealed_at=now,
            )
        )
        previous_hash = digest
    AuditSeal.objects.bulk_create(seals)
    return len(seals)


def audit_head_export(*, path: str | os.PathLike | None = None) -> HeadAnchor | None:
    """Seal, then append the chain head (position, hash) as one JSON line to `path` (AUDIT_HEAD_EXPORT_PATH).

    The file is only ever opened for appending (O_APPEND, one write per line), so it works on a file
    made append-only with `chattr +a` and never rewrites an earlier line. The same anchor goes to the
    log, for deployments that ship logs to a store the app cannot change. An empty chain has no head:
    nothing is written and None is returned.
    """
    destination = path or getattr(settings, "AUDIT_HEAD_EXPORT_PATH", "")
    if not destination:
        raise AuditExportError("No destination for the audit head: set AUDIT_HEAD_EXPORT_PATH or pass a path.")
    # Seal first: the head exported is the chain's, including every event committed until now.
    audit_seal()
    head = AuditSeal.objects.order_by("-position").values("position", "hash").first()
    if head is None:
        return None
    anchor = HeadAnchor(sequence=head["position"], hash=head["hash"], at=_timestamp(timezone.now()))
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
