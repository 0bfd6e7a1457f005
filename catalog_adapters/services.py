"""The merchant integration's writes. Every change of state goes through a function here."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from catalog_adapters.errors import WebhookRejected
from catalog_adapters.models import MerchantWebhookEvent
from catalog_adapters.registry import get_merchant, get_merchant_config
from config.tracing import get_trace_id

SIGNATURE_HEADER = "Merchant-Signature"


def webhook_signature_verify(
    *, secret: str, signature_header: str | None, raw_body: bytes, now: float | None = None, tolerance: int
) -> int:
    """Check `t=<unix>,v1=<hex>` (HMAC-SHA256 of f"{t}.{raw_body}"); return t, or raise WebhookRejected."""
    if not secret:
        raise WebhookRejected("webhook_secret_missing", "no webhook secret is configured for this merchant")
    if not signature_header:
        raise WebhookRejected("signature_missing", f"the {SIGNATURE_HEADER} header is missing")
    timestamp_text = None
    candidates = []
    for part in signature_header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp_text = value
        elif key == "v1" and value:
            candidates.append(value)  # several v1 values let a merchant rotate its secret
    if timestamp_text is None or not candidates:
        raise WebhookRejected("signature_malformed", f"{SIGNATURE_HEADER} must be t=<unix>,v1=<hex>")
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookRejected("signature_malformed", "the signature timestamp is not an integer") from None
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise WebhookRejected("signature_invalid", "the signature does not match the body")
    # Checked after the HMAC so an attacker learns nothing about our clock from unsigned garbage;
    # a valid but old signature is a replay, refused both ways round to bound clock skew.
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise WebhookRejected("signature_stale", f"the signature timestamp is more than {tolerance}s from now")
    return timestamp


def webhook_event_receive(
    *, merchant_id: str, raw_body: bytes, signature_header: str | None, now: float | None = None
) -> tuple[MerchantWebhookEvent, bool]:
    """Verify and store one delivery; (event, created). A repeated delivery is counted, not stored again.

    Raises UnknownMerchant for an unconfigured merchant and WebhookRejected for a bad signature or body.
    """
    config = get_merchant_config(merchant_id)
    signed_at = webhook_signature_verify(
        secret=config.webhook_secret,
        signature_header=signature_header,
        raw_body=raw_body,
        now=now,
        tolerance=settings.MERCHANT_WEBHOOK_TOLERANCE_SECONDS,
    )
    try:
        payload = json.loads(raw_body)
    except ValueError:
        raise WebhookRejected("payload_invalid", "the body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise WebhookRejected("payload_invalid", "the body must be a JSON object with a type")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    event_id = payload.get("id") if isinstance(payload.get("id"), str) else None
    dedupe_key = event_id or hashlib.sha256(raw_body).hexdigest()
    try:
        with transaction.atomic():
            event = MerchantWebhookEvent.objects.create(
                merchant_id=merchant_id,
                dedupe_key=dedupe_key[:128],
                event_type=payload["type"][:64],
                order_id=str(data.get("id") or "")[:128],
                order_status=str(data.get("status") or "")[:64],
                payload=payload,
                signed_at=datetime.fromtimestamp(signed_at, tz=UTC),
                trace_id=get_trace_id() or "",
            )
        return event, True
    except IntegrityError:
        event = MerchantWebhookEvent.objects.get(merchant_id=merchant_id, dedupe_key=dedupe_key[:128])
        MerchantWebhookEvent.objects.filter(pk=event.pk).update(deliveries=F("deliveries") + 1)
        event.refresh_from_db(fields=["deliveries"])
        return event, False


def merchant_circuit_reset(*, merchant_id: str) -> None:
    """Close a merchant's breaker and forget its failure count (staff action after a known fix)."""
    get_merchant(merchant_id).http.breaker.reset()
