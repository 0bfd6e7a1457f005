"""The HTTP base's policy, over real HTTP against a scripted server on a real socket."""

from __future__ import annotations

import hashlib
import logging
import time

import pytest
from prometheus_client import REGISTRY

from catalog_adapters.errors import (
    MerchantCircuitOpen,
    MerchantClientError,
    MerchantNetworkError,
    MerchantRateLimited,
    MerchantServerError,
)
from catalog_adapters.http import idempotency_key_for, retry_after_seconds
from config.tracing import trace_context
from tests.merchant_client.scripted import Reply
from tests.support.services import free_port


def test_every_request_carries_auth_version_agent_trace_and_a_fresh_request_id(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)
    scripted.then(Reply(500), Reply(200, {"ok": 1}))

    with trace_context("trace-abc-12345"):
        response = merchant.http.request("GET", "/things", operation="thing_get")

    assert response.status == 200 and response.attempts == 2
    first, second = scripted.received
    for received in (first, second):
        assert received.headers["Authorization"] == "Bearer test-secret-token-value"
        assert received.headers["API-Version"] == "2026-04-17"
        assert received.headers["User-Agent"].startswith("ordering-assistant/")
        assert received.headers["X-Trace-ID"] == "trace-abc-12345"
        assert "Idempotency-Key" not in received.headers  # GETs are safe by nature
    assert first.headers["Request-Id"] != second.headers["Request-Id"]
    assert response.request_id == second.headers["Request-Id"]


def test_a_call_outside_any_trace_still_sends_one_trace_id_for_all_its_attempts(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)
    scripted.then(Reply(503), Reply(200))

    merchant.http.request("GET", "/things", operation="thing_get")

    trace_ids = {received.headers.get("X-Trace-ID") for received in scripted.received}
    assert len(trace_ids) == 1 and None not in trace_ids


def test_post_idempotency_key_is_derived_from_the_operation_id_and_stable_across_retries(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)
    scripted.then(Reply(500), Reply(502), Reply(201, {"id": "cs_1"}))

    response = merchant.http.request(
        "POST", "/checkout_sessions", operation="checkout_create", operation_id="flow-7-step-2", json_body={"a": 1}
    )

    assert response.status == 201 and response.attempts == 3
    keys = {received.headers["Idempotency-Key"] for received in scripted.received}
    expected = hashlib.sha256(f"{merchant.id}\x1fcheckout_create\x1fflow-7-step-2".encode()).hexdigest()
    assert keys == {expected} == {idempotency_key_for(merchant.id, "checkout_create", "flow-7-step-2")}
    assert len({received.body for received in scripted.received}) == 1  # byte-identical body on every retry


def test_a_different_logical_call_gets_a_different_key(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)

    merchant.http.request("POST", "/x", operation="checkout_create", operation_id="op-1", json_body={})
    merchant.http.request("POST", "/x", operation="checkout_create", operation_id="op-2", json_body={})
    merchant.http.request("POST", "/x", operation="checkout_update", operation_id="op-1", json_body={})

    assert len({received.headers["Idempotency-Key"] for received in scripted.received}) == 3


def test_a_post_without_operation_id_is_refused_before_anything_is_sent(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)

    with pytest.raises(ValueError, match="operation_id"):
        merchant.http.request("POST", "/x", operation="checkout_create", json_body={})

    assert scripted.received == []


def test_5xx_is_retried_up_to_max_attempts_then_a_server_error(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, max_attempts=4)
    scripted.then(*[Reply(500, {"type": "processing_error", "code": "boom", "message": "down"})] * 4)

    with pytest.raises(MerchantServerError) as caught:
        merchant.http.request("GET", "/things", operation="thing_get")

    assert caught.value.attempts == 4 and caught.value.status == 500 and caught.value.code == "boom"
    assert caught.value.error_class == "server_error" and not caught.value.outcome_unknown
    assert len(scripted.received) == 4


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "invalid"), (401, "unauthorized"), (404, "not_found"), (409, "conflict"), (422, "idempotency_conflict")],
)
def test_4xx_is_not_retried_and_carries_the_merchants_code(scripted, configure_merchant, status, code):
    merchant = configure_merchant(scripted.url)
    scripted.then(Reply(status, {"type": "invalid_request", "code": code, "message": "no", "param": "$.line_items"}))

    with pytest.raises(MerchantClientError) as caught:
        merchant.http.request("POST", "/x", operation="checkout_update", operation_id="op", json_body={})

    error = caught.value
    assert (error.status, error.code, error.param, error.attempts) == (status, code, "$.line_items", 1)
    assert error.error_class == "client_error"
    assert len(scripted.received) == 1


def test_4xx_never_trips_the_breaker(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, breaker_threshold=2)
    scripted.then(*[Reply(404, {"code": "not_found"})] * 5)

    for _ in range(5):
        with pytest.raises(MerchantClientError):
            merchant.http.request("GET", "/missing", operation="thing_get")

    assert merchant.http.breaker.state() == "closed"
    merchant.http.request("GET", "/ok", operation="thing_get")  # still flows
    assert len(scripted.received) == 6


def test_429_with_retry_after_is_waited_out_then_retried(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)
    scripted.then(Reply(429, {"type": "rate_limit_exceeded", "code": "rate_limited"}, {"Retry-After": "1"}))

    response = merchant.http.request("GET", "/things", operation="thing_get")

    assert response.status == 200 and response.attempts == 2
    first, second = scripted.received
    assert second.at - first.at >= 0.95  # the merchant's Retry-After, not our 10 ms backoff


def test_a_retry_after_beyond_our_cap_is_not_waited_inside_the_call(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, retry_after_cap=1.0)
    scripted.then(Reply(429, {"code": "rate_limited"}, {"Retry-After": "30"}))

    started = time.monotonic()
    with pytest.raises(MerchantClientError) as caught:
        merchant.http.request("GET", "/things", operation="thing_get")

    assert time.monotonic() - started < 1.0
    assert caught.value.status == 429 and caught.value.retry_after == 30 and caught.value.attempts == 1
    assert len(scripted.received) == 1


def test_409_in_flight_is_retried_with_the_same_key_and_other_409s_are_not(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)
    scripted.then(Reply(409, {"code": "idempotency_in_flight"}, {"Retry-After": "0.2"}), Reply(200, {"id": "cs_1"}))

    response = merchant.http.request(
        "POST", "/x/complete", operation="checkout_complete", operation_id="o", json_body={}
    )

    assert response.attempts == 2
    assert len({received.headers["Idempotency-Key"] for received in scripted.received}) == 1


def test_a_read_timeout_is_a_network_error_with_unknown_outcome_after_every_attempt(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, read_timeout=0.2)
    scripted.then(*[Reply(200, delay=0.6)] * 3)

    with pytest.raises(MerchantNetworkError) as caught:
        merchant.http.request("POST", "/x", operation="checkout_update", operation_id="op", json_body={})

    assert caught.value.attempts == 3 and caught.value.outcome_unknown and caught.value.status is None
    assert len(scripted.received) == 3
    assert len({received.headers["Idempotency-Key"] for received in scripted.received}) == 1


def test_a_refused_connection_is_a_network_error(configure_merchant):
    merchant = configure_merchant(f"http://127.0.0.1:{free_port()}", max_attempts=2)

    with pytest.raises(MerchantNetworkError) as caught:
        merchant.http.request("GET", "/things", operation="thing_get")

    assert caught.value.attempts == 2


def test_backoff_is_full_jitter_bounded_by_the_cap(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, max_attempts=6, backoff_base=0.01, backoff_cap=0.03)
    slept = []
    merchant.http.sleep = lambda seconds: (slept.append(seconds), time.sleep(seconds))
    scripted.then(*[Reply(503)] * 6)

    with pytest.raises(MerchantServerError):
        merchant.http.request("GET", "/things", operation="thing_get")

    assert len(slept) == 5  # between six attempts
    ceilings = [min(0.03, 0.01 * 2**attempt) for attempt in range(5)]
    assert all(0 <= delay <= ceiling for delay, ceiling in zip(slept, ceilings, strict=True))


def test_a_2xx_we_cannot_read_is_a_server_error_and_not_retried(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)
    scripted.then(Reply(201, raw=b"<html>welcome</html>"))

    # The merchant acted (2xx) but we cannot read what it did: resending is not ours to decide.
    with pytest.raises(MerchantServerError) as caught:
        merchant.http.request("POST", "/x", operation="checkout_create", operation_id="op", json_body={})

    assert caught.value.attempts == 1 and caught.value.status == 201
    assert len(scripted.received) == 1


def test_the_breaker_opens_fails_fast_without_a_request_and_recovers_after_the_cooldown(
    scripted, configure_merchant, wall_clock
):
    merchant = configure_merchant(scripted.url, breaker_threshold=3, breaker_cooldown=0.5, max_attempts=1)
    scripted.then(*[Reply(500)] * 3)

    for _ in range(3):
        with pytest.raises(MerchantServerError):
            merchant.http.request("GET", "/things", operation="thing_get")
    assert merchant.http.breaker.state() == "open"

    # when: open, calls fail fast and nothing reaches the merchant
    with pytest.raises(MerchantCircuitOpen) as caught:
        merchant.http.request("POST", "/x", operation="checkout_create", operation_id="op", json_body={})
    assert caught.value.attempts == 0
    assert len(scripted.received) == 3

    # then: after the cool-down one probe goes through and its success closes the breaker
    wall_clock.advance(0.6)
    assert merchant.http.breaker.state() == "half_open"
    assert merchant.http.request("GET", "/things", operation="thing_get").status == 200
    assert merchant.http.breaker.state() == "closed"
    assert len(scripted.received) == 4


def test_a_failed_probe_opens_the_breaker_for_another_cooldown(scripted, configure_merchant, wall_clock):
    merchant = configure_merchant(scripted.url, breaker_threshold=1, breaker_cooldown=0.4, max_attempts=1)
    scripted.then(Reply(503), Reply(503))

    with pytest.raises(MerchantServerError):
        merchant.http.request("GET", "/things", operation="thing_get")
    wall_clock.advance(0.5)
    with pytest.raises(MerchantServerError):  # the probe, and it fails
        merchant.http.request("GET", "/things", operation="thing_get")

    assert merchant.http.breaker.state() == "open"
    with pytest.raises(MerchantCircuitOpen):
        merchant.http.request("GET", "/things", operation="thing_get")
    assert len(scripted.received) == 2


def test_only_one_probe_is_let_through_while_half_open(scripted, configure_merchant, wall_clock):
    merchant = configure_merchant(scripted.url, breaker_threshold=1, breaker_cooldown=0.3, max_attempts=1)
    scripted.then(Reply(500), Reply(200, delay=0.5))
    with pytest.raises(MerchantServerError):
        merchant.http.request("GET", "/things", operation="thing_get")
    wall_clock.advance(0.4)

    import threading

    results = []
    probe = threading.Thread(
        target=lambda: results.append(merchant.http.request("GET", "/things", operation="thing_get").status)
    )
    probe.start()
    time.sleep(0.15)  # the probe is in flight at the merchant
    with pytest.raises(MerchantCircuitOpen):
        merchant.http.request("GET", "/things", operation="thing_get")
    probe.join()

    assert results == [200] and merchant.http.breaker.state() == "closed"
    assert len(scripted.received) == 2


def test_our_own_refusals_say_that_nothing_was_sent_and_when_to_come_back(scripted, configure_merchant):
    # Tasks that must not give up on a refusal (the order saga, its undo steps) schedule their retry by this.
    breaker = configure_merchant(scripted.url, breaker_threshold=1, breaker_cooldown=5.0, max_attempts=1)
    limited = configure_merchant(scripted.url, rate_limit=0.2, rate_limit_burst=1, rate_limit_max_wait=0.05)
    scripted.then(Reply(500), Reply(200))

    with pytest.raises(MerchantServerError) as failed:
        breaker.http.request("GET", "/things", operation="thing_get")
    with pytest.raises(MerchantCircuitOpen) as open_:
        breaker.http.request("GET", "/things", operation="thing_get")
    assert limited.http.request("GET", "/things", operation="thing_get").status == 200
    with pytest.raises(MerchantRateLimited) as throttled:
        limited.http.request("GET", "/things", operation="thing_get")

    assert not failed.value.refused_locally  # the merchant answered: that failure is evidence
    assert open_.value.refused_locally and 4.0 < open_.value.retry_after <= 5.0  # the rest of the cool-down
    assert throttled.value.refused_locally and 4.0 < throttled.value.retry_after <= 5.0  # the next token (0.2/s)
    assert len(scripted.received) == 2


def test_when_the_breaker_opens_mid_call_the_real_error_is_raised(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, breaker_threshold=2, max_attempts=5, read_timeout=0.2)
    scripted.then(*[Reply(200, delay=0.5)] * 5)

    with pytest.raises(MerchantNetworkError) as caught:
        merchant.http.request("POST", "/x", operation="checkout_complete", operation_id="op", json_body={})

    # the caller must still learn that the outcome is unknown, not merely "circuit open"
    assert caught.value.attempts == 2 and len(scripted.received) == 2


def test_complete_with_a_lost_answer_reads_the_session_before_resending(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, read_timeout=0.3)
    session = _session("cs_1", "completed", order={"id": "ord_1", "checkout_session_id": "cs_1"})
    scripted.then(
        Reply(200, session, delay=0.8, method="POST", path="/checkout_sessions/cs_1/complete"),
        Reply(200, session, method="GET", path="/checkout_sessions/cs_1"),
    )
    from catalog_adapters.contract import PaymentData

    result = merchant.checkout.complete(
        session_id="cs_1", payment=PaymentData(token="vt_1", handler_id="card_tokenized"), operation_id="flow-1"
    )

    assert result.status == "completed" and result.order.id == "ord_1"
    assert len(scripted.requests_to("POST")) == 1  # never resent: the read showed it was done
    assert len(scripted.requests_to("GET")) == 1


def test_complete_resends_with_the_same_key_when_the_read_shows_it_not_done(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, read_timeout=0.3)
    path = "/checkout_sessions/cs_2/complete"
    scripted.then(
        Reply(200, {}, delay=0.8, method="POST", path=path),
        Reply(200, _session("cs_2", "ready_for_payment"), method="GET", path="/checkout_sessions/cs_2"),
        Reply(200, _session("cs_2", "completed", order={"id": "ord_2"}), method="POST", path=path),
    )
    from catalog_adapters.contract import PaymentData

    result = merchant.checkout.complete(
        session_id="cs_2", payment=PaymentData(token="vt_2", handler_id="card_tokenized"), operation_id="flow-2"
    )

    assert result.order.id == "ord_2"
    posts = scripted.requests_to("POST", path)
    assert len(posts) == 2 and posts[0].headers["Idempotency-Key"] == posts[1].headers["Idempotency-Key"]
    assert [r.method for r in scripted.received] == ["POST", "GET", "POST"]


def test_metrics_count_latency_and_errors_per_merchant_and_operation(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, max_attempts=2)
    scripted.then(Reply(500), Reply(500), Reply(200))

    with pytest.raises(MerchantServerError):
        merchant.http.request("GET", "/things", operation="thing_get")
    merchant.http.request("GET", "/things", operation="thing_get")

    labels = {"merchant": merchant.id, "operation": "thing_get"}
    assert REGISTRY.get_sample_value("merchant_request_duration_seconds_count", labels) == 3
    assert REGISTRY.get_sample_value("merchant_requests_total", {**labels, "outcome": "server_error"}) == 2
    assert REGISTRY.get_sample_value("merchant_requests_total", {**labels, "outcome": "ok"}) == 1
    assert REGISTRY.get_sample_value("merchant_call_errors_total", {**labels, "error_class": "server_error"}) == 1
    assert REGISTRY.get_sample_value("merchant_retries_total", labels) == 1


def test_one_structured_log_line_per_request_without_secrets(scripted, configure_merchant, caplog):
    merchant = configure_merchant(scripted.url)
    scripted.then(Reply(502))

    with caplog.at_level(logging.INFO, logger="catalog_adapters.http"):
        merchant.http.request(
            "POST", "/x", operation="vault_delegate", operation_id="op", json_body={"card": "4242424242424242"}
        )

    lines = [record for record in caplog.records if record.name == "catalog_adapters.http"]
    assert [(line.attempt, line.status, line.error_class) for line in lines] == [
        (1, 502, "server_error"),
        (2, 200, None),
    ]
    for line in lines:
        assert (line.merchant, line.operation, line.method, line.path) == (merchant.id, "vault_delegate", "POST", "/x")
        assert isinstance(line.duration_ms, float)
        flat = repr(vars(line))
        assert "test-secret-token-value" not in flat and "4242424242424242" not in flat


def _session(session_id: str, status: str, order: dict | None = None) -> dict:
    body = {
        "id": session_id,
        "status": status,
        "currency": "usd",
        "line_items": [],
        "totals": [{"type": "total", "display_text": "Total", "amount": 7110}],
        "messages": [],
    }
    if order:
        body["order"] = order
    return body


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    from email.utils import formatdate

    assert retry_after_seconds("3") == 3.0
    assert 8 <= retry_after_seconds(formatdate(time.time() + 10, usegmt=True)) <= 10
    assert retry_after_seconds(formatdate(time.time() - 10, usegmt=True)) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_409_in_flight_exhausted_is_an_unknown_outcome_and_complete_resolves_it_by_reading(
    scripted, configure_merchant
):
    merchant = configure_merchant(scripted.url, max_attempts=2)
    path = "/checkout_sessions/cs_3/complete"
    in_flight = Reply(409, {"code": "idempotency_in_flight"}, {"Retry-After": "0.1"}, method="POST", path=path)
    scripted.then(
        in_flight,
        Reply(200, _session("cs_3", "completed", order={"id": "ord_3"}), method="GET", path="/checkout_sessions/cs_3"),
    )
    from catalog_adapters.contract import PaymentData

    result = merchant.checkout.complete(
        session_id="cs_3", payment=PaymentData(token="vt_3", handler_id="card_tokenized"), operation_id="flow-3"
    )

    assert result.order.id == "ord_3"
    assert [r.method for r in scripted.received] == ["POST", "GET"]

    scripted.then(in_flight, in_flight)
    with pytest.raises(MerchantClientError) as caught:
        merchant.http.request("POST", path, operation="checkout_complete", operation_id="flow-4", json_body={})
    assert caught.value.outcome_unknown and caught.value.attempts == 2


def test_complete_out_of_attempts_still_reads_before_reporting_an_unknown_outcome(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, read_timeout=0.3, max_attempts=1)
    path = "/checkout_sessions/cs_5/complete"
    scripted.then(
        Reply(200, {}, delay=0.8, method="POST", path=path),
        Reply(200, _session("cs_5", "completed", order={"id": "ord_5"}), method="GET", path="/checkout_sessions/cs_5"),
        Reply(200, {}, delay=0.8, method="POST", path=path),
        Reply(200, _session("cs_5", "ready_for_payment"), method="GET", path="/checkout_sessions/cs_5"),
    )
    from catalog_adapters.contract import PaymentData

    done = merchant.checkout.complete(
        session_id="cs_5", payment=PaymentData(token="vt_5", handler_id="card_tokenized"), operation_id="flow-5"
    )
    assert done.order.id == "ord_5"

    # when the read shows it not done and no attempt is left, the caller learns the outcome is unknown
    with pytest.raises(MerchantNetworkError) as caught:
        merchant.checkout.complete(
            session_id="cs_5", payment=PaymentData(token="vt_5", handler_id="card_tokenized"), operation_id="flow-6"
        )
    assert caught.value.outcome_unknown and caught.value.attempts == 1
    assert [r.method for r in scripted.received] == ["POST", "GET", "POST", "GET"]


def test_retry_later_tells_a_task_which_failures_are_worth_rescheduling(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, max_attempts=1)
    scripted.then(
        Reply(422, {"code": "idempotency_conflict"}),
        Reply(429, {"code": "rate_limited"}, {"Retry-After": "60"}),
        Reply(409, {"code": "idempotency_in_flight"}),
        Reply(503),
    )
    errors = []
    for _ in range(4):
        with pytest.raises((MerchantClientError, MerchantServerError)) as caught:
            merchant.http.request("POST", "/x", operation="checkout_update", operation_id="op", json_body={})
        errors.append(caught.value)

    assert [(error.status, error.retry_later) for error in errors] == [
        (422, False),
        (429, True),
        (409, True),
        (503, True),
    ]
