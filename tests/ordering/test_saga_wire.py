"""The placement saga against the sandbox merchant over HTTP: the happy path end to end, and the merchant's
faults at complete (server errors, a lost answer, stock gone, a long rate limit, a merchant that stays down),
which only the sandbox's switchboard makes; merchant state and ledger checked after each. The outcomes that need
no HTTP fault (a declined card, 3-D Secure, a price change, the flow metrics) are in test_saga.py, on the fake."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from consent.selectors import spend_usage
from ordering.models import CompensationStatus, FlowStatus, FlowStep
from tests.ordering.saga_reads import confirm, ledger, messages
from tests.support.merchant_state import (
    available,
    merchant_order_count,
    merchant_token,
    merchant_tokens,
    session_order,
    session_status,
)
from tests.support.sandbox import BLUE_RUNNER_42

pytestmark = pytest.mark.usefixtures("eager_tasks")


def test_happy_path_places_one_order_commits_spend_and_tells_the_customer(shop):
    # given a previewed flow holding one unit at the merchant
    before = available(BLUE_RUNNER_42)
    flow = shop.start_flow()
    assert available(BLUE_RUNNER_42) == before - 1
    assert flow.status == FlowStatus.PREVIEWED

    # when alice confirms the exact preview
    flow = confirm(shop, flow)

    # then the merchant has exactly one order for the session, at the confirmed total
    assert flow.status == FlowStatus.PLACED
    order = session_order(flow.checkout_session_id)
    assert flow.merchant_order_id == order.id
    assert order.total().amount == flow.total_amount == flow.preview["total"]
    assert session_status(flow.checkout_session_id) == "completed"
    # stock stays sold (not released), the token was used once, not revoked
    assert available(BLUE_RUNNER_42) == before - 1
    token = merchant_token(flow.checkout_session_id)
    assert token.used and not token.revoked
    assert token.max_amount == flow.total_amount
    # the spend ledger: reserved then committed, nothing live
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": flow.total_amount, "release": 0, "refund": 0}
    assert spend_usage(user_id=shop.alice.pk).used["per_day"] == flow.total_amount
    # every step succeeded once, with a stable key; nothing left to undo
    assert list(FlowStep.objects.filter(flow=flow).values_list("name", "status")) == [
        ("check_consent", "succeeded"),
        ("reserve_spend", "succeeded"),
        ("score_risk", "succeeded"),
        ("verify_price", "succeeded"),
        ("mint_token", "succeeded"),
        ("complete_checkout", "succeeded"),
    ]
    assert not flow.compensations.filter(status=CompensationStatus.PENDING).exists()
    assert order.id in messages(flow)[-1]["text"]
    # the flow's milestones were audited once each, in the order they happened
    milestones = ("flow.previewed", "flow.confirmed", "flow.placing", "flow.placed")
    actions = (
        AuditEvent.objects.filter(target_type="flow", target_id=str(flow.pk), action__in=milestones)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert list(actions) == list(milestones)
    assert audit_chain_verify().intact


def test_two_server_errors_at_complete_then_success_is_three_attempts_and_one_order(shop):
    shop.sandbox.add_fault("server_error", operation="complete", times=2)
    flow = shop.start_flow()

    flow = confirm(shop, flow)

    assert flow.status == FlowStatus.PLACED
    completes = shop.sandbox.received_requests(path_contains=f"{flow.checkout_session_id}/complete")
    assert [request.status for request in completes] == [500, 500, 200]
    assert len({request.idempotency_key for request in completes}) == 1
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    assert merchant_token(flow.checkout_session_id).used
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": flow.total_amount, "release": 0, "refund": 0}


def test_a_lost_complete_response_is_recovered_by_reading_the_session_without_a_second_order(shop):
    # the merchant completes and commits, then answers after our read timeout (2 s)
    shop.sandbox.add_fault("timeout_after_commit", operation="complete", times=1, delay_ms=3000)
    flow = shop.start_flow()

    flow = confirm(shop, flow)

    assert flow.status == FlowStatus.PLACED
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    assert flow.merchant_order_id == session_order(flow.checkout_session_id).id
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": flow.total_amount, "release": 0, "refund": 0}
    assert len(merchant_tokens(session_id=flow.checkout_session_id)) == 1


def test_out_of_stock_at_complete_releases_stock_token_and_spend_and_tells_the_customer(shop):
    before = available(BLUE_RUNNER_42)
    shop.sandbox.add_fault("out_of_stock_at_complete", operation="complete", times=1)
    flow = shop.start_flow()

    flow = confirm(shop, flow)

    assert (flow.status, flow.failure_code) == (FlowStatus.COMPENSATED, "out_of_stock")
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    assert available(BLUE_RUNNER_42) <= before  # the fault made the held unit vanish
    assert session_status(flow.checkout_session_id) == "canceled"  # holding nothing
    assert merchant_token(flow.checkout_session_id).revoked
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": 0, "release": flow.total_amount, "refund": 0}
    assert "sold out" in messages(flow)[-1]["text"]


def test_a_long_rate_limit_at_complete_is_retried_later_not_failed(shop):
    # Retry-After 5 s is past the client's wait cap (1 s): the step is rescheduled, not failed
    shop.sandbox.add_fault("rate_limited", operation="complete", times=1, delay_ms=5000)
    flow = shop.start_flow()

    flow = confirm(shop, flow)

    assert flow.status == FlowStatus.PLACED
    attempts = list(FlowStep.objects.filter(flow=flow, name="complete_checkout").values_list("status", "error_class"))
    assert attempts == [("failed", "client_error"), ("succeeded", "")]
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1


def test_a_merchant_that_stays_down_fails_the_flow_undoes_it_and_says_so(shop):
    before = available(BLUE_RUNNER_42)
    shop.sandbox.add_fault("server_error", operation="complete", times=100)
    flow = shop.start_flow()

    flow = confirm(shop, flow)

    assert (flow.status, flow.failure_code) == (FlowStatus.COMPENSATED, "merchant_unavailable")
    attempts = FlowStep.objects.filter(flow=flow, name="complete_checkout")
    assert attempts.count() == 3 and set(attempts.values_list("error_class", flat=True)) == {"server_error"}
    assert merchant_order_count() == 0
    assert available(BLUE_RUNNER_42) == before
    assert merchant_token(flow.checkout_session_id).revoked
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": 0, "release": flow.total_amount, "refund": 0}
    assert "not answering" in messages(flow)[-1]["text"]
