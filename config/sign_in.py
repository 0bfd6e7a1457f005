"""What django-axes asks of us: the page shown to a locked-out sign-in, and which failures a correct
sign-in forgives. (The client's address is `config.client_ip.client_ip`, the audit log's.)

Both sign-in pages (the customer's `/accounts/login/` and the staff console's `/admin/login/`) are
Django login views that render a form; when axes refuses an attempt, the same page comes back with the
form's errors replaced by the lockout message and status 429, so a person sees why and for how long.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


class SignInThrottleBackend(AxesStandaloneBackend):
    """django-axes' gate, first in AUTHENTICATION_BACKENDS: refuses a locked-out username or address.

    Every sign-in page passes its request. `authenticate()` without one (a shell, a script, the test
    client's `login()`) has no address to count and no person at a form to lock out, so it is let
    through to the password check instead of failing with axes' "requires a request" error.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


@receiver(user_logged_in, dispatch_uid="config.sign_in.sign_in_clears_own_failures")
def sign_in_clears_own_failures(sender, request, user, **kwargs) -> None:
    """A correct sign-in forgives that username's failures, from every address, and nothing else.

    Axes counts an address's failures over all the usernames tried from it, so the failures other
    usernames had from the same address stay counted: knowing one password must not buy more guesses
    at another (AXES_RESET_ON_SUCCESS, which deletes the address's too, is off for that reason). The
    per-address count drops only by this user's own mistakes.
    """
    AccessAttempt.objects.filter(username=user.get_username()).delete()


def sign_in_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    message = str(settings.AXES_COOLOFF_MESSAGE)
    status = settings.AXES_HTTP_RESPONSE_CODE
    context = getattr(original_response, "context_data", None)
    if isinstance(original_response, TemplateResponse) and context and context.get("form") is not None:
        form = context["form"]
        # "Wrong password" would be untrue (it may have been right) and useless: say why and for how long.
        form._errors = ErrorDict()
        form.add_error(None, message)
        response = TemplateResponse(
            request,
            original_response.template_name,
            {**context, "locked_out_message": message},
            status=status,
        )
        return response.render()
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
