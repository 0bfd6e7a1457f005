"""Browser pages of the ordering app (the JSON API is in api.py): the 3-D Secure verification round trip.

The chat's link leads to `payment_verification_start`: a page showing the order, whose button (a
CSRF-checked POST) opens the challenge and sends the customer on to their bank's page; the bank
sends them back to `payment_verification_done` with the merchant's signed result. Both need the
signed-in owner of the order (another customer's order is "not found"). Each answers a small page in
words; a refused result changes nothing and says why, with its 4xx status.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import Origin
from catalog_adapters.errors import MerchantError
from consent.formatting import format_money
from ordering.errors import (
    FlowNotConfirmable,
    FlowNotFound,
    PaymentChallengeLimit,
    PaymentChallengeRefused,
    PaymentChallengeUsed,
)
from ordering.payment_verification import (
    flow_payment_challenge_finish,
    flow_payment_challenge_offer,
    flow_payment_challenge_start,
)

_STATUS = {
    FlowNotFound: 404,
    PaymentChallengeRefused: 400,
    PaymentChallengeUsed: 409,
    FlowNotConfirmable: 409,
    PaymentChallengeLimit: 429,
}


def _page(request: HttpRequest, *, title: str, text: str, status: int = 200) -> HttpResponse:
    return render(request, "ordering/payment_verification.html", {"heading": title, "text": text}, status=status)


def _refused(request: HttpRequest, error: Exception) -> HttpResponse:
    status = next((code for kind, code in _STATUS.items() if isinstance(error, kind)), 400)
    return _page(request, title="Payment not verified", text=getattr(error, "message", str(error)), status=status)


def _merchant_down(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        title="Your bank is not answering",
        text="The verification could not be reached just now. Nothing was charged; try the link again in a minute.",
        status=503,
    )


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def payment_verification_start(request: HttpRequest, flow_id: str) -> HttpResponse:
    """GET shows the order and a button; only its POST (CSRF-checked) opens a challenge at the merchant.

    Opening one counts toward the attempt's limit, so a link another site makes the browser follow (an
    image, a prefetch, a top-level GET carrying the Lax cookie) must not open one. The POST answers a
    page that moves on to the bank with a meta refresh and a link, not a redirect: the issuer's page is
    on another site, and the Content-Security-Policy's `form-action 'self'` blocks a form's navigation
    that is redirected off-site.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.path)
    if request.method == "GET":
        try:
            flow = flow_payment_challenge_offer(flow_id=flow_id, customer_id=request.user.pk)
        except tuple(_STATUS) as error:
            return _refused(request, error)
        preview = flow.preview or {}
        return render(
            request,
            "ordering/payment_verification_start.html",
            {
                "lines": preview.get("lines", []),
                "total": format_money(flow.total_amount or 0, flow.currency or "usd"),
                "card": preview.get("payment", {}),
            },
        )
    notification_url = request.build_absolute_uri(reverse("flow-payment-verification-done", args=[flow_id]))
    try:
        url = flow_payment_challenge_start(
            flow_id=flow_id,
            customer_id=request.user.pk,
            notification_url=notification_url,
            origin=Origin.from_request(request, channel="web"),
        )
    except tuple(_STATUS) as error:
        return _refused(request, error)
    except MerchantError:
        return _merchant_down(request)
    return render(request, "ordering/payment_verification_to_bank.html", {"bank_url": url})


@never_cache
@require_GET
def payment_verification_done(request: HttpRequest, flow_id: str) -> HttpResponse:
    if not request.user.is_authenticated:
        # Signing in comes back here with the same signed result (while it is fresh).
        return redirect_to_login(request.get_full_path())
    try:
        _, verified = flow_payment_challenge_finish(
            flow_id=flow_id,
            customer_id=request.user.pk,
            cres=request.GET.get("cres", "")[:4000],
            signature=request.GET.get("signature", "")[:400],
            origin=Origin.from_request(request, channel="web"),
        )
    except tuple(_STATUS) as error:
        return _refused(request, error)
    except MerchantError:
        return _merchant_down(request)
    if verified:
        return _page(
            request,
            title="Payment verified",
            text="Your bank confirmed the payment. Your order is being placed: the chat shows when it is done.",
        )
    return _page(
        request,
        title="Payment not verified",
        text="Your bank did not confirm the payment, so nothing was charged. You can try again from the chat.",
    )
