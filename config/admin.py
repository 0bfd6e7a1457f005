"""The staff console's site: one-step sign-in with an authenticator code.

Signing in takes the username, the password and the current code from the person's authenticator app
in one form: the device is the user's own confirmed one (each is tried when there are several), never a
choice sent by the browser. A wrong code is a failed sign-in like a wrong password: audited, and
counted by django-axes towards the lockout.

Who may change accounts, groups and devices: `config.admin_accounts`.

The frame imports no app: an app adds to the console from its own `AppConfig.ready`, through
`staff_console()`: pages of its own (`register_pages`: ordering's ops page and trace lookup) and a context
around every console view (`register_view_context`: audit marks each change as the staff member's).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import update_wrapper

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver
from django.utils.text import smart_split
from django_otp import devices_for_user
from django_otp.admin import OTPAdminSite


class StaffSignInForm(AdminAuthenticationForm):
    """Username, password and authenticator code, checked in that order in one submission."""

    otp_token = forms.CharField(
        label="Code from your authenticator app",
        max_length=16,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "code_required": "Enter the 6-digit code from your authenticator app along with your password.",
        "code_invalid": "That code is wrong or has expired. Enter the code your authenticator app shows now.",
        "code_throttled": (
            "After a wrong code, codes for this account are refused for a few seconds (longer after each wrong "
            "one): wait a moment, then enter the code your authenticator app shows now."
        ),
        "no_device": (
            "This account has no authenticator set up, so it cannot sign in here. Ask an administrator to run "
            "`manage.py create_staff_user <username> --replace-device` for it."
        ),
    }

    def clean(self):
        # No code, no password check: a missing code never tells anyone whether the password was right.
        if not (self.data.get("otp_token") or "").strip():
            raise forms.ValidationError(self.error_messages["code_required"], code="code_required")
        cleaned_data = super().clean()  # the password (django-axes refuses a locked-out sign-in first)
        user = self.get_user()
        if user is not None:
            user.otp_device = self._verified_device(user, cleaned_data.get("otp_token", ""))
        return cleaned_data

    def _verified_device(self, user, token: str):
        # "123 456", "123-456": the code as authenticator apps show it
        if re.fullmatch(r"\s*\d{3}[\s-]?\d{3}\s*", token or ""):
            token = re.sub(r"[\s-]", "", token)
        with transaction.atomic():
            # Locked, so two sign-ins racing with the same code cannot both use it.
            devices = list(devices_for_user(user, confirmed=True, for_verify=True))
            if not devices:
                refusal = "no_device"
            elif not any(device.verify_is_allowed()[0] for device in devices):
                refusal = "code_throttled"
            else:
                for device in devices:
                    if device.verify_token(token):
                        return device
                refusal = "code_invalid"
        # Outside the block: the failure's count and audit event must not roll back with it.
        self._fail(user, reason=refusal)
        return None  # not reached: _fail raises

    def _fail(self, user, *, reason: str) -> None:
        # A failed sign-in like a wrong password: django-axes counts it, the audit log records it.
        user_login_failed.send(
            sender=__name__,
            credentials={"username": user.get_username()},
            request=self.request,
            stage=reason,
        )
        raise forms.ValidationError(self.error_messages[reason], code=reason)


@dataclass(frozen=True)
class ConsolePages:
    """Pages an app adds to the console: their URLs under /admin/, and their section of the index."""

    urls: Callable[[AdminSite], list[URLPattern | URLResolver]]
    # The section at the top of the index and side bar for this request, or None for who may not open them.
    index_entry: Callable[[HttpRequest], dict | None]


class StaffAdminSite(OTPAdminSite):
    """The staff console: support queue and audit log. Staff must verify a TOTP device to enter."""

    site_header = "Ordering assistant: staff console"
    site_title = "Staff console"
    index_title = "Support and audit"
    login_form = StaffSignInForm
    login_template = "admin/login.html"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Filled from the apps' AppConfig.ready, before the URLs are first built; by name, so twice is once.
        self._view_contexts: dict[str, Callable[[HttpRequest], AbstractContextManager[object]]] = {}
        self._pages: dict[str, ConsolePages] = {}

    def register_view_context(
        self, *, name: str, context: Callable[[HttpRequest], AbstractContextManager[object]]
    ) -> None:
        """Every console view (behind the sign-in check) runs inside `context(request)`."""
        self._view_contexts[name] = context

    def register_pages(self, *, name: str, pages: ConsolePages) -> None:
        """An app's own console pages, ahead of the model pages (and of the catch-all "not found")."""
        self._pages[name] = pages

    def admin_view(self, view, cacheable=False):
        # Read when a request comes, not when the URLs are built: a context registered later still applies.
        def in_contexts(request: HttpRequest, *args, **kwargs):
            with contextlib.ExitStack() as stack:
                for context in tuple(self._view_contexts.values()):
                    stack.enter_context(context(request))
                return view(request, *args, **kwargs)

        return super().admin_view(update_wrapper(in_contexts, view), cacheable)

    def get_urls(self):
        return [*(url for pages in self._pages.values() for url in pages.urls(self)), *super().get_urls()]

    def get_app_list(self, request: HttpRequest, app_label: str | None = None):
        app_list = super().get_app_list(request, app_label)
        if app_label is None:
            entries = (pages.index_entry(request) for pages in self._pages.values())
            app_list[:0] = [entry for entry in entries if entry is not None]
        return app_list


def staff_console() -> StaffAdminSite:
    """The console every app registers on: `django.contrib.admin.site`, which config/apps.py makes a
    StaffAdminSite."""
    site = admin.site
    if not isinstance(site, StaffAdminSite):
        raise ImproperlyConfigured(
            "django.contrib.admin.site is not the staff console: install config.apps.OrderingAdminConfig "
            "instead of django.contrib.admin in INSTALLED_APPS."
        )
    return site


class RefuseUnofferedActionsMixin:
    """A POST naming an action this staff member is not offered is a 403, not a silently redrawn list.

    Django already never runs such an action; this makes the refusal visible to whoever sent it.
    """

    def changelist_view(self, request: HttpRequest, extra_context=None):
        action = request.POST.get("action") if request.method == "POST" else None
        if action and action not in self.get_actions(request):
            raise PermissionDenied(f"You may not use the action {action!r} here.")
        return super().changelist_view(request, extra_context)


SEARCH_MAX_WORDS = 10
SEARCH_MAX_CHARS = 200


def search_refusal(search_term: str) -> str | None:
    """Why a console list is not searched for `search_term` (a sentence for the person), or None.

    Django's admin ORs every word over every search field: a pasted page of text (1,000 words) built a query
    PostgreSQL took 8-37 s to refuse ("expression tree is too large"), a 500. Staff search by an id, a name or a
    few words."""
    words = sum(1 for _ in smart_split(search_term))
    if words <= SEARCH_MAX_WORDS and len(search_term) <= SEARCH_MAX_CHARS:
        return None
    return (
        f"Nothing was searched: a search is at most {SEARCH_MAX_WORDS} words and {SEARCH_MAX_CHARS} characters, and "
        f"this one has {words:,} words and {len(search_term):,} characters. Search by a number or id, a customer's "
        "username or e-mail, or a few words."
    )


class BoundedSearchMixin:
    """A console list whose search box takes at most SEARCH_MAX_WORDS words and SEARCH_MAX_CHARS characters: a
    longer search runs no query and says why (search_refusal)."""

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        refusal = search_refusal(search_term)
        if refusal is not None:
            messages.error(request, refusal)
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


class ReadOnlyAdminMixin(BoundedSearchMixin):
    """A console page to look at, never to write through: no add, change or delete, whoever asks.

    Records here change only through their own services (and their audit events); a page offering a form
    would be a second, unaudited way in. Pages that offer an action override one permission, with a reason."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Rows shown under their parent, read-only, without empty forms or delete boxes."""

    extra = 0
    can_delete = False
