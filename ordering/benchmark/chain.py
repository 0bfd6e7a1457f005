"""The comparison for placed orders/s: a plain chain of six Celery tasks doing comparable writes.

Each step, in its own transaction, inserts a step row and updates the order's row (what a saga step
writes at least: its FlowStep and the flow), then hands on to the next task through the broker.
"""

from __future__ import annotations

from celery import chain, shared_task
from django.db import connection, transaction

STEPS = 6
ORDERS_TABLE = "bench_chain_order"
STEPS_TABLE = "bench_chain_step"


def chain_tables_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {ORDERS_TABLE} (id bigserial PRIMARY KEY, step integer NOT NULL DEFAULT 0)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {STEPS_TABLE} (id bigserial PRIMARY KEY, order_id bigint NOT NULL, "
            "step integer NOT NULL, done_at timestamptz NOT NULL DEFAULT now())"
        )


@shared_task(name="bench.chain_step", acks_late=True, ignore_result=True)
def chain_step(order_id: int, step: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT step FROM {ORDERS_TABLE} WHERE id = %s FOR UPDATE", [order_id])  # noqa: S608
        cursor.execute(f"INSERT INTO {STEPS_TABLE} (order_id, step) VALUES (%s, %s)", [order_id, step])  # noqa: S608
        cursor.execute(f"UPDATE {ORDERS_TABLE} SET step = %s WHERE id = %s", [step, order_id])  # noqa: S608


def chain_orders_start(count: int) -> list[int]:
    """`count` orders, each a six-step chain sent to the workers; returns their ids."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ORDERS_TABLE} (step) SELECT 0 FROM generate_series(1, %s) RETURNING id",  # noqa: S608
            [count],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for order_id in ids:
        chain(*(chain_step.si(order_id, step) for step in range(1, STEPS + 1))).apply_async()
    return ids


def chain_orders_done(ids: list[int]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {ORDERS_TABLE} WHERE id = ANY(%s) AND step = %s",  # noqa: S608
            [ids, STEPS],
        )
        return cursor.fetchone()[0]
