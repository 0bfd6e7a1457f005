"""The demo wallet the fixtures replay (tests/support/seed_replay.py) is the one `consent_demo_seed()` writes.

Each side runs on the empty tables a test starts with, inside a savepoint that is rolled back afterwards, and
every table is compared row by row: ids as their rank in the table (fresh ids differ, and so must they: each
seed takes new ones), foreign keys and the audit events' customer and target ids through the same ranks,
timestamps as "within the run" (each side stamps its own now), password hashes by the password they accept
(each hash has its own salt), audit numbers and transactions by how the audit log assigns them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db import connection, transaction

from audit.models import AuditEvent
from consent.demo import DEMO_CUSTOMERS, consent_demo_seed
from tests.support import seed_replay
from tests.support.fast_flush import KEPT_TABLES

pytestmark = pytest.mark.postgres


def _tables() -> list[str]:
    names = connection.introspection.django_table_names(only_existing=True, include_views=False)
    return sorted(set(names) - KEPT_TABLES)


def _dump(events_after: int) -> dict[str, list[dict]]:
    """Every row of every table (audit events: those after `events_after`), as dicts, by id."""
    quote = connection.ops.quote_name
    dump = {}
    with connection.cursor() as cursor:
        for table in _tables():
            cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY 1")
            columns = [column.name for column in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            if table == AuditEvent._meta.db_table:
                rows = [row for row in rows if row["id"] > events_after]
            if rows:
                dump[table] = rows
    return dump


def _run(seed) -> tuple[dict, datetime, datetime, int, list]:
    """`seed()` in a savepoint rolled back afterwards: every row it left, when it ran, its transaction id, and
    the kinds of on-commit callbacks it left pending."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM audit_auditevent")
        events_before = cursor.fetchone()[0]
    with transaction.atomic():
        started = datetime.now(UTC)
        seed()
        dump = _dump(events_before)
        ended = datetime.now(UTC)
        with connection.cursor() as cursor:
            cursor.execute("SELECT (pg_current_xact_id()::text)::bigint")
            xact = cursor.fetchone()[0]
        pending = sorted({type(func).__qualname__ for _, func, _ in connection.run_on_commit})
        transaction.set_rollback(True)
    return dump, started, ended, xact, pending


def _normalized(dump: dict, started: datetime, ended: datetime, xact: int, *, earlier_by: timedelta) -> dict:
    """The rows with every id, reference, timestamp and hash replaced by what a test could rely on."""
    from django.apps import apps

    models = {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}
    ranks = {table: {row["id"]: rank for rank, row in enumerate(rows)} for table, rows in dump.items()}
    user_table = get_user_model()._meta.db_table
    normalized = {}
    for table, rows in dump.items():
        model = models[table]
        fields = {field.column: field for field in model._meta.concrete_fields}
        out = []
        for row in rows:
            row = dict(row)
            for column, value in list(row.items()):
                field = fields[column]
                if column == "id":
                    row[column] = ("rank", ranks[table][value])
                elif field.is_relation and value is not None and field.related_model._meta.db_table in ranks:
                    row[column] = ("rank", ranks[field.related_model._meta.db_table][value])
                elif isinstance(value, datetime):
                    # Stamped during the run, as a fresh seed stamps them; the replay's newest lands at its now, its
                    # oldest as much earlier as the snapshot's seed took (`earlier_by`).
                    assert started - earlier_by <= value <= ended, (table, column, value, started, ended)
                    row[column] = "during the run"
            if table == user_table:
                password = DEMO_CUSTOMERS[row["username"]]["password"]
                assert check_password(password, row["password"])
                row["password"] = f"a hash of {password}"
            if table == AuditEvent._meta.db_table:
                assert row["xact"] == xact  # written by the run's own transaction
                row["xact"] = "the run's transaction"
                row["sequence"] = "numbered by the audit log"
                if row["customer_id"] is not None:
                    row["customer_id"] = ("rank", ranks[user_table][row["customer_id"]])
                target = {"user": user_table}.get(row["target_type"]) or (
                    models_by_label(row["target_type"]) if row["target_type"] else None
                )
                if target:
                    row["target_id"] = ("rank", ranks[target][int(row["target_id"])])
            out.append(row)
        normalized[table] = out
    return normalized


def models_by_label(label: str) -> str:
    from django.apps import apps

    return apps.get_model(label)._meta.db_table


def test_the_replayed_demo_wallet_is_the_one_the_services_write(db, monkeypatch):
    # given: a snapshot taken by the real seed, on empty tables
    monkeypatch.setattr(seed_replay, "_snapshot", None)
    first, first_started, first_ended, *_ = _run(seed_replay.consent_demo_restore)
    assert seed_replay._snapshot is not None
    took = first_ended - first_started
    time.sleep(took.total_seconds() + 0.05)  # so that the snapshot's own timestamps are too old for the replay

    # when: the services seed, and the snapshot is replayed, each on empty tables
    seeded, *seeded_run = _run(consent_demo_seed)
    replayed, *replayed_run = _run(seed_replay.consent_demo_restore)

    # then: the same rows in the same tables
    assert set(replayed) == set(seeded) == set(first)
    seeded_pending, replayed_pending = seeded_run.pop(), replayed_run.pop()
    assert _normalized(replayed, *replayed_run, earlier_by=took) == _normalized(
        seeded, *seeded_run, earlier_by=timedelta(0)
    )
    assert replayed_pending == seeded_pending != []  # the audit log's seal after commit, as the seed leaves it
    # fresh ids, above every id the earlier runs took, as a fresh seed's
    written = [table.name for table in seed_replay._snapshot.tables] + [AuditEvent._meta.db_table]
    assert {"auth_user", "consent_paymentmethod", "consent_address", "consent_consentgrant"} <= set(written)
    for table in written:
        assert min(row["id"] for row in replayed[table]) > max(row["id"] for row in seeded[table])


def test_the_replay_gives_way_to_the_real_seed_when_a_seeded_table_has_rows(db, monkeypatch):
    monkeypatch.setattr(seed_replay, "_snapshot", None)
    _run(seed_replay.consent_demo_restore)
    get_user_model().objects.create(username="carol")
    real_seed_ran = []
    monkeypatch.setattr(seed_replay, "consent_demo_seed", lambda: real_seed_ran.append(True) or consent_demo_seed())

    customers = seed_replay.consent_demo_restore()

    assert real_seed_ran == [True]
    assert [customer.username for customer in customers] == ["alice", "bob"]
    assert list(get_user_model().objects.order_by("pk").values_list("username", flat=True)) == [
        "carol",
        "alice",
        "bob",
    ]
