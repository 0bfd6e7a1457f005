"""Worker and queue metrics reach a scrape: a worker node's own /metrics (config/worker_metrics.py), the
Celery queues' backlog on the web's /metrics (config/queue_metrics.py), and labelled series that exist at
zero from the start (ordering/metrics.py). Real Redis, a real `celery worker` process, real HTTP."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from config.celery import ping
from config.queue_metrics import PUBLISHED_AT_HEADER
from config.worker_metrics import is_worker_command
from tests.conversations.conftest import chat  # noqa: F401 - fixtures reused as they are
from tests.ordering.conftest import shop  # noqa: F401
from tests.support.services import CeleryWorker, database_url_for, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

TOKEN = "worker-scrape-token-of-test"

ASSISTANT = ("arm", "assistant")
PHASE_3 = ("phase", "3")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _scrape(url: str, *, token: str | None = TOKEN) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def _wait_for(condition, *, timeout: float, what: str):
    until = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < until, f"{what} did not happen within {timeout}s"
        time.sleep(0.2)


def test_only_a_celery_worker_command_gets_a_worker_metrics_directory():
    assert is_worker_command(["/usr/local/bin/celery", "-A", "config", "worker", "-Q", "turns"])
    assert is_worker_command(["/venv/lib/python3.11/site-packages/celery/__main__.py", "-A", "config", "worker"])
    assert not is_worker_command(["/usr/local/bin/celery", "-A", "config", "beat"])
    assert not is_worker_command(["manage.py", "check_worker"])
    assert not is_worker_command(["/venv/bin/gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"])


def test_a_turn_run_by_a_real_worker_is_counted_on_the_workers_own_metrics(
    shop,  # noqa: F811
    chat,  # noqa: F811
    settings,
    live_server,
    tmp_path,
):
    # given a worker node with a metrics port, and a stale file of an earlier run in its directory
    port = free_port()
    stale = tmp_path / "worker-metrics" / str(port)
    stale.mkdir(parents=True)
    leftover = MmapedDict(str(stale / "counter_999999.db"))
    key = mmap_key(
        "ordering_flows_placed_total",
        "ordering_flows_placed_total",
        ["merchant", "phase", "arm"],
        ["stale", "3", "assistant"],
        "x",
    )
    leftover.write_value(key, 42.0, 0.0)
    leftover.close()
    settings.ORDERING_TURNS_INLINE = False
    worker = CeleryWorker(
        database_url=database_url_for(connection.settings_dict),
        log_path=tmp_path / "worker.log",
        extra_env={
            "CELERY_METRICS_PORT": str(port),
            "CELERY_METRICS_ADDRESS": "127.0.0.1",
            "CELERY_METRICS_DIR": str(tmp_path / "worker-metrics"),
            "METRICS_BEARER_TOKEN": TOKEN,
            "MERCHANT_SANDBOX_BASE_URL": shop.sandbox.base_url,
            "MERCHANT_SANDBOX_RATE_LIMIT": "0",
            "SANDBOX_MERCHANT_WEBHOOK_URL": f"{live_server.url}/webhooks/merchants/sandbox/",
        },
    )
    url = f"http://127.0.0.1:{port}/metrics"
    chat.start()
    worker.start()
    try:
        # then before any task: the scrape needs the token, the stale file is gone, and the series the
        # rules read exist at zero (summed from the pool's processes)
        with pytest.raises(urllib.error.HTTPError) as refused:
            _scrape(url, token=None)
        assert refused.value.code == 401
        before = _samples(_wait_for(lambda: _scrape(url), timeout=30, what="the worker's /metrics answering"))
        # (the flow counters carry the rollout's phase and arm: the default phase 3, the assistant's arm)
        assert ("ordering_flows_placed_total", (ASSISTANT, ("merchant", "stale"), PHASE_3)) not in before
        assert before[("ordering_flows_started_total", (ASSISTANT, ("merchant", "sandbox"), PHASE_3))] == 0
        assert before[("ordering_flows_placed_total", (ASSISTANT, ("merchant", "sandbox"), PHASE_3))] == 0
        assert before[("ordering_compensations_total", (("action", "cancel_checkout"), ("outcome", "failed")))] == 0
        failed = (
            "ordering_flows_failed_total",
            (ASSISTANT, ("error_class", "server_error"), PHASE_3, ("step", "complete_checkout")),
        )
        assert before[failed] == 0

        # when alice's message is answered by the worker (a pool process, not the node's main process)
        response = chat.client.post(
            f"/api/v1/conversations/{chat.id}/messages/",
            {"text": "Buy the Blue Runner in size 42"},
            format="json",
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert response.status_code == 202, response.content
        turn_url = response.json()["turn"]["url"]
        done = _wait_for(
            lambda: (body := chat.turn(turn_url))["turn"]["status"] not in ("queued", "running") and body,
            timeout=90,
            what="the worker answering the turn",
        )
        assert done["turn"]["status"] == "done", done

        # then the worker's /metrics counts it: the cart opened a checkout session, and the turn was timed
        after = _samples(_scrape(url))
        assert after[("ordering_flows_started_total", (ASSISTANT, ("merchant", "sandbox"), PHASE_3))] == 1
        turns = sum(value for (name, _), value in after.items() if name == "ordering_turn_seconds_count")
        assert turns == 1
        assert any(name == "merchant_requests_total" and value >= 1 for (name, _), value in after.items())
    finally:
        worker.stop()


@pytest.fixture
def queues(settings):
    """Two queues of this test alone, nobody consuming them, as the default and the turn queue."""
    names = [f"test-backlog-{uuid.uuid4().hex[:8]}", f"test-backlog-turns-{uuid.uuid4().hex[:8]}"]
    settings.CELERY_TASK_DEFAULT_QUEUE, settings.ORDERING_TURN_QUEUE = names
    yield names
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(*names, *(f"_kombu.binding.{name}" for name in names))


@pytest.mark.django_db
def test_a_queue_with_waiting_messages_shows_its_length_and_the_age_of_the_oldest(client, queues):
    default, turns = queues
    # given three messages waiting in the turn queue, the first sent more than a second ago
    for _ in range(3):
        ping.apply_async(queue=turns)
        time.sleep(0.4)
    # and one in the default queue that is due only in ten minutes
    ping.apply_async(queue=default, countdown=600)
    tail = redis.Redis.from_url(settings.CELERY_BROKER_URL).lindex(turns, -1)
    assert PUBLISHED_AT_HEADER.encode() in tail

    # when Prometheus scrapes the web's /metrics
    response = client.get("/metrics")

    # then the turn queue shows 3 messages, the oldest about 1.2 s old; the scheduled one is not late
    assert response.status_code == 200
    samples = _samples(response.content.decode())
    assert samples[("celery_queue_length", (("queue", turns),))] == 3
    assert 1.0 <= samples[("celery_queue_oldest_age_seconds", (("queue", turns),))] < 30
    assert samples[("celery_queue_length", (("queue", default),))] == 1
    assert samples[("celery_queue_oldest_age_seconds", (("queue", default),))] == 0


@pytest.mark.django_db
def test_an_empty_queue_shows_zero_length_and_zero_age_also_in_multiprocess_mode(client, queues, monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    samples = _samples(client.get("/metrics").content.decode())

    for queue in queues:
        assert samples[("celery_queue_length", (("queue", queue),))] == 0
        assert samples[("celery_queue_oldest_age_seconds", (("queue", queue),))] == 0


@pytest.mark.django_db
def test_with_redis_down_metrics_answer_without_the_queue_series(client, settings):
    # given a broker nobody listens on
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()

    response = client.get("/metrics")

    # then the scrape answers at once, with the rest of the metrics and no queue series
    assert response.status_code == 200
    assert time.monotonic() - started < 5
    body = response.content.decode()
    assert "ordering_flows_started_total" in body and "escalations_open{" in body
    assert "celery_queue_length{" not in body and "celery_queue_oldest_age_seconds{" not in body


def test_configured_merchants_and_saga_series_exist_at_zero_in_the_web_process():
    from prometheus_client import REGISTRY

    for merchant in settings.MERCHANTS:
        for phase, arm in (("3", "assistant"), ("1", "internal"), ("none", "none")):
            labels = {"merchant": merchant, "phase": phase, "arm": arm}
            assert REGISTRY.get_sample_value("ordering_flows_placed_total", labels) is not None
    labels = {"outcome": "placed", "phase": "2", "arm": "assistant"}
    assert REGISTRY.get_sample_value("ordering_flow_outcomes_total", labels) is not None
    assert (
        REGISTRY.get_sample_value(
            "ordering_flow_step_seconds_count", {"step": "complete_checkout", "status": "succeeded"}
        )
        is not None
    )


def test_a_worker_nodes_metrics_port_does_not_say_which_python_serves_it(settings):
    # http.server's default header was `Server: BaseHTTP/0.6 Python/3.11.7`, on a port open to the scrape network
    from http.server import ThreadingHTTPServer
    from threading import Thread

    from config.worker_metrics import _MetricsHandler

    settings.METRICS_BEARER_TOKEN = TOKEN
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MetricsHandler)
    Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        answers = []
        for path in ("/metrics", "/"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + path, timeout=10)
            answers.append((refused.value.code, refused.value.headers["Server"]))
    finally:
        server.shutdown()
        server.server_close()

    assert answers == [(401, "metrics"), (404, "metrics")]
