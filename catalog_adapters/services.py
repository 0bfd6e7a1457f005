"""The merchant integration's writes. Every change of state goes through a function here."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog_adapters import hooks
from catalog_adapters.errors import WebhookPayloadInvalid, WebhookSignatureInvalid
from catalog_adapters.models import MerchantWebhookEvent, WebhookOutcome
from catalog_adapters.registry import get_merchant, get_merchant_config
from config.tracing import get_trace_id

SIGNATURE_HEADER = "Merchant-Signature"


def webhook_signature_verify(
    *, secret: str, signature_header: str | None, raw_body: bytes, now: float | None = None, tolerance: int
) -> int:
    """Check `t=<unix>,v1=<hex>` (HMAC-SHA256 of f"{t}.{raw_body}"); return t, or raise WebhookSignatureInvalid."""
    if not secret:
        raise WebhookSignatureInvalid("webhook_secret_missing", "No webhook secret is configured for this merchant.")
    if not signature_header:
        raise WebhookSignatureInvalid("signature_missing", f"Missing {SIGNATURE_HEADER} header.")
    timestamp_text = None
    candidates = []
    for part in signature_header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp_text = value
        elif key == "v1" and value:
            candidates.append(value)  # several v1 values let a merchant rotate its secret
    if timestamp_text is None or not candidates:
        raise WebhookSignatureInvalid("signature_malformed", f"{SIGNATURE_HEADER} must be t=<timestamp>,v1=<64_hex>.")
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookSignatureInvalid(
            "signature_malformed", f"{SIGNATURE_HEADER} must be t=<timestamp>,v1=<64_hex>."
        ) from None
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate.lower()) for candidate in candidates):
        raise WebhookSignatureInvalid("signature_invalid", "Webhook signature verification failed.")
    # Checked after the HMAC so an attacker learns nothing about our clock from unsigned garbage;
    # a valid but old signature is a replay, refused both ways round to bound clock skew.
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise WebhookSignatureInvalid("signature_stale", f"Timestamp outside allowed window ({tolerance}s).")
    return timestamp


def _event_payload(raw_body: bytes) -> dict[str, Any]:
    """The WebhookEvent `{type, data: Order}`, read leniently: unknown types and Order fields are kept."""
    try:
        payload = json.loads(raw_body)
    except ValueError:
        raise WebhookPayloadInvalid("payload_invalid", "The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise WebhookPayloadInvalid("payload_invalid", "The body must be a JSON object {type, data}.")
    if not isinstance(payload.get("type"), str) or not payload["type"]:
        raise WebhookPayloadInvalid("payload_invalid", "The event needs a string `type`.")
    if not isinstance(payload.get("data"), dict):
        raise WebhookPayloadInvalid("payload_invalid", "The event needs `data`, the Order object.")
    return payload


def webhook_event_receive(
    *,
    merchant_id: str,
    raw_body: bytes,
    signature_header: str | None,
    request_id: str = "",
    now: float | None = None,
) -> tuple[MerchantWebhookEvent, bool]:
    """Verify and store one delivery; (event, created). A repeated delivery is counted, not stored again.

    Once stored, and again on a repeated delivery while nobody has handled it yet, the event is
    announced (`hooks.merchant_order_event`, after commit): ordering applies it to the customer's
    order. Raises UnknownMerchant for an unconfigured merchant and WebhookRejected (401 signature,
    400 body) otherwise; nothing is stored then.
    """
    config = get_merchant_config(merchant_id)
    signed_at = webhook_signature_verify(
        secret=config.webhook_secret,
        signature_header=signature_header,
        raw_body=raw_body,
        now=now,
        tolerance=settings.MERCHANT_WEBHOOK_TOLERANCE_SECONDS,
    )
    payload = _event_payload(raw_body)
    data = payload["data"]
    dedupe_key = hashlib.sha256(raw_body).hexdigest()
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = MerchantWebhookEvent.objects.create(
                    merchant_id=merchant_id,
                    dedupe_key=dedupe_key,
                    event_type=payload["type"][:64],
                    order_id=str(data.get("id") or "")[:128],
                    order_status=str(data.get("status") or "")[:64],
                    payload=payload,
                    signed_at=datetime.fromtimestamp(signed_at, tz=UTC),
                    trace_id=get_trace_id() or "",
                    request_id=request_id[:128],
                )
            created = True
        except IntegrityError:
            event = MerchantWebhookEvent.objects.get(merchant_id=merchant_id, dedupe_key=dedupe_key)
            MerchantWebhookEvent.objects.filter(pk=event.pk).update(deliveries=F("deliveries") + 1)
            event.refresh_from_db(fields=["deliveries", "processed_at"])
            created = False
        if event.processed_at is None:
            hooks.merchant_order_event.send_on_commit(
                hooks.MerchantOrderEvent(
                    event_id=event.pk,
                    merchant_id=merchant_id,
                    event_type=event.event_type,
                    order_id=event.order_id,
                    trace_id=event.trace_id,
                )
            )
    return event, created


def webhook_event_mark_processed(*, event: MerchantWebhookEvent, outcome: WebhookOutcome | str) -> None:
    """Record how an event was handled. The caller holds the event's row lock (select_for_update)."""
    event.processed_at = timezone.now()
    event.outcome = outcome
    event.save(update_fields=["processed_at", "outcome"])


def merchant_circuit_reset(*, merchant_id: str) -> None:
    """Close a merchant's breaker and forget its failure count (staff action after a known fix)."""
    get_merchant(merchant_id).http.breaker.reset()
