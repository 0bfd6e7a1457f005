"""Measuring the placement saga's cost per order (queries, commits, queue hops).

`SagaMeter` counts what one process does while it is open; tests use it for the saga's query budgets.
Placed orders per second are `make bench`'s rows 4 and 5 (ordering/benchmark/orders.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from celery.signals import task_prerun
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

_WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class SagaMeter:
    """What the saga cost on this process's database connection, and how often a flow task started here."""

    queries: list[str] = field(default_factory=list)
    commits: int = 0
    hops: int = 0

    @property
    def query_count(self) -> int:
        # Savepoints are round trips too; they are counted like any statement.
        return len(self.queries)

    def by_area(self) -> dict[str, int]:
        """Queries per app (by the first table named), transaction control (BEGIN, SAVEPOINT...) apart."""
        areas: dict[str, int] = {}
        for sql in self.queries:
            areas[_area(sql)] = areas.get(_area(sql), 0) + 1
        return areas


def _area(sql: str) -> str:
    words = sql.lstrip().split(None, 1)
    if not words or words[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"):
        return "transaction"
    if "pg_advisory" in sql:
        return "audit"  # the audit chain's lock
    # The first table the statement reads or writes (a hand-written statement names its columns, quoted, before it).
    match = re.search(r'\b(?:FROM|INTO|UPDATE|JOIN)\s+"([a-z_]+?)_[a-z]+"', sql) or re.search(
        r'"([a-z_]+?)_[a-z]+"', sql
    )
    return match.group(1) if match else "other"


def _writes(sql: str) -> bool:
    """A statement that writes: an INSERT, UPDATE or DELETE, or a WITH with one of them among its parts."""
    head = sql.lstrip().upper()
    return head.startswith(_WRITES) or (head.startswith("WITH") and bool(_WRITE_PART.search(head)))


_WRITE_PART = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\b")


@contextmanager
def saga_meter(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[SagaMeter]:
    """Count queries, commits (explicit transactions and autocommitted writes) and `flow_advance` starts.

    Hops are counted where the task runs: in this process, so with eager tasks (a worker's hops are
    its deliveries, which `saga_burst` reads from the flows' step rows instead).
    """
    connection = connections[using]
    meter = SagaMeter()
    real_commit = connection.commit

    def counting_commit() -> None:
        meter.commits += 1
        real_commit()

    def count_autocommitted(execute, sql, params, many, context):
        # Autocommit, not "outside an atomic block": a block's own COMMIT may send statements first (the
        # audit events it buffered), when Django has already left the block but not yet committed.
        if connection.get_autocommit() and _writes(sql):
            meter.commits += 1
        return execute(sql, params, many, context)

    def count_hop(sender=None, **kwargs) -> None:
        if getattr(sender, "name", "") == "ordering.flow_advance":
            meter.hops += 1

    task_prerun.connect(count_hop, weak=False)
    connection.commit = counting_commit
    try:
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(count_autocommitted):
            yield meter
            meter.queries = [query["sql"] for query in captured.captured_queries]
    finally:
        del connection.commit
        task_prerun.disconnect(count_hop)


# -- throughput: a burst of confirmed flows on real Celery workers -------------------------------------
