"""The HTTP load client: concurrent chat sessions, each a signed-in customer typing with think time.

One thread per session (requests; the waiting is network and sleep). A session starts a conversation,
then sends its turns one after another, waiting `think` seconds (±25 %) after each answer, as a person
reading and typing. Sessions start spread over the first think period, as people arrive.

A turn is complete when the answer is there: today's `201` with the messages, or under the turn
contract (docs/conversation-api.md) a `202` whose turn url is long-polled (`?wait=`) until `done` or `failed`. A `409`
(a turn of the conversation still running) is waited out (Retry-After) and sent again with the same
Idempotency-Key. A turn fails on any other status, a `failed` turn, a network error or no answer
within `timeout`; its latency is from the first send to the complete answer.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

# As the widget does (static/widget/widget.js, TURN_WAIT_S and TURN_POLL_MS): the load is what real clients
# send. Each look at the turn url waits at the server up to WAIT_SECONDS for the turn to end (long-poll);
# looks start at least POLL_SECONDS apart (or the Retry-After of a busy server's answer), so a server that
# answers at once is polled twice a second.
# BENCH_TURN_WAIT_SECONDS=0 measures the plain polling of before the long-poll (the same server, no waiting).
WAIT_SECONDS = int(os.environ.get("BENCH_TURN_WAIT_SECONDS", "20"))
POLL_SECONDS = 0.5


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, completed turns
    failed: int = 0
    turns: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # Looks at turn urls, and how many of them the server answered at once for want of a free wait slot
    # (Retry-After): the web's cost per turn grows with them.
    looks: int = 0
    busy_looks: int = 0

    def percentile(self, fraction: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
        return ordered[index]

    @property
    def p50(self) -> float | None:
        return statistics.median(self.latencies) if self.latencies else None

    @property
    def p95(self) -> float | None:
        return self.percentile(0.95)

    @property
    def max(self) -> float | None:
        return max(self.latencies) if self.latencies else None


class _Session:
    def __init__(self, base_url: str, signed_in: Any, timeout: float, result: LoadResult, lock: threading.Lock) -> None:
        self.base_url = base_url.rstrip("/")
        self.result, self.lock = result, lock
        self.http = requests.Session()
        self.http.headers.update(
            {"Cookie": signed_in.cookie, "X-CSRFToken": signed_in.csrf, "Referer": self.base_url + "/"}
        )
        self.timeout = timeout

    def post(self, path: str, body: dict | None = None, headers: dict | None = None) -> requests.Response:
        return self.http.post(self.base_url + path, json=body or {}, headers=headers, timeout=self.timeout)

    def turn(self, conversation_id: str, text: str) -> None:
        """Sends one message and returns when its answer is complete (raises with the reason otherwise)."""
        key = f"bench-{uuid.uuid4().hex}"
        deadline = time.monotonic() + self.timeout
        while True:
            response = self.post(
                f"/api/v1/conversations/{conversation_id}/messages/", {"text": text}, {"Idempotency-Key": key}
            )
            if response.status_code == 409 and time.monotonic() < deadline:
                time.sleep(min(float(response.headers.get("Retry-After") or 1), 2.0))
                continue
            break
        if response.status_code == 201:
            return
        if response.status_code != 202:
            raise TurnFailed(f"HTTP {response.status_code}")
        turn = response.json().get("turn") or {}
        looked_at, gap = None, POLL_SECONDS
        while turn.get("status") not in ("done", "failed"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TurnFailed("timeout")
            if WAIT_SECONDS:
                # As the widget: the first look at once (the server waits), the next ones POLL_SECONDS apart at least.
                if looked_at is not None:
                    time.sleep(max(0.0, gap - (time.monotonic() - looked_at)))
                params = {"wait": min(WAIT_SECONDS, max(1, int(left)))}
            else:
                time.sleep(POLL_SECONDS)  # plain polling, as before the long-poll
                params = None
            looked_at = time.monotonic()
            answer = self.http.get(self.base_url + turn["url"], params=params, timeout=self.timeout)
            with self.lock:
                self.result.looks += 1
                self.result.busy_looks += "Retry-After" in answer.headers
            if answer.status_code != 200:
                raise TurnFailed(f"poll HTTP {answer.status_code}")
            # A busy server that could not hold the look says when to ask again, as the widget honours it.
            gap = max(POLL_SECONDS, min(float(answer.headers.get("Retry-After") or 0), 10.0))
            turn = answer.json().get("turn") or {}
        if turn["status"] == "failed":
            raise TurnFailed("turn failed")


class TurnFailed(Exception):
    pass


def _run(
    *,
    sessions: list[Any],
    think: float,
    timeout: float,
    body: Callable[[_Session, Callable[[Callable[[], None]], None], Callable[[], None]], None],
    base_url: str,
) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()
    rng = random.Random(15)  # noqa: S311 - spreading load, not security

    def timed(action: Callable[[], None]) -> None:
        started = time.monotonic()
        try:
            action()
        except (TurnFailed, requests.RequestException, ValueError, KeyError) as error:
            reason = str(error) if isinstance(error, TurnFailed) else type(error).__name__
            with lock:
                result.turns += 1
                result.failed += 1
                result.errors[reason] = result.errors.get(reason, 0) + 1
            return
        with lock:
            result.turns += 1
            result.latencies.append(time.monotonic() - started)

    def pause() -> None:
        time.sleep(think * rng.uniform(0.75, 1.25) if think else 0)

    def worker(signed_in: Any, delay: float) -> None:
        time.sleep(delay)
        body(_Session(base_url, signed_in, timeout, result, lock), timed, pause)

    started = time.monotonic()
    threads = [
        threading.Thread(target=worker, args=(item, rng.uniform(0, think) if think else 0), daemon=True)
        for item in sessions
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    return result


def chat_load(*, base_url: str, sessions: list[Any], texts: list[str], think: float, timeout: float) -> LoadResult:
    """Every session: a new conversation, then `texts` one after another with think time."""

    def body(session: _Session, timed: Callable, pause: Callable) -> None:
        try:
            response = session.post("/api/v1/conversations/")
            response.raise_for_status()
            conversation_id = response.json()["id"]
        except (requests.RequestException, ValueError, KeyError):
            for _ in texts:  # the session never got a conversation: each of its turns failed
                timed(lambda: (_ for _ in ()).throw(TurnFailed("no conversation")))
            return
        for index, text in enumerate(texts):
            if index:
                pause()
            timed(lambda text=text: session.turn(conversation_id, text))

    return _run(sessions=sessions, think=think, timeout=timeout, body=body, base_url=base_url)


def server_idle(*, base_url: str, signed_in: Any, within: float = 0.5, timeout: float = 300) -> None:
    """Waits until the floor answers within `within` seconds: requests a timed-out client left behind are
    still being served, and the floor must not be measured behind them."""
    session = _Session(base_url, signed_in, timeout=30, result=LoadResult(), lock=threading.Lock())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            ok = session.post("/bench/floor/", {"text": "idle?"}).status_code == 201
        except requests.RequestException:
            ok = False
        if ok and time.monotonic() - started < within:
            return
        time.sleep(1)


def floor_load(*, base_url: str, sessions: list[Any], count: int, think: float, timeout: float) -> LoadResult:
    """The same sessions and pacing against the floor (one insert, one update per request)."""

    def send(session: _Session) -> None:
        response = session.post("/bench/floor/", {"text": "hello"})
        if response.status_code != 201:
            raise TurnFailed(f"HTTP {response.status_code}")

    def body(session: _Session, timed: Callable, pause: Callable) -> None:
        for index in range(count):
            if index:
                pause()
            timed(lambda: send(session))

    return _run(sessions=sessions, think=think, timeout=timeout, body=body, base_url=base_url)
