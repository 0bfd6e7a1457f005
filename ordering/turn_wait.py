"""Waiting for a turn to end without polling it: the turn url's long-poll (`GET …/turns/<id>/?wait=N`).

The turn task pushes a token onto a per-turn Redis list once the turn has ended and its row is committed
(`turn_ended_notify`). A request that found the turn still queued or running blocks on that list with BLPOP
for at most N seconds (`turn_wait_ended`): no CPU and no database work while it waits, and it reads the turn
again as soon as the token arrives. A list rather than pub/sub, because a token pushed between the request's
read and its BLPOP is still there when the BLPOP starts (no lost wake-up); it expires after a minute. A waiter
puts the token back, so a second waiter on the same turn (another tab, a retried poll) wakes too.

Bounded on every side: at most ORDERING_TURN_WAIT_MAX_SECONDS per request, and at most
ORDERING_TURN_WAIT_SLOTS requests of one process waiting at once (config/gunicorn.py sets it below the
process's threads, so waiting polls never take the threads other requests need). With no Redis configured
(`make run`) or Redis unreachable, the request does not wait: it answers the turn as it stands, as a plain
poll does, and the client asks again after its usual interval; without a free slot it does the same with
`Retry-After: 2`, so a busy deployment is not polled twice a second by every client it could not hold.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from django.conf import settings
from prometheus_client import Counter

logger = logging.getLogger("ordering.turn_wait")

waits = Counter(
    "ordering_turn_waits_total",
    "Long-polls of a turn url that waited or could not: ended (woken by the worker), timed_out, busy (no free "
    "slot in the process), unavailable (no Redis)",
    ["outcome"],
)

# A token lives long enough for a poll that read the turn just before it ended, not for ever.
_TOKEN_SECONDS = 60
# A poll that found every wait slot taken says how long to wait before the next (the `Retry-After` of its 200):
# the deployment is busy, and twice a second from every waiting client would take CPU from the turns themselves.
BUSY_RETRY_AFTER_SECONDS = 2
# After Redis failed, polls answer at once for this long instead of each paying a connect timeout.
_RETRY_AFTER_FAILURE_SECONDS = 5.0

_lock = threading.Lock()
_clients: dict[tuple[str, str], redis.Redis] = {}
_slots: dict[int, threading.BoundedSemaphore] = {}
_unavailable_until: dict[str, float] = {}


def _key(turn_id: int) -> str:
    return f"{settings.MERCHANT_SHARED_STATE_PREFIX}:turn-ended:{int(turn_id)}"


def _redis_url() -> str:
    return settings.REDIS_URL or settings.MERCHANT_SHARED_STATE_URL or ""


def _client(kind: str, url: str) -> redis.Redis:
    """One pooled client per process and kind: `notify` with a short socket timeout (a slow Redis must not hold
    the turn worker), `wait` with one longer than the longest BLPOP."""
    client = _clients.get((kind, url))
    if client is None:
        with _lock:
            client = _clients.get((kind, url))
            if client is None:
                socket_timeout = 0.5 if kind == "notify" else settings.ORDERING_TURN_WAIT_MAX_SECONDS + 5
                client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=socket_timeout)
                _clients[(kind, url)] = client
    return client


def _usable_url() -> str | None:
    """The Redis to wait on, unless there is none or it failed a moment ago."""
    url = _redis_url()
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    if time.monotonic() < _unavailable_until.get(url, 0.0):
        return None
    return url


def _slot_pool() -> threading.BoundedSemaphore:
    size = settings.ORDERING_TURN_WAIT_SLOTS
    slots = _slots.get(size)
    if slots is None:
        with _lock:
            slots = _slots.setdefault(size, threading.BoundedSemaphore(size))
    return slots


def _failed(url: str, error: Exception, *, action: str) -> None:
    if time.monotonic() >= _unavailable_until.get(url, 0.0):
        logger.warning("turn_wait.redis_unavailable", extra={"action": action, "error": type(error).__name__})
    _unavailable_until[url] = time.monotonic() + _RETRY_AFTER_FAILURE_SECONDS


def turn_ended_notify(*, turn_id: int) -> None:
    """Wake the requests waiting for this turn. Call after the turn's end is committed; never raises (a waiter
    that is not woken reads the turn when its wait times out)."""
    url = _usable_url()
    if url is None:
        return
    key = _key(turn_id)
    try:
        with _client("notify", url).pipeline(transaction=True) as pipe:
            pipe.rpush(key, 1).expire(key, _TOKEN_SECONDS).execute()
    except redis.RedisError as error:
        _failed(url, error, action="notify")


def turn_wait_ended(*, turn_id: int, seconds: float, before_waiting: Callable[[], None] | None = None) -> str:
    """Block until the worker says the turn ended, for at most `seconds`; returns why it stopped waiting:
    `ended`, `timed_out`, `busy` (every wait slot of this process taken) or `unavailable` (no Redis).
    `before_waiting` runs only when the request is really about to wait (the view gives back its database
    connection there).

    Call only for a turn the caller may see (the view has read it for its customer) and only while it is
    unfinished; read the turn again afterwards, whatever the outcome."""
    url = _usable_url()
    if url is None:
        waits.labels(outcome="unavailable").inc()
        return "unavailable"
    slots = _slot_pool()
    if not slots.acquire(blocking=False):
        waits.labels(outcome="busy").inc()
        return "busy"
    client, key = _client("wait", url), _key(turn_id)
    try:
        if before_waiting is not None:
            before_waiting()
        token = client.blpop([key], timeout=seconds)  # fractions of a second: Redis 6 and later
        outcome = "timed_out" if token is None else "ended"
        if token is not None:
            with client.pipeline(transaction=True) as pipe:
                pipe.rpush(key, 1).expire(key, _TOKEN_SECONDS).execute()
    except redis.RedisError as error:
        _failed(url, error, action="wait")
        outcome = "unavailable"
    finally:
        slots.release()
    waits.labels(outcome=outcome).inc()
    return outcome
