"""Alice's and bob's demo wallet for fixtures: `consent_demo_seed()` through the real services once per process,
then the same rows written again in a few statements (`consent_demo_restore`).

Why: the `shop` and `fake_shop` fixtures (tests/ordering/conftest.py) seed the demo customers for each of several
hundred tests, and the seed is ~120 queries (a lock, a read and an audit event per grant, card and address): about
7% of the suite's CPU. What it writes on empty tables is the same every time, up to ids and timestamps.

How: the first call in a process, on empty tables, runs the real seed and keeps what it wrote (every row of the
tables it filled, and its audit events). Each later call, on empty tables, writes the same rows as a fresh seed
would have them:
- with fresh ids from the tables' own sequences (foreign keys and the audit events' customer and target ids
  follow), so nothing keyed by a customer's id elsewhere (the throttle counters in the cache, say) can take a
  test's alice for an earlier test's, as with the real seed;
- with every timestamp moved forward by the snapshot's age on Python's clock (the one the services read), so the
  newest lands at now: "card added in the last 24 hours" and the like see what a fresh seed shows;
- with the audit events appended through `audit_record_many`, the audit log's own door: new numbers, the current
  transaction and trace id, the buffer and the seal after commit, as the services' own events get;
- inside one `transaction.atomic()` block, as the seed's: in a `db` test it rolls back with the test (and
  `production_commits` runs its on-commit callbacks when it ends), in a transactional test it commits.
The real seed runs instead on anything but PostgreSQL, when a table it fills already has rows, while time-machine
moves the clock, and when what the seed reads (currency, passwords, the demo customers, the password hashers) is
not what it was for the snapshot. tests/ordering/test_seed_replay.py checks the replay against the services.
Known and harmless differences: the users' password hashes are the snapshot's (same password, another salt), and
the events of one replay share one transaction and are appended together (the seed's come in two transactions).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction

from audit.models import ActorType, AuditEvent, AuditSeal
from audit.services import Origin, audit_flush, audit_record_many
from consent.demo import DEMO_CUSTOMERS, DemoCustomer, consent_demo_seed

# Tables that keep their rows between tests (tests/support/fast_flush.py): a seeded row may point at them.
_KEPT_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})
_EVENT_FIELDS = (
    "action",
    "actor_type",
    "actor_id",
    "customer_id",
    "target_type",
    "target_id",
    "outcome",
    "origin_ip",
    "origin_user_agent",
    "origin_channel",
    "policy_version",
    "data",
)
# Actors whose id is a user's id (audit/services.py callers; the seed's own actor is the system, with no id).
_USER_ACTORS = frozenset({ActorType.CUSTOMER, ActorType.STAFF})


@dataclass(frozen=True)
class _Table:
    name: str
    pk: str  # its auto-increment primary key's column
    sequence: str  # that column's sequence
    columns: tuple[str, ...]
    moved: frozenset[str]  # timestamp columns: moved forward by the snapshot's age
    references: tuple[tuple[str, str], ...]  # (column, seeded table it points at)
    rows: tuple[dict, ...]  # as the seed wrote them, by id


@dataclass(frozen=True)
class _Snapshot:
    key: tuple
    taken_at: float  # time.time() just after the seed: its newest timestamp
    tables: tuple[_Table, ...]
    events: tuple[dict, ...]  # the seed's audit events in their order; `target_table`: what target_id points at
    customers: tuple[DemoCustomer, ...]


class _NotReplayable(Exception):
    """The seed wrote something this module cannot write again (a table without a sequence, an id in event data)."""


_snapshot: _Snapshot | None = None


def consent_demo_restore() -> list[DemoCustomer]:
    """What `consent_demo_seed()` writes and returns, on the empty tables a test starts with, in a few statements."""
    global _snapshot
    if connection.vendor != "postgresql" or _travelling():
        return consent_demo_seed()
    key = _inputs()
    if _snapshot is None or _snapshot.key != key:
        _snapshot, customers = _seed_and_take(key)
        return customers
    with transaction.atomic():
        if _replay(_snapshot):
            return list(_snapshot.customers)
    return consent_demo_seed()


def _inputs() -> tuple:
    """What the seed's rows depend on besides the code: a snapshot is good while these stay the same."""
    passwords = tuple(os.environ.get(spec["password_env"], spec["password"]) for spec in DEMO_CUSTOMERS.values())
    return (
        connection.settings_dict["NAME"],
        settings.AUTH_USER_MODEL,
        settings.CONSENT_CURRENCY,
        tuple(settings.PASSWORD_HASHERS),
        passwords,
        json.dumps(DEMO_CUSTOMERS, sort_keys=True, default=str),
    )


def _travelling() -> bool:
    from time_machine import escape_hatch

    return escape_hatch.is_travelling()


def _row_counts(names: list[str]) -> list[int]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {quote(name)})" for name in names))
        return list(cursor.fetchone())


def _seed_and_take(key: tuple) -> tuple[_Snapshot | None, list[DemoCustomer]]:
    """Run the real seed and keep what it wrote (no snapshot when a table it wrote to had rows before)."""
    event_table = AuditEvent._meta.db_table
    candidates = sorted(
        set(connection.introspection.django_table_names(only_existing=True, include_views=False))
        - _KEPT_TABLES
        - {event_table, AuditSeal._meta.db_table}
    )
    quote = connection.ops.quote_name
    before = _row_counts(candidates)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quote(event_table)}")
        events_before = cursor.fetchone()[0]
    customers = consent_demo_seed()
    audit_flush()
    taken_at = time.time()
    after = _row_counts(candidates)
    written = [name for name, old, new in zip(candidates, before, after, strict=True) if new != old]
    if any(old for old, new in zip(before, after, strict=True) if new != old):
        return None, customers  # the seed added to rows that were there: not what a test starts from
    try:
        return _take(key, taken_at, written, events_before, customers), customers
    except _NotReplayable:
        return None, customers  # the real seed runs each time


def _take(key, taken_at: float, written: list[str], events_before: int, customers) -> _Snapshot:
    models_by_table = {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}
    tables = tuple(_table_take(models_by_table.get(name), name) for name in written)
    seeded = {table.name for table in tables}
    if any(target not in seeded for table in tables for _, target in table.references):
        raise _NotReplayable("a seeded row points at a table the seed did not fill")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(quote(name) for name in _EVENT_FIELDS)} "
            f"FROM {quote(AuditEvent._meta.db_table)} WHERE id > %s ORDER BY sequence",
            [events_before],
        )
        events = tuple(_event_take(dict(zip(_EVENT_FIELDS, row, strict=True)), models_by_table) for row in cursor)
    for event in events:
        if event["target_table"] not in (None, *seeded) or holds_a_number(event["data"]):
            raise _NotReplayable(f"cannot point the audit event {event['action']} at the replayed rows")
        if event["actor_id"] and event["actor_type"] not in _USER_ACTORS:
            raise _NotReplayable(f"the actor of the audit event {event['action']} is not a user")
    return _Snapshot(key=key, taken_at=taken_at, tables=tables, events=events, customers=tuple(customers))


def _table_take(model: type[models.Model] | None, name: str) -> _Table:
    if model is None:
        raise _NotReplayable(f"no model for the table {name}")
    pk = model._meta.pk
    if not isinstance(pk, models.AutoField):  # BigAutoField and SmallAutoField are AutoFields too
        raise _NotReplayable(f"{name} has no auto-increment primary key")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [quote(name), pk.column])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT json_agg(t ORDER BY t.{quote(pk.column)})::text FROM {quote(name)} t")
        rows = json.loads(cursor.fetchone()[0])
    if sequence is None:
        raise _NotReplayable(f"{name}'s primary key has no sequence")
    fields = model._meta.concrete_fields
    return _Table(
        name=name,
        pk=pk.column,
        sequence=sequence,
        columns=tuple(field.column for field in fields),
        moved=frozenset(field.column for field in fields if isinstance(field, models.DateTimeField)),
        references=tuple(
            (field.column, field.related_model._meta.db_table)
            for field in fields
            if field.is_relation and field.related_model._meta.db_table not in _KEPT_TABLES
        ),
        rows=tuple(rows),
    )


def _event_take(event: dict, models_by_table: dict) -> dict:
    data = event["data"]
    event["data"] = json.loads(data) if isinstance(data, str) else data
    event["origin_ip"] = None if event["origin_ip"] is None else str(event["origin_ip"])
    target_type = event["target_type"]
    if not target_type:
        event["target_table"] = None
    elif target_type == "user":  # the identity events' name for a user (audit/identity.py)
        event["target_table"] = get_user_model()._meta.db_table
    else:
        try:
            event["target_table"] = apps.get_model(target_type)._meta.db_table
        except (LookupError, ValueError):
            event["target_table"] = "?"
    return event


def holds_a_number(value: object) -> bool:
    """Whether event data holds a number anywhere (it could be a row's id, which the replay would have to change)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, dict):
        return any(holds_a_number(item) for item in value.values())
    if isinstance(value, list):
        return any(holds_a_number(item) for item in value)
    return False


def _replay(snapshot: _Snapshot) -> bool:
    """Write the snapshot's rows with fresh ids, then its audit events; False (nothing written) when the seeded
    tables are not empty."""
    quote = connection.ops.quote_name
    tables = snapshot.tables
    probe = " OR ".join(f"EXISTS (SELECT 1 FROM {quote(table.name)})" for table in tables)
    # One round trip: the probe, and only when the tables are empty, a fresh id per row from each table's sequence.
    fresh_ids = " UNION ALL ".join(
        f"SELECT {index}, nextval(%s) FROM generate_series(1, {len(table.rows)}) WHERE NOT (SELECT filled FROM probe)"
        for index, table in enumerate(tables)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH probe AS MATERIALIZED (SELECT {probe} AS filled) "
            f"SELECT -1, NULL FROM probe WHERE filled UNION ALL {fresh_ids}",
            [table.sequence for table in tables],
        )
        returned = cursor.fetchall()
    if any(index == -1 for index, _ in returned):
        return False
    new_ids: dict[str, list[int]] = {table.name: [] for table in tables}
    for index, value in returned:
        new_ids[tables[index].name].append(value)
    ids = {
        table.name: dict(zip((row[table.pk] for row in table.rows), sorted(new_ids[table.name]), strict=True))
        for table in tables
    }
    statements = ["shift AS (SELECT make_interval(secs => %s) AS by)"]
    params: list = [time.time() - snapshot.taken_at]
    for index, table in enumerate(tables):
        rows = []
        for row in table.rows:
            row = dict(row)
            row[table.pk] = ids[table.name][row[table.pk]]
            for column, target in table.references:
                if row[column] is not None:
                    row[column] = ids[target][row[column]]
            rows.append(row)
        columns = ", ".join(quote(column) for column in table.columns)
        values = ", ".join(
            f"r.{quote(column)} + shift.by" if column in table.moved else f"r.{quote(column)}"
            for column in table.columns
        )
        statements.append(
            f"t{index} AS (INSERT INTO {quote(table.name)} ({columns}) SELECT {values} "
            f"FROM json_populate_recordset(NULL::{quote(table.name)}, %s::json) AS r, shift)"
        )
        params.append(json.dumps(rows))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(statements)} SELECT 1", params)
    user_ids = ids[get_user_model()._meta.db_table]
    audit_record_many([_event_replayed(event, ids, user_ids) for event in snapshot.events])
    return True


def _event_replayed(event: dict, ids: dict[str, dict[int, int]], user_ids: dict[int, int]) -> dict:
    origin = Origin(ip=event["origin_ip"], user_agent=event["origin_user_agent"], channel=event["origin_channel"])
    target_table = event["target_table"]
    actor_id = event["actor_id"]
    return {
        "action": event["action"],
        "actor_type": event["actor_type"],
        "actor_id": user_ids[int(actor_id)] if actor_id else None,
        "customer_id": None if event["customer_id"] is None else user_ids[event["customer_id"]],
        "target_type": event["target_type"],
        "target_id": ids[target_table][int(event["target_id"])] if target_table else event["target_id"],
        "outcome": event["outcome"],
        "data": event["data"],
        "origin": origin if origin != Origin() else None,
        "policy_version": event["policy_version"],
    }
