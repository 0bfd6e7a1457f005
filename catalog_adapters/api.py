"""HTTP endpoints of the merchant integration: the webhook receiver. Thin: parse, call one service, render."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from catalog_adapters.errors import UnknownMerchant, WebhookRejected
from catalog_adapters.services import SIGNATURE_HEADER, webhook_event_receive

logger = logging.getLogger("catalog_adapters.webhooks")


@csrf_exempt  # merchants authenticate with the HMAC signature, not a browser session
@require_POST
def merchant_webhook(request: HttpRequest, merchant_id: str) -> JsonResponse:
    try:
        event, created = webhook_event_receive(
            merchant_id=merchant_id, raw_body=request.body, signature_header=request.headers.get(SIGNATURE_HEADER)
        )
    except UnknownMerchant:
        return JsonResponse(
            {"error": {"code": "unknown_merchant", "message": f"no merchant {merchant_id!r}"}}, status=404
        )
    except WebhookRejected as rejected:
        logger.warning("merchant.webhook.rejected", extra={"merchant": merchant_id, "error_code": rejected.code})
        return JsonResponse({"error": {"code": rejected.code, "message": rejected.message}}, status=400)
    logger.info(
        "merchant.webhook.received",
        extra={
            "merchant": merchant_id,
            "event_type": event.event_type,
            "order_id": event.order_id,
            "duplicate": not created,
        },
    )
    return JsonResponse({"received": True, "duplicate": not created, "event_id": event.pk})
