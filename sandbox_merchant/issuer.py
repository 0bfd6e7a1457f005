"""The simulated card issuer's 3-D Secure challenge page (the ACS of a real card network).

The shopper's browser arrives here from the client's link (the `acs_url` of the authentication
session), sees the amount and the merchant, and enters the one-time code or cancels. The answer is
recorded by `services.issuer_challenge_answer`, and the browser is sent back to the client's
notification URL with a signed CRes. The page has no script, inline or not: a plain form.

The bank and the shop are two sites (the sandbox on :8001 and the agent on :8000 under `make run`). The
form's answer is a redirect to the shop, and a browser checks a form's redirect against the page's
Content-Security-Policy `form-action`: this page's own policy allows its own origin and the origin of the
challenge's notification URL, and nothing else. A challenge already answered (a second tab, a return that
did not arrive) shows its outcome with a plain link back to the shop carrying the signed result, so the
shopper is never stuck on the bank's page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from config.csp import policy_header
from sandbox_merchant import services
from sandbox_merchant.errors import NotFound, SessionNotOpen
from sandbox_merchant.models import IssuerChallenge, IssuerChallengeStatus

# An answered challenge whose result can be carried back to the shop (an expired one is started again instead).
_ANSWERED = (
    IssuerChallengeStatus.AUTHENTICATED,
    IssuerChallengeStatus.NOT_AUTHENTICATED,
    IssuerChallengeStatus.CHALLENGE_ABANDONED,
)


def _return_origin(challenge: IssuerChallenge) -> str | None:
    """The origin (scheme://host[:port]) of the client's notification URL, when it is an http(s) URL."""
    parts = urlsplit(challenge.notification_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _content_security_policy(request: HttpRequest, challenge: IssuerChallenge) -> str:
    """The site's policy, with the form allowed to be redirected to the shop that asked for this challenge."""
    policy = dict(settings.CONTENT_SECURITY_POLICY)
    origin = _return_origin(challenge)
    if origin is not None:
        policy["form-action"] = [*policy.get("form-action", ["'self'"]), origin]
    return policy_header(policy, getattr(request, "csp_nonce", ""))


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
            challenge.refresh_from_db()
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
    answered = challenge.status in _ANSWERED and _return_origin(challenge) is not None
    context = {
        "challenge": challenge,
        "amount": _amount_words(challenge.amount, challenge.currency),
        "code_hint": services.ISSUER_CHALLENGE_CODE,
        "problem": problem,
        # A link, not a form: it is followed whatever the page's form-action allows.
        "return_url": services.issuer_challenge_return_url(challenge=challenge) if answered and problem else "",
    }
    response = render(request, "sandbox_merchant/issuer_challenge.html", context, status=status)
    response["Content-Security-Policy"] = _content_security_policy(request, challenge)
    return response
