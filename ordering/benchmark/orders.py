"""Rows 4 and 5: placed orders per second through the saga, against a six-task Celery chain.

Each measure: K customers each reach a preview (through the conversation API, not timed), then all K
confirm at once (the Confirm button's request, which hands the flow to the saga) and the clock runs
until every flow has ended (placed, or failed/escalated/… — only placed ones count). In the same run,
with the same workers, K six-step chains of comparable writes (ordering/benchmark/chain.py) are sent
at once and timed until every chain has finished. Workers are real `celery worker` processes on the
bench's Redis; the sandbox merchant is its own server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ordering.benchmark.chain import chain_orders_done, chain_orders_start
from ordering.benchmark.inprocess import ADD_TO_CART_TEXT, Chat, eager, llm_configured

TERMINAL = ("placed", "requires_action", "failed", "compensated", "escalated", "canceled", "expired")


@dataclass
class Placement:
    placed: int
    ended: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.placed / self.seconds if self.seconds else 0.0


def previews_prepare(users: list[Any]) -> list[tuple[Chat, str, str]]:
    """Each user's conversation with a preview waiting for the Confirm button: (chat, preview hash, flow id)."""
    prepared = []
    with eager(True), llm_configured(None):
        for user in users:
            chat = Chat(user)
            chat.start()
            pending = chat.say(ADD_TO_CART_TEXT).get("pending_confirmation")
            if not pending:
                raise RuntimeError(f"no preview for {user.username}: the add-to-cart turn did not reach one")
            prepared.append((chat, pending["preview_hash"], str(pending["flow_id"])))
    return prepared


def placement_measure(prepared: list[tuple[Chat, str, str]], *, timeout: float = 600) -> Placement:
    from ordering.models import OrderFlow

    ids = [flow_id for _chat, _hash, flow_id in prepared]
    started = time.monotonic()
    with eager(False):
        for chat, preview_hash, _flow_id in prepared:
            status = chat.confirm(preview_hash)
            if status != 202:
                raise RuntimeError(f"the confirmation answered {status}")
    while True:
        ended = OrderFlow.objects.filter(pk__in=ids, status__in=TERMINAL).count()
        if ended >= len(ids) or time.monotonic() - started > timeout:
            break
        time.sleep(0.05)
    seconds = time.monotonic() - started
    placed = OrderFlow.objects.filter(pk__in=ids, status="placed").count()
    return Placement(placed=placed, ended=ended, seconds=seconds)


def chain_measure(count: int, *, timeout: float = 600) -> Placement:
    started = time.monotonic()
    ids = chain_orders_start(count)
    while True:
        done = chain_orders_done(ids)
        if done >= count or time.monotonic() - started > timeout:
            break
        time.sleep(0.05)
    return Placement(placed=done, ended=done, seconds=time.monotonic() - started)


def workers_ready(timeout: float = 90) -> None:
    from config.celery import ping

    deadline = time.monotonic() + timeout
    while True:
        try:
            ping.apply_async().get(timeout=5)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise RuntimeError("the Celery workers did not answer a ping") from None
