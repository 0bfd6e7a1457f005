"""The simulated card issuer's 3-D Secure challenge page (the ACS of a real card network).

The shopper's browser arrives here from the client's link (the `acs_url` of the authentication
session), sees the amount and the merchant, and enters the one-time code or cancels. The answer is
recorded by `services.issuer_challenge_answer`, and the browser is sent back to the client's
notification URL with a signed CRes. The page has no script, inline or not: a plain form.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from sandbox_merchant import services
from sandbox_merchant.errors import NotFound, SessionNotOpen
from sandbox_merchant.models import IssuerChallenge, IssuerChallengeStatus


def _amount_words(amount: int, currency: str) -> str:
    return f"{currency.upper()} {amount // 100}.{amount % 100:02d}"


@require_http_methods(["GET", "POST"])
def challenge_page(request: HttpRequest, acs_trans_id: str) -> HttpResponse:
    if not settings.SANDBOX_MERCHANT_ENABLED:
        raise Http404("The sandbox merchant is switched off.")
    challenge = IssuerChallenge.objects.filter(acs_trans_id=acs_trans_id).first()
    if challenge is None:
        raise Http404("No such verification.")
    if request.method == "POST":
        try:
            answered = services.issuer_challenge_answer(
                acs_trans_id=acs_trans_id,
                code=request.POST.get("code", "")[:32],
                abandon="cancel" in request.POST,
            )
        except NotFound:
            raise Http404("No such verification.") from None
        except SessionNotOpen as error:
            return _page(request, challenge, problem=str(error), status=409)
        if answered.status == IssuerChallengeStatus.EXPIRED:
            return _page(
                request, answered, problem="This verification expired; start it again from the chat.", status=410
            )
        return HttpResponseRedirect(services.issuer_challenge_return_url(challenge=answered))
    if challenge.status != IssuerChallengeStatus.ACTION_REQUIRED:
        return _page(
            request, challenge, problem=f"This verification is already {challenge.get_status_display()}.", status=409
        )
    if challenge.expires_at <= timezone.now():
        return _page(request, challenge, problem="This verification expired; start it again from the chat.", status=410)
    return _page(request, challenge)


def _page(request: HttpRequest, challenge: IssuerChallenge, *, problem: str = "", status: int = 200) -> HttpResponse:
    context = {
        "challenge": challenge,
        "amount": _amount_words(challenge.amount, challenge.currency),
        "code_hint": services.ISSUER_CHALLENGE_CODE,
        "problem": problem,
    }
    return render(request, "sandbox_merchant/issuer_challenge.html", context, status=status)
