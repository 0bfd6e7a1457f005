"""Content-Security-Policy on every response we serve (Django 5.2 has none built in).

The policy lives in settings (CONTENT_SECURITY_POLICY: directive -> sources). Scripts and `<style>`
elements come only from this site or carry the per-request nonce (`{{ csp_nonce }}` in templates,
through `config.csp.nonce`); no inline script runs, so an injected `<script>` or `onclick=` does
nothing. Inline `style="..."` attributes are allowed (`style-src-attr`): they cannot run code, and the
shop's colour swatches and the staff console's status badges are drawn with them. A view that sets
its own Content-Security-Policy (the sandbox's SVG pictures) keeps it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

NONCE = "'nonce'"  # placeholder in CONTENT_SECURITY_POLICY, replaced by this request's nonce


def policy_header(policy: dict[str, list[str]], nonce: str) -> str:
    parts = []
    for directive, sources in policy.items():
        values = [f"'nonce-{nonce}'" if source == NONCE else source for source in sources]
        parts.append(" ".join([directive, *values]))
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A fresh nonce per response: a page's nonce is useless to anyone who injects into another.
        request.csp_nonce = secrets.token_urlsafe(18)
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy_header(settings.CONTENT_SECURITY_POLICY, request.csp_nonce)
        return response


def nonce(request: HttpRequest) -> dict[str, str]:
    """Template context processor: `<style nonce="{{ csp_nonce }}">`."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
