"""Optional request signing (ACP `Signature` + `Timestamp` headers), on when SANDBOX_MERCHANT_SIGNING_KEYS is set.

The form is the one our webhooks use, applied to requests:

    Timestamp: <RFC 3339 date-time, e.g. 2026-04-17T10:30:00Z>
    Signature: base64url( HMAC-SHA256(key, "<Timestamp header value>." + raw request body) )

(padding optional; lower-case hex of the same HMAC is accepted too). A GET signs the empty body. Any of
the configured keys may verify (rotation). The Timestamp must be within SIGNATURE_TOLERANCE_SECONDS of
the sandbox's clock either way. Unset keys: the headers are not required and not checked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from django.conf import settings
from django.http import HttpRequest
from django.utils.dateparse import parse_datetime

from sandbox_merchant.errors import SignatureInvalid

SIGNATURE_TOLERANCE_SECONDS = 300


def signing_keys() -> list[str]:
    return [key for key in getattr(settings, "SANDBOX_MERCHANT_SIGNING_KEYS", None) or [] if key]


def request_signature(*, key: str, timestamp: str, raw_body: bytes) -> str:
    """What a client puts in `Signature` (base64url, no padding)."""
    digest = hmac.new(key.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def request_signature_verify(request: HttpRequest, *, now: float | None = None) -> None:
    keys = signing_keys()
    if not keys:
        return
    signature = request.headers.get("Signature", "").strip()
    timestamp = request.headers.get("Timestamp", "").strip()
    if not signature or not timestamp:
        raise SignatureInvalid("Signature and Timestamp headers are required.", param="Signature")
    try:
        moment = parse_datetime(timestamp)
    except ValueError:  # well-formed but impossible: month 13, an offset of 99 hours
        moment = None
    if moment is None or moment.tzinfo is None:
        raise SignatureInvalid("Timestamp must be an RFC 3339 date-time with a time zone.", param="Timestamp")
    body = request.body or b""
    candidates = []
    for key in keys:
        digest = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).digest()
        candidates += [base64.urlsafe_b64encode(digest).decode().rstrip("="), digest.hex()]
    given = signature.rstrip("=")
    if not any(hmac.compare_digest(given.encode(), candidate.encode()) for candidate in candidates):
        raise SignatureInvalid(param="Signature")
    now = time.time() if now is None else now
    if abs(now - moment.timestamp()) > SIGNATURE_TOLERANCE_SECONDS:
        raise SignatureInvalid("Timestamp outside the allowed window.", param="Timestamp")
