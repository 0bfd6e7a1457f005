"""Staff sessions end a working day after sign-in (STAFF_SESSION_MAX_AGE_SECONDS, 8 h by default).

A staff session can read customers' conversations and act on escalations, so an unattended or stolen
one must not live for the two weeks a customer's does, and activity must not extend it: the limit is
absolute, counted from sign-in. At sign-in the session's expiry is set to that moment (the cookie
and the stored session both end then); the middleware also ends any staff session that is past it,
including one that was already open when the user was made staff.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT_KEY = "_staff_signed_in_at"


def _start(request: HttpRequest, signed_in_at: float) -> None:
    request.session[SIGNED_IN_AT_KEY] = signed_in_at
    ends_at = signed_in_at + settings.STAFF_SESSION_MAX_AGE_SECONDS
    # A datetime is an absolute expiry: saving the session on later requests does not push it back.
    request.session.set_expiry(datetime.fromtimestamp(ends_at, tz=UTC))


@receiver(user_logged_in, dispatch_uid="config.staff_sessions.start")
def _staff_signed_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None and getattr(user, "is_staff", False):
        _start(request, time.time())


class StaffSessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            signed_in_at = request.session.get(SIGNED_IN_AT_KEY)
            if signed_in_at is None:
                # Made staff during a customer session, or signed in before this limit existed.
                _start(request, time.time())
            elif time.time() - signed_in_at >= settings.STAFF_SESSION_MAX_AGE_SECONDS:
                # Signed out: the admin then asks for username, password and code again, and says why.
                logout(request)
                hours = settings.STAFF_SESSION_MAX_AGE_SECONDS / 3600
                messages.warning(
                    request, f"Your staff session ended {hours:g} hours after you signed in. Please sign in again."
                )
        return self.get_response(request)
