"""A worker killed mid-placement: after a restart the flow finishes exactly once (real worker, Redis)."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from ordering.models import FlowStatus, FlowStep, OrderFlow
from ordering.saga import sweeper
from ordering.services import flow_confirm
from tests.support.merchant_state import merchant_order_count, session_order
from tests.support.services import CeleryWorker, database_url_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_during_complete_leaves_one_order_after_restart(shop, live_server, tmp_path, settings):
    settings.ORDERING_STUCK_AFTER_SECONDS = 1  # the sweeper runs in this process
    worker_env = {
        "MERCHANT_SANDBOX_BASE_URL": shop.sandbox.base_url,
        "MERCHANT_SANDBOX_READ_TIMEOUT": "15",
        "MERCHANT_SANDBOX_BACKOFF_BASE": "0.05",
        "MERCHANT_SANDBOX_RATE_LIMIT": "0",
        "SANDBOX_MERCHANT_WEBHOOK_URL": f"{live_server.url}/webhooks/merchants/sandbox/",
        "ORDERING_STEP_LEASE_SECONDS": "3",
        "ORDERING_STUCK_AFTER_SECONDS": "1",
        "ORDERING_STEP_RETRY_BASE_SECONDS": "0",
    }
    database_url = database_url_for(connection.settings_dict)
    first = CeleryWorker(database_url=database_url, log_path=tmp_path / "worker-1.log", extra_env=worker_env).start()
    # the merchant takes 4 s over the first complete: long enough to kill the worker while it waits
    shop.sandbox.add_fault("slow", operation="complete", times=1, delay_ms=4000)
    flow = shop.start_flow()

    try:
        flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
        _wait_for(
            lambda: FlowStep.objects.filter(flow=flow, name="complete_checkout", status="running").exists(),
            timeout=60,
            what="the worker to reach complete_checkout",
        )
        time.sleep(0.5)  # the complete request is in flight at the merchant
        first.kill()
    finally:
        first.stop()
    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACING

    second = CeleryWorker(database_url=database_url, log_path=tmp_path / "worker-2.log", extra_env=worker_env).start()
    try:
        # beat's sweeper, once the dead worker's lease has run out, hands the flow to the new worker
        def swept_and_placed():
            sweeper.flows_sweep()
            return OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACED

        _wait_for(swept_and_placed, timeout=90, what="the restarted worker to place the flow")
    finally:
        second.stop()

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    assert flow.merchant_order_id == session_order(flow.checkout_session_id).id
    attempts = list(FlowStep.objects.filter(flow=flow, name="complete_checkout").values_list("status", "error_class"))
    assert attempts[0] == ("failed", "abandoned")
    assert attempts[-1] == ("succeeded", "")
    completes = shop.sandbox.received_requests(path_contains=f"{flow.checkout_session_id}/complete")
    assert len({request.idempotency_key for request in completes}) == 1
