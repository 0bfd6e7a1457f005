"""Rows measured inside the bench's own process, through our real code (DRF's test client: every
middleware, the view, the services, the database), with the sandbox merchant as its own server:

- row 1, a chat turn's server time with the time spent in merchant HTTP calls subtracted;
- row 2, the database queries of an add-to-cart turn and of a confirmation (CaptureQueriesContext);
- row 3, the merchant requests of an add-to-cart turn;
- row 8, the LLM requests of the seed turn (counted at the scripted server);
- the floor's server time, measured the same way.

Merchant calls are counted and timed by wrapping `MerchantHttpClient.send` (the merchant client's one
HTTP request, urllib3) for the merchant's base URL: every attempt on the wire is one call, and the
limiter's wait (outside the call) stays ours.
A turn runs as Celery runs it here (eagerly, inside the request), so its queries are counted wherever
the product runs them: the request and, once turns are background work, the turn's task. The audit
seal is the one task left out: in production a worker seals every process's events in one batch a
moment later (docs/audit.md), so it is no part of a turn's time or queries; here it runs after each
turn, outside the measure (row 9 measures appends with their sealing).
"""

from __future__ import annotations

import contextlib
import cProfile
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

SEED_TEXT = "Buy the blue running shoes I liked last week and apply my 10% promo"
ADD_TO_CART_TEXT = "I want the blue runners in 42"
TURN_WAIT_SECONDS = 60


# `make bench ARGS="--profile PATH"`: the timed seed turns (row 1) run under this profiler.
_profiler: cProfile.Profile | None = None
_profile_path: Path | None = None


def profile_to(path: Path, *, cpu: bool = False) -> None:
    """Profile the timed seed turns into `path`: by wall time, or (`cpu`) by this thread's CPU time, which
    leaves out every wait (PostgreSQL, the merchant, the LLM) and other work on a shared machine."""
    global _profiler, _profile_path
    _profiler, _profile_path = (cProfile.Profile(time.thread_time) if cpu else cProfile.Profile()), path


@contextlib.contextmanager
def profiled(on: bool) -> Iterator[None]:
    if not on or _profiler is None or _profile_path is None:
        yield
        return
    _profiler.enable()
    try:
        yield
    finally:
        _profiler.disable()
        _profile_path.parent.mkdir(parents=True, exist_ok=True)
        _profiler.dump_stats(_profile_path)


@dataclass
class MerchantMeter:
    base_url: str
    calls: int = 0
    seconds: float = 0.0

    def snapshot(self) -> tuple[int, float]:
        return self.calls, self.seconds


@contextlib.contextmanager
def merchant_meter(base_url: str) -> Iterator[MerchantMeter]:
    from catalog_adapters.http import MerchantHttpClient

    meter = MerchantMeter(base_url=base_url.rstrip("/"))
    original = MerchantHttpClient.send
    lock = threading.Lock()

    def send(self: MerchantHttpClient, method: str, url: str, **kwargs: Any) -> Any:
        if not str(url).startswith(meter.base_url):
            return original(self, method, url, **kwargs)
        started = time.perf_counter()
        try:
            return original(self, method, url, **kwargs)
        finally:
            with lock:
                meter.calls += 1
                meter.seconds += time.perf_counter() - started

    MerchantHttpClient.send = send  # type: ignore[method-assign]
    try:
        yield meter
    finally:
        MerchantHttpClient.send = original  # type: ignore[method-assign]


@contextlib.contextmanager
def eager(on: bool) -> Iterator[None]:
    """Celery tasks run inline (`on`), except the audit seal: `seal_after` runs it outside the measure."""
    from django.conf import settings

    from config.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    saved_seal = settings.AUDIT_SEAL_ON_COMMIT
    app.conf.task_always_eager, app.conf.task_eager_propagates = on, False
    settings.AUDIT_SEAL_ON_COMMIT = saved_seal and not on
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved
        settings.AUDIT_SEAL_ON_COMMIT = saved_seal


def seal_after() -> None:
    """What a worker does a moment after a turn: seal its audit events into the chain."""
    from audit.services import audit_seal

    audit_seal()


@contextlib.contextmanager
def llm_configured(base_url: str | None) -> Iterator[None]:
    """Our LLM command generator on the scripted server, or (None) the offline generator."""
    from django.conf import settings

    names = ("LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY")
    saved = {name: getattr(settings, name, "") for name in names}
    settings.LLM_BASE_URL = base_url or ""
    settings.LLM_MODEL = "scripted-offline-brain" if base_url else ""
    settings.LLM_API_KEY = "not-needed" if base_url else ""
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


class Chat:
    """One signed-in customer's side of the JSON API (today's 201 answer, or the 202 turn contract)."""

    def __init__(self, user: Any) -> None:
        from rest_framework.test import APIClient

        self.client = APIClient()
        self.client.force_login(user)
        self.user_id = user.pk
        self.id = ""
        self.slept = 0.0

    def start(self) -> None:
        # One customer sends the timed turns back to back, faster than a person may (ORDERING_TURNS_RATE,
        # ORDERING_CONVERSATIONS_RATE): their throttles are forgotten before each conversation, outside the timing.
        from django.core.cache import cache

        cache.delete_many(
            [f"throttle_{scope}_{self.user_id}" for scope in ("conversation_turns", "conversation_starts")]
        )
        self.release_carts()
        response = self.client.post("/api/v1/conversations/", format="json")
        if response.status_code != 201:
            raise RuntimeError(f"starting a conversation answered {response.status_code}")
        self.id = response.json()["id"]

    def release_carts(self) -> None:
        """End the customer's carts left by earlier timed turns, outside the timing.

        Every timed turn is the same customer in a new conversation: past ORDERING_MAX_OPEN_PREVIEWS open
        carts, each new cart would release the oldest, and with Celery eager its undo (the saga's writes and
        the merchant's cancel) would run inside the timed turn, where in production a worker does it later.
        The customer's own conversations ending quietly (the idle release) is what this stands for.
        """
        from ordering.holds import HOLD_IDLE, HOLD_STATUSES, flow_hold_release
        from ordering.models import OrderFlow

        carts = OrderFlow.objects.filter(customer_id=self.user_id, status__in=HOLD_STATUSES)
        for flow_id in carts.values_list("pk", flat=True):
            flow_hold_release(flow_id=flow_id, reason=HOLD_IDLE, customer_id=self.user_id, tell_customer=False)

    def say(self, text: str) -> dict:
        response = self.client.post(
            f"/api/v1/conversations/{self.id}/messages/",
            {"text": text},
            format="json",
            headers={"Idempotency-Key": f"bench-{uuid.uuid4().hex}"},
        )
        if response.status_code not in (200, 201, 202):
            raise RuntimeError(f"a turn answered {response.status_code}: {response.content[:300]!r}")
        body = response.json()
        turn = body.get("turn") or {}
        deadline = time.monotonic() + TURN_WAIT_SECONDS
        while turn and turn.get("status") not in ("done", "failed"):
            if time.monotonic() > deadline:
                raise RuntimeError("a turn did not finish in time")
            started = time.perf_counter()
            time.sleep(0.02)
            self.slept += time.perf_counter() - started  # the client's wait between polls is no server time
            body = self.client.get(turn["url"]).json()
            turn = body.get("turn") or {}
        if turn.get("status") == "failed":
            raise RuntimeError("a turn failed")
        return body

    def confirm(self, preview_hash: str) -> int:
        response = self.client.post(
            f"/api/v1/conversations/{self.id}/confirm/",
            {"preview_hash": preview_hash, "decision": "confirm"},
            format="json",
        )
        return response.status_code


@dataclass
class TurnSample:
    server_ms: float
    cpu_ms: float  # CPU time of the thread that ran the turn (eagerly: request, task and turn), the LLM server not
    merchant_ms: float
    merchant_calls: int
    queries: int
    llm_requests: int
    pending: dict | None


def turn_measure(
    chat: Chat, text: str, *, meter: MerchantMeter, llm: Any = None, profile: bool = False, count_queries: bool = True
) -> TurnSample:
    """One turn, timed. `count_queries` False for row 1's timed turns: recording every statement (Django's debug
    cursor, as CaptureQueriesContext does) costs the turn CPU that a production turn does not spend."""
    chat.start()
    calls_before, seconds_before = meter.snapshot()
    llm_before = len(llm.requests) if llm is not None else 0
    counting = CaptureQueriesContext(connection) if count_queries else contextlib.nullcontext([])
    with counting as queries:
        started, slept, cpu_started = time.perf_counter(), chat.slept, time.thread_time()
        with profiled(profile):
            body = chat.say(text)
        elapsed = time.perf_counter() - started - (chat.slept - slept)
        cpu = time.thread_time() - cpu_started
    seal_after()
    calls, seconds = meter.snapshot()
    merchant = seconds - seconds_before
    return TurnSample(
        server_ms=(elapsed - merchant) * 1000,
        cpu_ms=cpu * 1000,
        merchant_ms=merchant * 1000,
        merchant_calls=calls - calls_before,
        queries=len(queries),
        llm_requests=(len(llm.requests) - llm_before) if llm is not None else 0,
        pending=body.get("pending_confirmation"),
    )


def confirm_queries(chat: Chat, pending: dict | None) -> int | None:
    """Queries of the Confirm button's request (the placement itself is the workers' and row 4's)."""
    if not pending or not pending.get("preview_hash"):
        return None
    with eager(False), CaptureQueriesContext(connection) as queries:
        status = chat.confirm(pending["preview_hash"])
    seal_after()
    if status not in (200, 202):
        raise RuntimeError(f"the confirmation answered {status}")
    return len(queries)


def floor_measure(user: Any, *, count: int) -> float:
    """The floor's median server time (ms) over `count` requests, in-process like our turns."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user)
    times = []
    for index in range(count + 2):
        started = time.perf_counter()
        response = client.post("/bench/floor/", {"text": "hello"}, format="json")
        elapsed = time.perf_counter() - started
        if response.status_code != 201:
            raise RuntimeError(f"the floor answered {response.status_code}")
        if index >= 2:
            times.append(elapsed * 1000)
    return statistics.median(times)
