"""Outlasting a short merchant outage, and flows that must not stay stuck (issue #16, "Undo and recovery").

Real PostgreSQL and Redis (the breaker's state and the task queue), the sandbox merchant over HTTP; outages
are the sandbox answering 500 to everything, which opens our breaker through real failed requests.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import datetime, timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from audit.models import AuditEvent
from catalog_adapters.registry import get_merchant, reset_merchants
from config.celery import app as celery_app
from escalations.models import Escalation
from ordering.models import ConversationStatus, FlowCompensation, FlowStatus, FlowStep, OrderFlow
from ordering.saga import base, engine, sweeper, undo
from ordering.services import flow_confirm
from tests.support.merchant_state import available, merchant_order_count, merchant_token, session_status
from tests.support.sandbox import BLUE_RUNNER_42
from tests.support.services import CeleryWorker, database_url_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _refresh(flow) -> OrderFlow:
    return OrderFlow.objects.get(pk=flow.pk)


def _drive(flow) -> OrderFlow:
    """Run the saga in this process until it stops moving (the queue itself is not under test here)."""
    for _ in range(20):
        if engine.flow_run_next_step(flow_id=flow.pk) == "skipped":
            break
    return _refresh(flow)


def _confirmed_and_failed(shop) -> OrderFlow:
    """A flow whose card is declined at complete: failed, its undo steps registered and not yet run."""
    flow = shop.start_flow(card="pm_alice_decline")
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    flow = _drive(flow)
    assert (flow.status, flow.failure_code) == (FlowStatus.FAILED, "payment_declined")
    return flow


def _breaker_opens_on_one_call(settings, *, cooldown: float):
    """Our breaker opens on the three failed requests of one call (5 failures in production) for `cooldown` s."""
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "sandbox": {**settings.MERCHANTS["sandbox"], "BREAKER_THRESHOLD": 3, "BREAKER_COOLDOWN": cooldown},
    }
    reset_merchants()
    return get_merchant("sandbox").http.breaker


def _reopens_at(breaker) -> float:
    return time.time() + breaker.retry_in()


def _queued_advance_etas(flow) -> list[float]:
    """When the flow_advance tasks waiting for this flow in this run's queue are due (epoch s), newest first."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    etas = []
    for raw in client.lrange(django_settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1):
        headers = json.loads(raw).get("headers", {})
        if headers.get("task") == "ordering.flow_advance" and str(flow.pk) in headers.get("argsrepr", ""):
            etas.append(datetime.fromisoformat(headers["eta"]).timestamp() if headers.get("eta") else 0.0)
    return etas


def _undo(flow) -> dict[str, tuple[str, int]]:
    return {c.action: (c.status, c.attempts) for c in FlowCompensation.objects.filter(flow=flow)}


def _refusals(flow) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(target_type="flow", target_id=str(flow.pk), action__startswith="compensation.")
    return [event for event in events if event.data.get("refused")]


# -- saga steps ----------------------------------------------------------------------------------------


def test_breaker_refusals_use_up_no_attempt_of_a_step_which_comes_back_when_the_breaker_half_opens(
    shop, settings, wall_clock
):
    breaker = _breaker_opens_on_one_call(settings, cooldown=4.0)
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    engine.flow_run_next_step(flow_id=flow.pk)  # the local steps
    # given the merchant answers 500 to every read: verify_price's three requests open our breaker
    shop.sandbox.add_fault("server_error", operation="get")
    engine.flow_run_next_step(flow_id=flow.pk)
    assert breaker.state() == "open"
    sent = len(shop.sandbox.received_requests())

    # when the step is run again while the breaker is open, more often than its attempts allow
    for _ in range(settings.ORDERING_STEP_MAX_ATTEMPTS + 2):
        engine.flow_run_next_step(flow_id=flow.pk)

    # then the flow has not failed, nothing more reached the merchant, and each refusal is recorded as one
    flow = _refresh(flow)
    assert (flow.status, flow.next_step) == (FlowStatus.PLACING, "verify_price")
    assert len(shop.sandbox.received_requests()) == sent
    attempts = list(FlowStep.objects.filter(flow=flow, name="verify_price").values_list("error_class", flat=True))
    assert attempts == ["server_error"] + ["circuit_open"] * (settings.ORDERING_STEP_MAX_ATTEMPTS + 2)
    # and each retry is queued for when the breaker half-opens, not sooner (the queue's clock starts at commit)
    reopens_at = _reopens_at(breaker)
    refused_etas = _queued_advance_etas(flow)[: settings.ORDERING_STEP_MAX_ATTEMPTS + 2]
    assert len(refused_etas) == settings.ORDERING_STEP_MAX_ATTEMPTS + 2
    assert all(reopens_at - 0.3 <= eta <= reopens_at + base.REFUSAL_JITTER_SECONDS + 1.0 for eta in refused_etas), (
        reopens_at,
        refused_etas,
    )

    # when the merchant is back and the breaker half-opens, the same step goes on and the order is placed once
    shop.sandbox.clear_faults()
    wall_clock.advance(breaker.retry_in())
    flow = _drive(flow)
    assert flow.status == FlowStatus.PLACED
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    assert FlowStep.objects.filter(flow=flow, name="verify_price").last().status == "succeeded"


def test_a_step_refused_past_its_deadline_fails_the_flow_as_merchant_unavailable(shop, settings):
    breaker = _breaker_opens_on_one_call(settings, cooldown=30.0)
    settings.ORDERING_STEP_GIVE_UP_SECONDS = 60
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    engine.flow_run_next_step(flow_id=flow.pk)
    shop.sandbox.add_fault("server_error", operation="get")
    engine.flow_run_next_step(flow_id=flow.pk)  # three real failures: the breaker opens
    engine.flow_run_next_step(flow_id=flow.pk)  # refused: still waiting
    assert breaker.state() == "open" and _refresh(flow).status == FlowStatus.PLACING

    # when the step has been waiting since its first attempt for longer than the deadline
    FlowStep.objects.filter(flow=flow).update(started_at=F("started_at") - timedelta(seconds=61))
    engine.flow_run_next_step(flow_id=flow.pk)

    flow = _refresh(flow)
    assert (flow.status, flow.failure_code) == (FlowStatus.FAILED, "merchant_unavailable")
    assert "waited" in flow.failure_detail and "circuit" in flow.failure_detail
    assert merchant_order_count() == 0


# -- undo steps ----------------------------------------------------------------------------------------


def test_breaker_refusals_use_up_no_attempt_of_an_undo_step_and_never_escalate_it(shop, settings, wall_clock):
    breaker = _breaker_opens_on_one_call(settings, cooldown=4.0)
    before = available(BLUE_RUNNER_42)
    flow = _confirmed_and_failed(shop)
    # given the merchant goes down as the undo starts: cancel_order's read fails three times, the breaker opens
    shop.sandbox.add_fault("server_error", operation="any")
    undo.flow_compensate_run(flow_id=flow.pk)
    assert breaker.state() == "open"
    sent = len(shop.sandbox.received_requests())

    # when the undo steps' retry times come again and again while the breaker stays open
    for _ in range(settings.ORDERING_STEP_MAX_ATTEMPTS + 2):
        FlowCompensation.objects.filter(flow=flow, status="failed").update(
            retry_at=timezone.now() - timedelta(seconds=1)
        )
        assert undo.flow_compensate_run(flow_id=flow.pk) == "retrying"

    # then only real requests counted, nothing more was sent, nobody was paged, and the flow is still undoing
    assert _undo(flow) == {
        "cancel_order": ("failed", 1),
        "revoke_token": ("failed", 0),
        "release_spend": ("done", 1),
        "cancel_checkout": ("failed", 0),
    }
    assert len(shop.sandbox.received_requests()) == sent
    assert not Escalation.objects.filter(flow=flow).exists()
    assert _refresh(flow).status == FlowStatus.COMPENSATING
    refusals = _refusals(flow)
    assert len(refusals) == 2 + 3 * (settings.ORDERING_STEP_MAX_ATTEMPTS + 2)  # two in the first run, three after
    assert all(event.outcome == "failed" and "nothing was sent" in event.data["note"] for event in refusals)
    # and each waits for the breaker's half-open time
    reopens_at = _reopens_at(breaker)
    waiting = FlowCompensation.objects.filter(flow=flow, status="failed")
    assert all(reopens_at - 0.3 <= c.retry_at.timestamp() <= reopens_at + 1.3 for c in waiting)

    # when the merchant is back and the retry times come, everything is undone and the stock released
    shop.sandbox.clear_faults()
    wall_clock.advance(max(0.0, max(c.retry_at.timestamp() for c in waiting) - time.time()) + 0.1)
    assert undo.flow_compensate_run(flow_id=flow.pk) == "compensated"

    flow = _refresh(flow)
    assert flow.status == FlowStatus.COMPENSATED
    assert session_status(flow.checkout_session_id) == "canceled"
    assert available(BLUE_RUNNER_42) == before
    assert merchant_token(flow.checkout_session_id).revoked
    assert not Escalation.objects.filter(flow=flow).exists()


@pytest.mark.usefixtures("eager_tasks")
def test_an_undo_step_past_its_attempts_keeps_trying_on_the_sweeper_and_recovers_without_escalation(shop, settings):
    settings.ORDERING_STUCK_AFTER_SECONDS = 0
    before = available(BLUE_RUNNER_42)
    # the merchant's cancel answers 500 for a while (real failures, each one reached the merchant)
    shop.sandbox.add_fault("server_error", operation="cancel", times=50)
    flow = shop.start_flow(card="pm_alice_decline")

    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    # its quick retries are spent, yet nobody is paged: the deadline has not passed
    flow = _refresh(flow)
    assert flow.status == FlowStatus.COMPENSATING
    assert _undo(flow)["cancel_checkout"] == ("failed", settings.ORDERING_STEP_MAX_ATTEMPTS)
    assert not Escalation.objects.filter(flow=flow).exists()
    assert flow.conversation.status != ConversationStatus.ESCALATED

    # when the merchant recovers, the sweeper's next pass undoes it
    shop.sandbox.clear_faults()
    result = sweeper.flows_sweep()

    flow = _refresh(flow)
    assert result["compensating"] == 1
    assert flow.status == FlowStatus.COMPENSATED
    assert _undo(flow)["cancel_checkout"] == ("done", settings.ORDERING_STEP_MAX_ATTEMPTS + 1)
    assert session_status(flow.checkout_session_id) == "canceled"
    assert available(BLUE_RUNNER_42) == before
    assert not Escalation.objects.filter(flow=flow).exists()


# -- a flow left compensating --------------------------------------------------------------------------


class WorkerDied(BaseException):
    """The undo task's process ending abruptly (SIGKILL, out of memory): nothing after it runs."""


def test_the_sweeper_finishes_a_flow_left_compensating_after_its_last_undo_step(shop, settings, monkeypatch):
    flow = _confirmed_and_failed(shop)
    # given the undo task dies after its last undo step, in the transaction that moves the flow on
    moves = undo.flow_transition

    def dies_before_the_final_move(flow, to, **kwargs):
        if to == FlowStatus.COMPENSATED:
            raise WorkerDied
        return moves(flow, to, **kwargs)

    monkeypatch.setattr(undo, "flow_transition", dies_before_the_final_move)
    with pytest.raises(WorkerDied):
        undo.flow_compensate_run(flow_id=flow.pk)
    monkeypatch.undo()
    flow = _refresh(flow)
    assert flow.status == FlowStatus.COMPENSATING
    assert {status for status, _ in _undo(flow).values()} <= {"done", "not_needed"}
    assert session_status(flow.checkout_session_id) == "canceled"

    # when the sweeper passes (on beat) once the flow has been quiet for a while
    settings.ORDERING_STUCK_AFTER_SECONDS = 0
    celery_app.conf.task_always_eager = True
    try:
        result = sweeper.flows_sweep()
    finally:
        celery_app.conf.task_always_eager = False

    # then the flow reaches its final status, with its audit event, once
    flow = _refresh(flow)
    assert flow.status == FlowStatus.COMPENSATED
    assert result["finishing"] == 1
    events = AuditEvent.objects.filter(target_type="flow", target_id=str(flow.pk), action="flow.compensated")
    assert [event.data["from"] for event in events] == ["compensating"]
    # and a second pass finds nothing to do
    assert sweeper.flows_sweep() == {"resumed": 0, "compensating": 0, "finishing": 0}


# -- fault injection: a merchant outage during undo ------------------------------------------------------
#
# The merchant is down for 2.5 breaker cool-downs, so the undo meets the open breaker three times (two failed
# probes) before the shop answers again. Twice: scaled down (a 5 s outage, 2 s cool-down) with a real Celery
# worker in real time; and the issue's own case at its length (a 30 s outage, 12 s cool-down) on a moved clock,
# this process being the worker and beat, so that it takes seconds, not 40.

UNDO_OUTAGE_WORKER_SETTINGS = {
    "MERCHANT_SANDBOX_BREAKER_THRESHOLD": "3",
    "MERCHANT_SANDBOX_MAX_ATTEMPTS": "3",
    "MERCHANT_SANDBOX_BACKOFF_BASE": "0.01",
    "MERCHANT_SANDBOX_BACKOFF_CAP": "0.02",
    "MERCHANT_SANDBOX_CONNECT_TIMEOUT": "1",
    "MERCHANT_SANDBOX_READ_TIMEOUT": "5",
    "MERCHANT_SANDBOX_RATE_LIMIT": "0",
    "ORDERING_STEP_MAX_ATTEMPTS": "3",
    "ORDERING_STEP_RETRY_BASE_SECONDS": "1",
    "ORDERING_STUCK_AFTER_SECONDS": "1",
}


def _merchant_failures(shop) -> list:
    return [r for r in shop.sandbox.received_requests() if r.status == 500 and "server_error" in r.faults]


def _assert_undone_without_escalation(shop, flow, *, before: int, breaker, log: str = "") -> None:
    # then the stock is released at the merchant and nobody was paged
    flow = _refresh(flow)
    assert flow.status == FlowStatus.COMPENSATED, (_undo(flow), log[-3000:])
    assert not Escalation.objects.filter(flow=flow).exists()
    assert flow.conversation.status != ConversationStatus.ESCALATED
    assert session_status(flow.checkout_session_id) == "canceled"
    assert available(BLUE_RUNNER_42) == before
    assert merchant_token(flow.checkout_session_id).revoked
    # and it was a real outage: the merchant failed requests, our breaker opened and refused undo steps at
    # least as often as the old rule allowed attempts before paging someone
    assert len(_merchant_failures(shop)) >= 3
    refusals = _refusals(flow)
    assert len(refusals) >= 3
    # each undo step's attempts are the tries that reached the merchant (or our ledger), refusals left out
    events = AuditEvent.objects.filter(target_type="flow", target_id=str(flow.pk), action__startswith="compensation.")
    for action, (_, attempts) in _undo(flow).items():
        tries = [e for e in events if e.action == f"compensation.{action}" and not e.data.get("refused")]
        assert attempts == len(tries), (action, attempts, [e.data for e in tries])
    assert breaker.state() == "closed"


def test_a_merchant_outage_during_undo_ends_with_the_stock_released_and_no_escalation(
    shop, live_server, settings, tmp_path
):
    """A 5 s outage, a 2 s cool-down, a real worker taking the undo task from the queue, in real time."""
    cooldown, outage = 2.0, 5.0
    breaker = _breaker_opens_on_one_call(settings, cooldown=cooldown)
    settings.ORDERING_STUCK_AFTER_SECONDS = 1  # beat's sweeper runs in this process
    worker_env = {
        **UNDO_OUTAGE_WORKER_SETTINGS,
        "MERCHANT_SANDBOX_BASE_URL": shop.sandbox.base_url,
        "MERCHANT_SANDBOX_BREAKER_COOLDOWN": str(cooldown),
        "SANDBOX_MERCHANT_WEBHOOK_URL": f"{live_server.url}/webhooks/merchants/sandbox/",
    }
    before = available(BLUE_RUNNER_42)
    # Tasks earlier tests of this run left in its queue would keep the worker busy past the outage.
    celery_app.control.purge()
    # given a failed flow whose undo task waits in the queue, and a merchant that just went down
    flow = _confirmed_and_failed(shop)
    shop.sandbox.add_fault("server_error", operation="any")
    worker = CeleryWorker(
        database_url=database_url_for(connection.settings_dict), log_path=tmp_path / "worker.log", extra_env=worker_env
    )

    comes_back = None
    try:
        # when a worker runs the undo (it takes the task as it starts) and the merchant comes back 5 s after
        # the undo first met the outage
        worker.start()
        deadline = time.monotonic() + 30
        while not _merchant_failures(shop) and time.monotonic() < deadline:
            time.sleep(0.05)
        comes_back = threading.Timer(outage, shop.sandbox.clear_faults)
        comes_back.start()
        deadline = time.monotonic() + outage + 4 * cooldown + 10
        while time.monotonic() < deadline:
            sweeper.flows_sweep()
            if _refresh(flow).status in (FlowStatus.COMPENSATED, FlowStatus.ESCALATED):
                break
            time.sleep(0.5)
    finally:
        if comes_back is not None:
            comes_back.join()
        worker.stop()

    _assert_undone_without_escalation(shop, flow, before=before, breaker=breaker, log=worker.log())


def _run_due_tasks() -> list[str]:
    """What a worker does with this run's queue at this moment of the (moved) clock: run each task whose time
    has come (a retry's countdown is its `eta`), leaving the others queued. Returns the names of those run."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    queue = django_settings.CELERY_TASK_DEFAULT_QUEUE
    ran = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        eta = message["headers"].get("eta")
        if eta and datetime.fromisoformat(eta).timestamp() > time.time():
            continue
        if not client.lrem(queue, 1, raw):
            continue  # taken meanwhile
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        name = message["headers"]["task"]
        celery_app.tasks[name](*args, **kwargs)
        ran.append(name)
    return ran


def test_the_issues_30_s_merchant_outage_during_undo_on_a_moved_clock_ends_with_the_stock_released_and_no_escalation(
    shop, settings, wall_clock
):
    """The issue's case at its own length: a 30 s outage, the breaker open 12 s at a time, half-opening twice
    inside it. The clock is moved, not waited: breaker cool-downs, undo retry times, task countdowns and the
    sweeper's quiet time all read this process' wall clock, and this process is the worker (each queued task run
    when its time comes) and beat (the sweeper every second)."""
    cooldown, outage, tick = 12.0, 30.0, 0.5
    breaker = _breaker_opens_on_one_call(settings, cooldown=cooldown)
    settings.ORDERING_STEP_RETRY_BASE_SECONDS = float(UNDO_OUTAGE_WORKER_SETTINGS["ORDERING_STEP_RETRY_BASE_SECONDS"])
    settings.ORDERING_STUCK_AFTER_SECONDS = float(UNDO_OUTAGE_WORKER_SETTINGS["ORDERING_STUCK_AFTER_SECONDS"])
    before = available(BLUE_RUNNER_42)
    celery_app.control.purge()
    # given a failed flow whose undo task waits in the queue, and a merchant that just went down
    flow = _confirmed_and_failed(shop)
    shop.sandbox.add_fault("server_error", operation="any")

    # when the worker runs the undo, and the merchant comes back 30 s after the undo first met the outage
    comes_back_at = None
    ran: list[str] = []
    last_sweep = 0.0
    for _ in range(int((outage + 4 * cooldown + 10) / tick)):
        if comes_back_at is not None and time.time() >= comes_back_at:
            shop.sandbox.clear_faults()
        ran += _run_due_tasks()
        if comes_back_at is None and _merchant_failures(shop):
            comes_back_at = time.time() + outage
        if time.time() - last_sweep >= 1.0:
            sweeper.flows_sweep()
            last_sweep = time.time()
        if _refresh(flow).status in (FlowStatus.COMPENSATED, FlowStatus.ESCALATED):
            break
        wall_clock.advance(tick)

    assert comes_back_at is not None and time.time() >= comes_back_at, "the undo ended before the merchant was back"
    assert "ordering.flow_compensate" in ran
    _assert_undone_without_escalation(shop, flow, before=before, breaker=breaker)
