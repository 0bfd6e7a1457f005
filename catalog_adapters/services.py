"""The merchant integration's writes. Every change of state goes through a function here."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs pinned in requirements.txt
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


# The v1 of `Merchant-Signature: t=<unix_seconds>,v1=<64_hex>` (openapi.agentic_checkout_webhook.yaml).
_SIGNATURE_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


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
        elif key == "v1" and _SIGNATURE_DIGEST.fullmatch(value):
            # Several v1 values let a merchant rotate its secret. Only a 64-hex digest is one (the spec's pattern):
            # anything else, a non-ASCII byte included, is no candidate, so it is "malformed", never a 500.
            candidates.append(value)
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


# Real events are a few levels deep (event > Order > fulfillments > events > ...). Deeper bodies are refused before
# parsing: Python's JSON parser recurses once per level and fails with a RecursionError (a 500) near ~1000.
MAX_EVENT_DEPTH = 32
ORDER_EVENT_TYPES = ("order_create", "order_update")
# A JSON string (to its end when it is never closed), and whatever is not a bracket.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _json_path(path: Iterable[str | int]) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _nesting_depth(text: str) -> int:
    """How many objects/arrays the JSON text opens inside each other, brackets inside strings not counted."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _storable_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _unstorable_value(value: Any, path: tuple[str | int, ...] = ()) -> str | None:
    """What PostgreSQL could not store, and where, for the merchant to read; None when all is storable.

    A lone surrogate (`\\ud800`) and NUL (`\\u0000`) are valid JSON escapes but not text (no UTF-8 for the one,
    no place in PostgreSQL text for the other), and 1e999 parses to infinity, which JSON cannot write back.
    Recursive: call it only on a payload whose depth is bounded."""
    if isinstance(value, str) and not _storable_text(value):
        return f"{_json_path(path)} is not text: a lone surrogate or a NUL character."
    if isinstance(value, float) and not math.isfinite(value):
        return f"{_json_path(path)} is not a finite number."
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in children:
        if isinstance(key, str) and not _storable_text(key):
            return f"A key in {_json_path(path)} is not text: a lone surrogate or a NUL character."
        problem = _unstorable_value(item, (*path, key))
        if problem is not None:
            return problem
    return None


def _opened(schema: Any) -> Any:
    """The schema read leniently: unknown fields allowed (`additionalProperties: false` dropped) and enums open.

    The ACP Orders RFC makes every order status and type an open enum ("Implementations MUST accept unrecognized
    values gracefully"), and a merchant on a later spec may send fields this one does not know."""
    if isinstance(schema, list):
        return [_opened(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    opened = {}
    for key, value in schema.items():
        if key == "enum" or (key == "additionalProperties" and value is False):
            continue
        if key == "properties":
            opened[key] = {name: _opened(field) for name, field in value.items()}
        else:
            opened[key] = _opened(value)
    return opened


@cache
def _event_data_validator() -> jsonschema.Draft202012Validator:
    """The webhook OpenAPI's EventDataOrder, read leniently (`_opened`): the checkout spec's Order with type,
    checkout_session_id, permalink_url and status required. Not the Order's own `id`: the spec's example events
    carry none (ordering then finds the order by its checkout_session_id)."""
    # The official JSON schema as vendored with the sandbox merchant (Apache-2.0, see its NOTICE): read as a file,
    # not imported, so the receiver checks the same definitions with the sandbox app switched off.
    schema_path = Path(settings.BASE_DIR) / "sandbox_merchant" / "spec" / "schema.agentic_checkout.json"
    schema = json.loads(schema_path.read_text())
    definitions = _opened(schema["$defs"])
    event_data = {**definitions["Order"], "required": ["type", "checkout_session_id", "permalink_url", "status"]}
    return jsonschema.Draft202012Validator({"$schema": schema["$schema"], "$defs": definitions, **event_data})


def _event_data_problem(data: dict[str, Any]) -> str | None:
    """How an order event's `data` breaks EventDataOrder, for the merchant to read; None when it conforms."""
    errors = list(_event_data_validator().iter_errors(data))
    error = jsonschema.exceptions.best_match(errors)
    if error is None:
        return None
    path = _json_path(["data", *error.absolute_path])
    if error.validator == "required" and isinstance(error.instance, dict):
        # jsonschema reports each missing field on its own: name them all at once
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"{path} lacks {', '.join(missing)}, required in an order event's data (the ACP Order)."
    return f"{path}: {error.message[:200]}"


def _event_payload(raw_body: bytes) -> dict[str, Any]:
    """The WebhookEvent `{type, data: Order}`, read leniently: unknown types and Order fields are kept.

    An order event's `data` must be the spec's EventDataOrder; an event of a type we do not know is kept
    whatever its `data` object holds (the spec says to accept unrecognized types gracefully)."""
    try:
        text = raw_body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WebhookPayloadInvalid("payload_invalid", "The body is not UTF-8 JSON.") from None
    if _nesting_depth(text) > MAX_EVENT_DEPTH:
        raise WebhookPayloadInvalid(
            "payload_invalid", f"The body nests objects or arrays more than {MAX_EVENT_DEPTH} levels deep."
        )
    try:
        payload = json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        raise WebhookPayloadInvalid("payload_invalid", "The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise WebhookPayloadInvalid("payload_invalid", "The body must be a JSON object {type, data}.")
    unstorable = _unstorable_value(payload)
    if unstorable is not None:
        raise WebhookPayloadInvalid("payload_invalid", unstorable)
    if not isinstance(payload.get("type"), str) or not payload["type"]:
        raise WebhookPayloadInvalid("payload_invalid", "The event needs a string `type`.")
    if not isinstance(payload.get("data"), dict):
        raise WebhookPayloadInvalid("payload_invalid", "The event needs `data`, the Order object.")
    if payload["type"] in ORDER_EVENT_TYPES:
        problem = _event_data_problem(payload["data"])
        if problem is not None:
            raise WebhookPayloadInvalid("payload_invalid", problem)
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
