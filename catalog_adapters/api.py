"""HTTP endpoints of the merchant integration: the webhook receiver. Thin: parse, call one service, render.

The answers are the ACP 2026-04-17 webhook API's (openapi.agentic_checkout_webhook.yaml): 200
`{"received": true, "request_id"?}`, and the flat Error `{type, code, message}` otherwise: 401
`invalid_signature` for any signature problem, 400 for a body that is not an event, 404 for a
merchant we do not know, and 413 `request_too_large` for a body over DATA_UPLOAD_MAX_MEMORY_SIZE (refused
before it is read, as every API endpoint does in config.error_views.RequestSizeLimitMiddleware, but in
the spec's Error shape: the webhooks live outside /api/).
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from catalog_adapters.errors import UnknownMerchant, WebhookRejected
from catalog_adapters.services import SIGNATURE_HEADER, webhook_event_receive
from config.api import RequestTooLarge

logger = logging.getLogger("catalog_adapters.webhooks")

REQUEST_ID_HEADER = "Request-Id"


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"type": "invalid_request", "code": code, "message": message}, status=status)


@csrf_exempt  # merchants authenticate with the HMAC signature, not a browser session
@require_POST
def merchant_webhook(request: HttpRequest, merchant_id: str) -> JsonResponse:
    request_id = (request.headers.get(REQUEST_ID_HEADER) or "").strip()
    try:
        raw_body = request.body  # Django refuses a declared length over the limit before reading anything
    except RequestDataTooBig:
        logger.warning(
            "merchant.webhook.rejected",
            extra={"merchant": merchant_id, "error_code": "body_too_large", "request_id": request_id[:128]},
        )
        return _error(413, "request_too_large", str(RequestTooLarge().detail))
    try:
        event, created = webhook_event_receive(
            merchant_id=merchant_id,
            raw_body=raw_body,
            signature_header=request.headers.get(SIGNATURE_HEADER),
            request_id=request_id,
        )
    except UnknownMerchant:
        return _error(404, "unknown_merchant", f"No merchant {merchant_id!r} is configured here.")
    except WebhookRejected as rejected:
        logger.warning(
            "merchant.webhook.rejected",
            extra={"merchant": merchant_id, "error_code": rejected.code, "request_id": request_id[:128]},
        )
        return _error(rejected.status, rejected.wire_code, rejected.message)
    logger.info(
        "merchant.webhook.received",
        extra={
            "merchant": merchant_id,
            "event_type": event.event_type,
            "order_id": event.order_id,
            "duplicate": not created,
            "request_id": request_id[:128],
        },
    )
    body: dict[str, object] = {"received": True}
    if request_id:
        body["request_id"] = request_id
    return JsonResponse(body)
