"""The ACP client against the sandbox merchant, over real HTTP (pytest-django's live server).

Faults are switched on through the sandbox's own HTTP switchboard; what the sandbox received (trace
ids, idempotency keys, how many requests) is read from its `ReceivedRequest` records.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog_adapters.contract import (
    Allowance,
    CheckoutRequest,
    LineItemRequest,
    Money,
    PaymentData,
    SelectedFulfillmentOption,
)
from catalog_adapters.errors import (
    MerchantCircuitOpen,
    MerchantClientError,
    MerchantNetworkError,
    MerchantServerError,
)
from catalog_adapters.http import idempotency_key_for
from catalog_adapters.models import MerchantWebhookEvent
from config.tracing import trace_context
from tests.support.sandbox import ALICE, HOME

BLUE_RUNNER_42 = "var_blue_runner_42"


@pytest.fixture
def acp(sandbox_merchant, configure_merchant, settings):
    """Our client configured for the live sandbox, as any other merchant would be (tiny backoffs)."""
    sandbox_merchant.clear_faults()
    return configure_merchant(
        sandbox_merchant.base_url,
        token=sandbox_merchant.token,
        webhook_secret=settings.SANDBOX_MERCHANT_WEBHOOK_SECRET,
        read_timeout=10,
        breaker_threshold=20,
    )


def op() -> str:
    return f"op-{uuid.uuid4().hex}"


def ready_request(quantity: int = 1, codes: tuple[str, ...] | None = None) -> CheckoutRequest:
    return CheckoutRequest(
        line_items=(LineItemRequest(id=BLUE_RUNNER_42, quantity=quantity),),
        currency="usd",
        buyer=ALICE,
        fulfillment_details=HOME,
        selected_fulfillment_options=(SelectedFulfillmentOption(option_id="ship_standard"),),
        discount_codes=codes,
    )


def token_for(acp, session, vault_reference: str = "pm_alice_visa") -> str:
    allowance = Allowance(
        max_amount=session.total(),
        checkout_session_id=session.id,
        merchant_id="sandbox",
        expires_at=timezone.now() + timedelta(minutes=15),
    )
    return acp.vault.delegate(vault_reference=vault_reference, allowance=allowance, operation_id=op()).id


def creates(sandbox_merchant) -> list:
    """The create requests only (a chosen fulfillment option follows a create as an update)."""
    return [
        row
        for row in received(sandbox_merchant, "/checkout_sessions", "POST")
        if row.path.endswith("/checkout_sessions")
    ]


def received(sandbox_merchant, path_contains: str = "", method: str | None = None) -> list:
    rows = sandbox_merchant.received_requests(path_contains=path_contains)
    rows = [row for row in rows if "/sandbox/faults" not in row.path]
    return [row for row in rows if method is None or row.method == method]


# -- the capabilities ------------------------------------------------------------------------------


def test_catalog_search_product_and_saved_items(acp):
    products = acp.catalog.search_products(query="running shoes", colour="blue", size="42", limit=5)

    runner = next(product for product in products if product.id == "prod_blue_runner")
    assert runner.price.currency == "usd" and isinstance(runner.price.amount, int)
    assert any(variant.id == BLUE_RUNNER_42 and variant.size == "42" for variant in runner.variants)

    product = acp.catalog.get_product(product_id="prod_blue_runner")
    assert product.id == runner.id and len(product.variants) > 1

    liked = acp.catalog.list_saved_items(
        customer_id="cus_alice", kind="liked", since=timezone.now() - timedelta(days=7)
    )
    runner_like = next(item for item in liked if item.product_id == "prod_blue_runner")
    assert runner_like.variant_id == BLUE_RUNNER_42
    assert timedelta(days=5) < timezone.now() - runner_like.saved_at < timedelta(days=7)
    assert all(item.kind == "liked" for item in liked)


def test_checkout_create_update_get_complete_and_order_refund(acp, sandbox_merchant):
    session = acp.checkout.create(request=ready_request(codes=("SAVE10",)), operation_id=op())
    assert session.id.startswith("cs_") and session.status == "ready_for_payment"
    assert session.total().currency == "usd" and session.total().amount > 0
    assert {total.type for total in session.totals} >= {"subtotal", "tax", "total"}
    assert session.line_items[0].item_id == BLUE_RUNNER_42 and session.line_items[0].size == "42"

    express = acp.checkout.update(
        session_id=session.id,
        request=CheckoutRequest(selected_fulfillment_options=(SelectedFulfillmentOption(option_id="ship_express"),)),
        operation_id=op(),
    )
    assert express.total().amount > session.total().amount  # express always costs
    assert acp.checkout.get(session_id=session.id).total() == express.total()

    completed = acp.checkout.complete(
        session_id=session.id, payment=PaymentData(token=token_for(acp, express)), operation_id=op()
    )
    assert completed.status == "completed" and completed.order is not None

    order = acp.orders.get(order_id=completed.order.id)
    assert order.status == "confirmed" and order.checkout_session_id == session.id
    refunded = acp.orders.refund(order_id=order.id, amount=Money(500, "usd"), operation_id=op())
    assert refunded.status == "confirmed"  # rfc.orders: the refund is an adjustment, not an order status
    assert [(a.type, a.amount) for a in refunded.adjustments] == [("refund", Money(500, "usd"))]


def test_cancel_releases_the_session_and_an_unused_token_can_be_revoked(acp, sandbox_merchant):
    session = acp.checkout.create(request=ready_request(), operation_id=op())
    token = token_for(acp, session)
    held = sandbox_merchant.available(BLUE_RUNNER_42)

    canceled = acp.checkout.cancel(session_id=session.id, operation_id=op())
    revocation = acp.vault.revoke(token_id=token, operation_id=op())

    assert canceled.status == "canceled"
    assert sandbox_merchant.available(BLUE_RUNNER_42) == held + 1
    assert revocation.revoked is True


def test_business_problems_are_sessions_with_messages_not_exceptions(acp):
    session = acp.checkout.create(request=ready_request(), operation_id=op())

    declined = acp.checkout.complete(
        session_id=session.id,
        payment=PaymentData(token=token_for(acp, session, "pm_alice_decline")),
        operation_id=op(),
    )
    assert declined.status != "completed" and declined.has_message("payment_declined")

    asked = acp.checkout.complete(
        session_id=session.id, payment=PaymentData(token=token_for(acp, session, "pm_alice_3ds")), operation_id=op()
    )
    # ACP 2026-04-17: complete answers 400 requires_3ds; the client hands back the session it then reads.
    assert asked.status == "authentication_required" and asked.authentication_metadata is not None


def test_a_second_call_with_the_same_operation_id_is_replayed_not_repeated(acp, sandbox_merchant):
    operation_id = op()

    first = acp.checkout.create(request=ready_request(), operation_id=operation_id)
    again = acp.checkout.create(request=ready_request(), operation_id=operation_id)

    assert again.id == first.id
    posts = creates(sandbox_merchant)
    assert [row.replayed for row in posts] == [False, True]


def test_the_same_operation_id_with_a_different_body_is_a_client_error_not_retried(acp, sandbox_merchant):
    operation_id = op()
    acp.checkout.create(request=ready_request(quantity=1), operation_id=operation_id)

    with pytest.raises(MerchantClientError) as caught:
        acp.checkout.create(request=ready_request(quantity=2), operation_id=operation_id)

    assert (caught.value.status, caught.value.code, caught.value.attempts) == (422, "idempotency_conflict", 1)
    assert len(creates(sandbox_merchant)) == 2


# -- faults: error class and attempts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "error_class", "status"),
    [
        ("server_error", {}, MerchantServerError, 500),
        ("unavailable", {}, MerchantServerError, 503),
        ("rate_limited", {"delay_ms": 1000}, MerchantClientError, 429),
        ("timeout", {"delay_ms": 1500}, MerchantNetworkError, None),
    ],
)
def test_each_persistent_fault_maps_to_its_error_class_after_max_attempts(
    acp, sandbox_merchant, configure_merchant, kind, options, error_class, status
):
    session = acp.checkout.create(request=ready_request(), operation_id=op())
    client = configure_merchant(acp.config.base_url, token=acp.config.token, read_timeout=0.5, max_attempts=3)
    sandbox_merchant.add_fault(kind, operation="get", **options)

    with pytest.raises(error_class) as caught:
        client.checkout.get(session_id=session.id)

    assert caught.value.attempts == 3 and caught.value.status == status
    assert len(received(sandbox_merchant, f"/checkout_sessions/{session.id}", "GET")) == 3


def test_a_transient_5xx_is_retried_to_success_with_one_key_and_one_session(acp, sandbox_merchant):
    from sandbox_merchant.models import CheckoutSession

    sandbox_merchant.add_fault("server_error", operation="create", times=2)
    before = CheckoutSession.objects.count()
    operation_id = op()

    session = acp.checkout.create(request=ready_request(), operation_id=operation_id)

    posts = creates(sandbox_merchant)
    assert [row.status for row in posts] == [500, 500, 201]
    assert {row.idempotency_key for row in posts} == {idempotency_key_for(acp.id, "checkout_create", operation_id)}
    assert CheckoutSession.objects.count() == before + 1 and CheckoutSession.objects.filter(id=session.id).exists()


def test_a_429_with_retry_after_is_waited_out_and_retried(acp, sandbox_merchant):
    sandbox_merchant.add_fault("rate_limited", operation="create", times=1, delay_ms=1000)

    session = acp.checkout.create(request=ready_request(), operation_id=op())

    first, second = creates(sandbox_merchant)
    assert (first.status, second.status) == (429, 201) and session.status == "ready_for_payment"
    assert (second.received_at - first.received_at).total_seconds() >= 0.95
    assert first.idempotency_key == second.idempotency_key


def test_4xx_is_not_retried_and_never_trips_the_breaker(acp, sandbox_merchant, configure_merchant):
    client = configure_merchant(acp.config.base_url, token=acp.config.token, breaker_threshold=1)

    for _ in range(3):
        with pytest.raises(MerchantClientError) as caught:
            client.checkout.get(session_id="cs_does_not_exist")
        assert (caught.value.status, caught.value.attempts) == (404, 1)

    assert client.http.breaker.state() == "closed"
    assert len(received(sandbox_merchant, "/checkout_sessions/cs_does_not_exist")) == 3


def test_a_wrong_token_is_a_client_error_with_the_merchants_code(acp, configure_merchant):
    client = configure_merchant(acp.config.base_url, token="not-the-token")

    with pytest.raises(MerchantClientError) as caught:
        client.catalog.search_products(query="shoes")

    assert (caught.value.status, caught.value.code, caught.value.attempts) == (401, "unauthorized", 1)


# -- the breaker ---------------------------------------------------------------------------------------


def test_the_breaker_opens_fails_fast_without_reaching_the_sandbox_and_recovers(
    acp, sandbox_merchant, configure_merchant, wall_clock
):
    session = acp.checkout.create(request=ready_request(), operation_id=op())
    client = configure_merchant(
        acp.config.base_url, token=acp.config.token, breaker_threshold=2, breaker_cooldown=1.0, max_attempts=1
    )
    path = f"/checkout_sessions/{session.id}"
    sandbox_merchant.add_fault("server_error", operation="get")

    for _ in range(2):
        with pytest.raises(MerchantServerError):
            client.checkout.get(session_id=session.id)
    assert client.http.breaker.state() == "open"
    reached = len(received(sandbox_merchant, path, "GET"))

    # open: no request reaches the merchant, for reads and writes alike
    with pytest.raises(MerchantCircuitOpen):
        client.checkout.get(session_id=session.id)
    with pytest.raises(MerchantCircuitOpen):
        client.checkout.cancel(session_id=session.id, operation_id=op())
    assert len(received(sandbox_merchant, path, "GET")) == reached == 2
    assert received(sandbox_merchant, f"{path}/cancel") == []

    # the merchant recovers; after the cool-down one probe goes through and closes the breaker
    sandbox_merchant.clear_faults()
    wall_clock.advance(1.1)
    assert client.checkout.get(session_id=session.id).id == session.id
    assert client.http.breaker.state() == "closed"
    assert len(received(sandbox_merchant, path, "GET")) == 3


# -- the lost answer of complete ---------------------------------------------------------------------


def test_a_complete_whose_answer_is_lost_is_recovered_by_reading_not_by_a_second_order(
    acp, sandbox_merchant, configure_merchant
):
    from sandbox_merchant.models import Order

    session = acp.checkout.create(request=ready_request(), operation_id=op())
    token = token_for(acp, session)
    client = configure_merchant(acp.config.base_url, token=acp.config.token)
    sandbox_merchant.add_fault("timeout_after_commit", operation="complete", times=1, delay_ms=3000)

    # The handler negotiated from the session we hold: complete sends no read of its own before the POST.
    completed = client.checkout.complete(
        session_id=session.id,
        payment=PaymentData(token=token, handler_id=session.payment_handler.id),
        operation_id=op(),
        read_timeout=0.5,
    )

    assert completed.status == "completed" and completed.order is not None
    assert Order.objects.filter(session_id=session.id).count() == 1
    complete_posts = received(sandbox_merchant, f"/checkout_sessions/{session.id}/complete", "POST")
    assert len(complete_posts) == 1  # the read showed it done: nothing was resent
    reads = received(sandbox_merchant, f"/checkout_sessions/{session.id}", "GET")
    assert len(reads) == 1 and reads[0].received_at > complete_posts[0].received_at


def test_a_complete_timing_out_before_the_merchant_acts_is_resent_with_the_same_key(
    acp, sandbox_merchant, configure_merchant
):
    from sandbox_merchant.models import Order

    session = acp.checkout.create(request=ready_request(), operation_id=op())
    token = token_for(acp, session)
    # Enough attempts to outlast the first one, which answers 409 in flight until it finishes.
    client = configure_merchant(acp.config.base_url, token=acp.config.token, max_attempts=6)
    # The first attempt sleeps 1.5 s before acting; our 0.5 s read gives up while it is still running.
    sandbox_merchant.add_fault("timeout", operation="complete", times=1, delay_ms=1500)

    # The handler negotiated from the session we hold: complete sends no read of its own before the POST.
    completed = client.checkout.complete(
        session_id=session.id,
        payment=PaymentData(token=token, handler_id=session.payment_handler.id),
        operation_id=op(),
        read_timeout=0.5,
    )

    assert completed.status == "completed"
    assert Order.objects.filter(session_id=session.id).count() == 1
    posts = received(sandbox_merchant, f"/checkout_sessions/{session.id}/complete", "POST")
    assert len(posts) >= 2 and len({row.idempotency_key for row in posts}) == 1
    # nothing but the first attempt ran the completion: later ones were told "in flight" or got the replay
    assert all(row.status == 409 or row.replayed for row in posts[1:])


# -- every request carries the trace -----------------------------------------------------------------


def test_every_request_the_sandbox_received_carried_the_trace_id(acp, sandbox_merchant):
    sandbox_merchant.add_fault("server_error", operation="create", times=1)

    with trace_context("trace-merchant-e2e-0001") as trace_id:
        acp.catalog.search_products(query="running shoes")
        session = acp.checkout.create(request=ready_request(), operation_id=op())
        acp.checkout.update(
            session_id=session.id, request=CheckoutRequest(discount_codes=("SAVE10",)), operation_id=op()
        )
        session = acp.checkout.get(session_id=session.id)
        completed = acp.checkout.complete(
            session_id=session.id, payment=PaymentData(token=token_for(acp, session)), operation_id=op()
        )
        acp.orders.get(order_id=completed.order.id)

    rows = received(sandbox_merchant)
    assert len(rows) >= 8  # search, create twice (one 500), update, get, delegate, complete, order
    assert {row.trace_id for row in rows} == {trace_id}
    assert all(row.request_id for row in rows) and len({row.request_id for row in rows}) == len(rows)


# -- every request asks for the customer's language --------------------------------------------------


@pytest.mark.parametrize(("language_code", "asked"), [("en-us", "en-US"), ("fr-fr", "fr-FR")])
def test_every_request_asks_for_the_customers_language_and_the_session_says_which_it_got(
    acp, sandbox_merchant, settings, language_code, asked
):
    # given the language the assistant speaks to customers, and a shop that writes en-US and fr-FR
    settings.LANGUAGE_CODE = language_code
    settings.SANDBOX_MERCHANT_LOCALES = ["en-US", "fr-FR"]

    # when a whole checkout goes over the wire
    session = acp.checkout.create(request=ready_request(), operation_id=op())
    acp.checkout.update(session_id=session.id, request=CheckoutRequest(discount_codes=("SAVE10",)), operation_id=op())
    session = acp.checkout.get(session_id=session.id)
    completed = acp.checkout.complete(
        session_id=session.id, payment=PaymentData(token=token_for(acp, session)), operation_id=op()
    )
    other = acp.checkout.create(request=ready_request(), operation_id=op())
    canceled = acp.checkout.cancel(session_id=other.id, operation_id=op())

    # then each request carried Accept-Language as a BCP 47 tag, and each session answered in that locale
    rows = received(sandbox_merchant)
    # (complete reads the session first to negotiate its handler)
    assert [row.operation for row in rows] == ["create", "update", "get", "delegate_payment", "get", "complete",
                                               "create", "cancel"]  # fmt: skip
    assert {row.accept_language for row in rows} == {asked}
    assert {session.locale, completed.locale, canceled.locale} == {asked}


# -- a real webhook from the sandbox -----------------------------------------------------------------


def test_a_real_signed_webhook_from_the_sandbox_is_accepted_and_recorded_once(
    acp, sandbox_merchant, live_server, settings
):
    settings.SANDBOX_MERCHANT_WEBHOOK_URL = f"{live_server.url}/webhooks/merchants/{acp.id}/"
    session = acp.checkout.create(request=ready_request(), operation_id=op())
    completed = acp.checkout.complete(
        session_id=session.id, payment=PaymentData(token=token_for(acp, session)), operation_id=op()
    )
    acp.orders.refund(order_id=completed.order.id, amount=Money(100, "usd"), operation_id=op())

    assert sandbox_merchant.deliver_pending_webhooks() >= 2

    events = list(MerchantWebhookEvent.objects.filter(merchant_id=acp.id, order_id=completed.order.id))
    assert sorted(event.event_type for event in events) == ["order_create", "order_update"]
    update = next(event for event in events if event.event_type == "order_update")
    assert update.order_status == update.payload["data"]["status"] and update.order_status
    assert all(event.deliveries == 1 for event in events)

    # when: the sandbox delivers the same event again (as after a lost 200), freshly signed
    from sandbox_merchant.models import WebhookDelivery, WebhookStatus

    delivery = WebhookDelivery.objects.get(order_id=completed.order.id, event_type="order_update")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookStatus.PENDING)  # test set-up only
    assert sandbox_merchant.deliver_pending_webhooks() == 1

    # then: accepted (the same bytes: deduplicated by their SHA-256), and still one event
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == WebhookStatus.DELIVERED
    events = MerchantWebhookEvent.objects.filter(merchant_id=acp.id, order_id=completed.order.id)
    assert events.count() == 2 and events.get(pk=update.pk).deliveries == 2


def test_the_default_sandbox_merchant_settings_work_against_the_sandbox_end_to_end(
    sandbox_merchant, live_server, settings
):
    from catalog_adapters.registry import get_merchant

    # given: the shipped `sandbox` merchant settings, only pointed at this test's live server
    settings.MERCHANTS = {**settings.MERCHANTS, "sandbox": {**settings.MERCHANTS["sandbox"]}}
    settings.MERCHANTS["sandbox"]["BASE_URL"] = sandbox_merchant.base_url
    settings.SANDBOX_MERCHANT_WEBHOOK_URL = f"{live_server.url}/webhooks/merchants/sandbox/"
    sandbox_merchant.clear_faults()
    merchant = get_merchant()
    merchant.http.breaker.reset()
    try:
        # when: an order is placed with its token, API version and payment handler
        assert merchant.id == "sandbox"
        session = merchant.checkout.create(request=ready_request(), operation_id=op())
        completed = merchant.checkout.complete(
            session_id=session.id, payment=PaymentData(token=token_for(merchant, session)), operation_id=op()
        )
        sandbox_merchant.deliver_pending_webhooks()
    finally:
        merchant.http.breaker.reset()

    # then: it completes, and the sandbox's webhook verifies with the default secret
    assert completed.status == "completed"
    assert MerchantWebhookEvent.objects.filter(merchant_id="sandbox", order_id=completed.order.id).exists()


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("decline", "ready_for_payment", "payment_declined"),
        ("requires_3ds", "authentication_required", None),
        ("out_of_stock_at_complete", "not_ready_for_payment", "out_of_stock"),
        ("price_change", "ready_for_payment", "price_change"),
    ],
)
def test_business_faults_at_complete_come_back_as_session_state_in_one_attempt(
    acp, sandbox_merchant, kind, status, message
):
    from sandbox_merchant.models import Order

    session = acp.checkout.create(request=ready_request(), operation_id=op())
    token = token_for(acp, session)
    sandbox_merchant.add_fault(kind, operation="complete", times=1)

    result = acp.checkout.complete(session_id=session.id, payment=PaymentData(token=token), operation_id=op())

    assert result.status == status and result.order is None
    if message is None:  # requires_3ds: a 400, then the session with the metadata the challenge needs
        assert result.authentication_metadata is not None
    else:
        assert result.has_message(message)
    assert not Order.objects.filter(session_id=session.id).exists()
    assert len(received(sandbox_merchant, f"/checkout_sessions/{session.id}/complete", "POST")) == 1


def test_3ds_then_an_authentication_result_the_issuer_did_not_give_is_refused(acp, sandbox_merchant):
    # The paying path (a real challenge, then its result) is tests/ordering/test_payment_verification.py.
    session = acp.checkout.create(request=ready_request(), operation_id=op())
    token = token_for(acp, session, "pm_alice_3ds")

    asked = acp.checkout.complete(session_id=session.id, payment=PaymentData(token=token), operation_id=op())
    refused = acp.checkout.complete(
        session_id=session.id,
        payment=PaymentData(token=token),
        operation_id=op(),  # a new logical call: its body differs (the authentication result)
        authentication_result={
            "outcome": "authenticated",
            "outcome_details": {
                "three_ds_cryptogram": "AQIDBAUGBwgJCgsMDQ4PEBESExQ=",
                "electronic_commerce_indicator": "05",
                "transaction_id": "ds-trans-never-issued",
                "version": "2.2.0",
            },
        },
    )

    assert asked.status == "authentication_required" and asked.authentication_metadata is not None
    assert refused.status != "completed" and refused.order is None and refused.has_message("payment_declined")


def test_a_slow_answer_within_the_read_timeout_is_one_attempt(acp, sandbox_merchant):
    sandbox_merchant.add_fault("slow", operation="search", times=1, delay_ms=300)

    products = acp.catalog.search_products(query="running shoes")

    assert products and len(received(sandbox_merchant, "/products", "GET")) == 1


def test_a_create_whose_answer_is_lost_yields_the_one_session_it_made(acp, sandbox_merchant, configure_merchant):
    from sandbox_merchant.models import CheckoutSession

    client = configure_merchant(acp.config.base_url, token=acp.config.token, read_timeout=0.5, max_attempts=6)
    sandbox_merchant.add_fault("timeout_after_commit", operation="create", times=1, delay_ms=1500)
    before = CheckoutSession.objects.count()

    session = client.checkout.create(request=ready_request(), operation_id=op())

    assert CheckoutSession.objects.count() == before + 1 and CheckoutSession.objects.filter(id=session.id).exists()
    posts = creates(sandbox_merchant)
    assert len({row.idempotency_key for row in posts}) == 1 and posts[-1].replayed
