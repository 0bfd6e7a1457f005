"""Celery queue backlog on the web's /metrics, read from the Redis broker at scrape time.

`celery_queue_length{queue}`: messages waiting in the queue (not those a worker has taken).
`celery_queue_oldest_age_seconds{queue}`: how long the oldest waiting message has been due: now minus the
later of its publish time and its ETA (a task scheduled for later is not late before then); 0 when the
queue is empty.

Queues: the default queue (CELERY_TASK_DEFAULT_QUEUE) and the chat turns' (ORDERING_TURN_QUEUE): the
label's values are those two names. One pipelined round trip per scrape: for each queue and kombu
priority list, LLEN and LINDEX of the tail (kombu's Redis transport LPUSHes and workers BRPOP, so the
tail is the oldest). The publish time is the `published_at` header (epoch seconds) that
`stamp_published_at` adds to every task message in before_task_publish: Celery's own headers carry an
ETA but no publish time. A message without it (sent before this code, or by another client) has no age
unless it has an ETA. Ages compare the publisher's clock with the web machine's: keep clocks in sync.

Redis unreachable, or a broker that is not Redis: the collector yields nothing and logs a warning; the
scrape still answers.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

PUBLISHED_AT_HEADER = "published_at"
# kombu's Redis transport keeps priorities 3, 6 and 9 in lists of their own next to the queue's.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)
# A scrape must not hang on a broker that does not answer.
_TIMEOUT_SECONDS = 1.0

_clients: dict[str, object] = {}


def stamp_published_at(headers: dict | None = None, **_: object) -> None:
    """before_task_publish: the time the message was sent (a retry is a new send: the time is renewed)."""
    if headers is not None:
        headers[PUBLISHED_AT_HEADER] = time.time()


def _redis_client(url: str):
    import redis

    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, socket_connect_timeout=_TIMEOUT_SECONDS, socket_timeout=_TIMEOUT_SECONDS)
        _clients[url] = client
    return client


def _due_at(raw: bytes | None) -> float | None:
    """When the message became due: the later of its publish time and its ETA."""
    if raw is None:
        return None
    try:
        headers = json.loads(raw).get("headers") or {}
        published = headers.get(PUBLISHED_AT_HEADER)
        eta = headers.get("eta")
        times = [float(published)] if published is not None else []
        if eta:
            times.append(datetime.fromisoformat(eta).timestamp())
    except (ValueError, TypeError, AttributeError):
        return None
    return max(times) if times else None


def queue_names() -> list[str]:
    from django.conf import settings

    names = (settings.CELERY_TASK_DEFAULT_QUEUE, getattr(settings, "ORDERING_TURN_QUEUE", ""))
    return [name for name in dict.fromkeys(names) if name]


def queue_backlog(*, now: float | None = None) -> dict[str, tuple[int, float | None]]:
    """{queue: (length, age of the oldest waiting message in seconds or None)}; raises when Redis fails."""
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return {}
    prefix = (getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}).get("global_keyprefix", "")
    names = queue_names()
    pipe = _redis_client(url).pipeline(transaction=False)
    for name in names:
        for step in _PRIORITY_STEPS:
            key = prefix + (f"{name}{_PRIORITY_SEPARATOR}{step}" if step else name)
            pipe.llen(key)
            pipe.lindex(key, -1)
    replies = iter(pipe.execute())
    now = time.time() if now is None else now
    backlog = {}
    for name in names:
        length, due = 0, []
        for _ in _PRIORITY_STEPS:
            length += int(next(replies))
            tail_due = _due_at(next(replies))
            if tail_due is not None:
                due.append(tail_due)
        age = max(0.0, now - min(due)) if due else (0.0 if length == 0 else None)
        backlog[name] = (length, age)
    return backlog


class CeleryQueueCollector(Collector):
    """celery_queue_length{queue} and celery_queue_oldest_age_seconds{queue}, read from the broker per scrape."""

    def collect(self) -> Iterator[Metric]:
        try:
            backlog = queue_backlog()
        except Exception:
            # A scrape must not fail because the broker is away; the queue series are simply absent.
            logger.warning("could not read the Celery queues for /metrics", exc_info=True)
            return
        if not backlog:
            return
        length = GaugeMetricFamily("celery_queue_length", "Messages waiting in a Celery queue", labels=["queue"])
        age = GaugeMetricFamily(
            "celery_queue_oldest_age_seconds",
            "Seconds the oldest waiting message of a Celery queue has been due (0 when the queue is empty)",
            labels=["queue"],
        )
        for name, (count, oldest) in sorted(backlog.items()):
            length.add_metric([name], count)
            if oldest is not None:
                age.add_metric([name], oldest)
        yield length
        yield age

    def describe(self) -> Iterator[Metric]:
        # Describing without collecting keeps registration from calling Redis at import time.
        return iter(())
