"""Merchant order webhooks in the official ACP 2026-04-17 shape, signed as a merchant signs them, and
placed orders for them to act on (a flow, its conversation and a real spend ledger: reserved and
committed through the consent services, as the saga does)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
from django.utils import timezone

from consent.services.ledger import spend_commit, spend_reserve
from ordering.models import ConfirmationChannel, FlowStatus, OrderFlow
from ordering.saga.base import spend_reference
from ordering.services import conversation_start
from tests.consent.factories import UserFactory
from tests.merchant_client.conftest import configure_merchant  # noqa: F401  (a fixture)
from tests.support.acp_schema import assert_valid

SECRET = "whsec-webhooks-test"
CEILINGS = {"per_order": 50_000, "per_day": 100_000, "per_month": 300_000, "per_session": 50_000}


@pytest.fixture(autouse=True)
def consent_settings(settings):
    settings.CONSENT_CURRENCY = "USD"
    settings.CONSENT_CAP_CEILINGS = dict(CEILINGS)
    settings.CONSENT_RESERVATION_TTL_SECONDS = 1800
    return settings


@pytest.fixture
def merchant_id(configure_merchant):  # noqa: F811
    return configure_merchant("http://127.0.0.1:9", webhook_secret=SECRET).id


def sign(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver(client, merchant_id: str, body: bytes | dict, *, signature: str | None = "SIGN", request_id: str = ""):
    """POST one delivery as a merchant does; `signature="SIGN"` signs it with the merchant's secret now."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {}
    if signature == "SIGN":
        signature = sign(raw)
    if signature is not None:
        headers["Merchant-Signature"] = signature
    if request_id:
        headers["Request-Id"] = request_id
    return client.post(f"/webhooks/merchants/{merchant_id}/", raw, content_type="application/json", headers=headers)


def adjustment(adjustment_id: str, amount: int, *, type_: str = "refund", status: str = "completed") -> dict:
    return {
        "id": adjustment_id,
        "type": type_,
        "occurred_at": "2026-12-02T10:00:00Z",
        "status": status,
        "amount": amount,
        "currency": "usd",
        "reason": "customer_request",
    }


def order_event(
    order_id: str,
    *,
    total: int = 5000,
    status: str = "confirmed",
    adjustments: tuple[dict, ...] = (),
    refunded: int = 0,
    event_type: str = "order_update",
    checkout_session_id: str = "cs_webhooks",
) -> dict[str, Any]:
    """An official WebhookEvent {type, data: Order}; checked against the spec's schema before it is sent."""
    totals = [
        {"type": "subtotal", "display_text": "Subtotal", "amount": total},
        {"type": "total", "display_text": "Total", "amount": total},
    ]
    if refunded:
        totals.append({"type": "amount_refunded", "display_text": "Refunded", "amount": refunded})
    event = {
        "type": event_type,
        "data": {
            "type": "order",
            "id": order_id,
            "checkout_session_id": checkout_session_id,
            "permalink_url": f"https://shop.example/orders/{order_id}",
            "order_number": f"N-{order_id}",
            "status": status,
            "line_items": [
                {
                    "id": "li_1",
                    "title": "Blue Runner",
                    "quantity": {"ordered": 1, "current": 1, "fulfilled": 0},
                    "unit_price": total,
                    "subtotal": total,
                }
            ],
            "adjustments": list(adjustments),
            "totals": totals,
        },
    }
    assert_valid(event, "WebhookEvent")
    return event


@pytest.fixture
def customer(db):
    return UserFactory(username=f"shopper{uuid.uuid4().hex[:6]}")


@pytest.fixture
def place(customer, merchant_id):
    """`place(total=5000, order_id=None, user=None)`: a PLACED flow whose charge is committed in the ledger."""

    def placed(*, total: int = 5000, order_id: str | None = None, user=None, session_id: str = "") -> OrderFlow:
        user = user or customer
        conversation = conversation_start(customer_id=user.pk)
        now = timezone.now()
        flow = OrderFlow.objects.create(
            customer=user,
            conversation=conversation,
            merchant_id=merchant_id,
            checkout_session_id=session_id or f"cs_{uuid.uuid4().hex[:10]}",
            status=FlowStatus.PLACED,
            currency="usd",
            total_amount=total,
            preview={"lines": [{"title": "Blue Runner", "quantity": 1, "variant": "blue, 42"}]},
            confirmations=1,
            confirmed_at=now,
            confirmed_via=ConfirmationChannel.BUTTON,
            merchant_order_id=order_id or f"ord_{uuid.uuid4().hex[:10]}",
            placed_at=now,
        )
        spend_reserve(
            user_id=user.pk,
            amount=total,
            currency="usd",
            flow_reference=spend_reference(flow),
            chat_session_reference=str(conversation.pk),
        )
        spend_commit(flow_reference=spend_reference(flow), amount=total)
        return flow

    return placed


@pytest.fixture
def send(client, merchant_id, eager_tasks, django_capture_on_commit_callbacks):
    """`send(event, **deliver_kwargs)`: deliver to the configured merchant's receiver and run what its commit
    enqueues (the hook, then the apply task, in-process), as the web process and a worker would."""

    def post(body, merchant: str | None = None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(client, merchant or merchant_id, body, **kwargs)

    return post
