"""Answers that depend on who is signed in are never stored, by the browser or by anything between.

The settings page lists a customer's cards (brand and last four) and addresses; the API answers with the same and
with their conversations and orders. Without a Cache-Control header a browser may keep such a page on disk and show
it from its history after the customer signed out, on a shared computer to the next person, and a proxy or CDN
in front of the site that ignores `Vary: Cookie` may hand it to someone else (OWASP ASVS 8.2.1). So every answer
whose making read the session, which is every answer that can differ by person, gets `Cache-Control: private,
no-store`, unless its view chose a Cache-Control of its own (the sign-in pages and the staff console already send
Django's never_cache). Static files (WhiteNoise, earlier in the stack), probes and scrapes never read the session
and keep their caching.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class PersonalAnswersNotStoredMiddleware:
    """Before SessionMiddleware in MIDDLEWARE, so it sees whether anything below read the session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.accessed and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
