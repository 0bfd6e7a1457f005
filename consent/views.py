"""Consent grants, spend caps, vault-only payment methods, step-up.

HTTP endpoints, thin: parse, call one service or selector, render. The settings page is one GET; each
change is its own small POST form (CSRF-protected) that redirects back with a message a person reads.
Another customer's object is looked up through the selectors, which filter by the signed-in user: 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audit.services import Origin
from consent import hooks, selectors
from consent.activity import activity_entry_get, activity_page
from consent.exceptions import ConsentError
from consent.formatting import format_money
from consent.forms import (
    AddressForm,
    AutoCheckoutForm,
    CapsForm,
    CodeForm,
    GrantForm,
    PaymentMethodForm,
    ReplaceAuthenticatorForm,
    from_minor_units,
    to_minor_units,
)
from consent.models import CapKind, GrantChannel, GrantStatus, Scope
from consent.services import grants as grant_services
from consent.services import stepup as stepup_services
from consent.services import wallet as wallet_services

ACTIVITY_ON_PAGE = 50


def _origin(request: HttpRequest) -> Origin:
    return Origin.from_request(request, channel="web")


# The page's sections whose forms answer with a message; the message is shown in its section.
SECTIONS = ("grants", "caps", "payment-methods", "addresses", "step-up")


def _back(section: str) -> HttpResponseRedirect:
    # To the answer itself (templates/consent/_messages.html): the browser scrolls to it and focuses it.
    return HttpResponseRedirect(f"{reverse('consent-settings')}#{section}-message")


def _answers(request: HttpRequest) -> dict[str, list]:
    """The messages waiting for this page, by the section they answer (`page`: any other)."""
    answers: dict[str, list] = {}
    for message in messages.get_messages(request):
        section = message.extra_tags if message.extra_tags in SECTIONS else "page"
        answers.setdefault(section.replace("-", "_"), []).append(message)
    return answers


def _apply(
    request: HttpRequest,
    section: str,
    change: Callable[[], object],
    success: str,
    *,
    refused: Callable[[], None] | None = None,
) -> HttpResponseRedirect:
    """Run one service call; show its domain error, if any, as the message of the section (and call `refused`)."""
    try:
        change()
    except ConsentError as error:
        messages.error(request, error.message, extra_tags=section)
        if refused is not None:
            refused()
    else:
        messages.success(request, success, extra_tags=section)
    return _back(section)


# What was typed into the new-address form when it was refused (a field's error, or the service's: a label already
# used), given back to the form once by the page it lands on: the customer corrects one field instead of typing the
# whole address again (it came back empty).
_ADDRESS_DRAFT = "settings_address_draft"


def _address_draft_keep(request: HttpRequest) -> None:
    request.session[_ADDRESS_DRAFT] = {
        name: request.POST.get(name, "")[: getattr(field, "max_length", None) or 200]
        for name, field in AddressForm.base_fields.items()
        if isinstance(field, forms.CharField)
    }


def _address_form(request: HttpRequest) -> AddressForm:
    draft = request.session.pop(_ADDRESS_DRAFT, None)
    return AddressForm(initial=draft) if isinstance(draft, dict) else AddressForm()


def _form_error(request: HttpRequest, form, section: str) -> HttpResponseRedirect:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label or 'Form'}: {errors[0]}", extra_tags=section)
        break
    return _back(section)


def signed_in_form(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`login_required` for the page's POST forms. A form sent after the session ended (it expired, another
    tab signed out) goes to sign-in and then back to the page, saying that nothing was changed: back to the
    form's own address the browser would GET a POST-only view (405)."""

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        messages.info(request, "You were signed out, so nothing was changed. Sign in, then make the change again.")
        return redirect_to_login(reverse("consent-settings"))

    return checked


@require_GET
@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    user_id = request.user.pk
    usage = selectors.spend_usage(user_id=user_id)
    currency = usage.currency
    grants = list(selectors.grants_for_customer(user_id=user_id))
    current = {grant.scope: grant for grant in grants if grant.status == GrantStatus.ACTIVE}
    latest: dict[str, object] = {}
    for grant in sorted(grants, key=lambda grant: grant.granted_at):
        latest[grant.scope] = grant

    def scope_status(scope: Scope) -> str:
        if scope.value in current:
            return selectors.grant_effective_status(current[scope.value])
        # Say "revoked" rather than "not granted" when the customer took it back: it is what they did.
        previous = latest.get(scope.value)
        return "revoked" if previous is not None and previous.status == GrantStatus.REVOKED else "not granted"

    scopes = [
        {"value": scope.value, "label": scope.label, "grant": current.get(scope.value), "status": scope_status(scope)}
        for scope in Scope
    ]
    caps = [
        {
            "kind": kind.value,
            "label": kind.label,
            "effective": format_money(usage.caps[kind.value], currency),
            "ceiling": format_money(usage.ceilings[kind.value], currency),
            "ceiling_value": from_minor_units(usage.ceilings[kind.value], currency),
            "chosen_value": from_minor_units(usage.chosen[kind.value], currency),
            # Per-session use only means something inside a chat; the page shows the calendar windows.
            "used": format_money(usage.used[kind.value], currency)
            if kind in (CapKind.PER_DAY, CapKind.PER_MONTH)
            else None,
        }
        for kind in CapKind
    ]
    stepup_pending = selectors.stepup_device(user_id=user_id, confirmed=False)
    activity, _ = activity_page(user_id=user_id, limit=ACTIVITY_ON_PAGE)
    context = {
        "scopes": scopes,
        "history": [grant for grant in grants if grant.status != GrantStatus.ACTIVE],
        "currency": currency,
        "caps": caps,
        "threshold": format_money(selectors.auto_checkout_threshold(user_id=user_id), currency),
        "threshold_value": from_minor_units(selectors.auto_checkout_threshold(user_id=user_id), currency),
        "threshold_ceiling": format_money(selectors.auto_checkout_ceiling(), currency),
        "payment_methods": selectors.payment_methods_for_customer(user_id=user_id),
        "addresses": selectors.addresses_for_customer(user_id=user_id),
        "address_form": _address_form(request),
        "payment_method_form": PaymentMethodForm(),
        "code_form": CodeForm(),
        "replace_form": ReplaceAuthenticatorForm(),
        "stepup_enrolled": selectors.stepup_device(user_id=user_id, confirmed=True) is not None,
        "stepup_pending_svg": selectors.stepup_qr_svg(device=stepup_pending) if stepup_pending else "",
        "stepup_pending_url": selectors.stepup_config_url(device=stepup_pending) if stepup_pending else "",
        "stepup_last": selectors.stepup_last_verified_at(user_id=user_id),
        "stepup_window": selectors.stepup_window_minutes(),
        "stepup_recent": selectors.stepup_verified_within(user_id=user_id),
        "activity": activity,
        "answers": _answers(request),
        # What other apps show this customer here: ordering's "Your orders" (from every conversation).
        "account_sections": hooks.account_sections.ask(user_id),
    }
    return render(request, "consent/settings.html", context)


@require_POST
@signed_in_form
def grant_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = selectors.grant_get(user_id=request.user.pk, grant_id=grant_id)
    if grant.status == GrantStatus.REVOKED:
        # A page left open (another tab revoked it, maybe allowed it again since): say how things stand now,
        # not "revoked", which would hide a newer grant that still lets the assistant act.
        label = grant.get_scope_display()
        if selectors.consent_allows(user_id=request.user.pk, scopes=[grant.scope]):
            messages.error(
                request,
                f"“{label}” was allowed again after you revoked it, so it is allowed now. "
                "To stop it, use Revoke on this page.",
                extra_tags="grants",
            )
        else:
            messages.info(request, f"“{label}” was already revoked.", extra_tags="grants")
        return _back("grants")
    return _apply(
        request,
        "grants",
        lambda: grant_services.consent_revoke(
            user_id=request.user.pk, grant_id=grant.pk, via=GrantChannel.SETTINGS_PAGE, origin=_origin(request)
        ),
        f"Revoked: “{grant.get_scope_display()}”. The assistant stopped at once.",
    )


@require_POST
@signed_in_form
def grant_create(request: HttpRequest) -> HttpResponse:
    form = GrantForm(request.POST)
    if not form.is_valid():
        return _form_error(request, form, "grants")
    scope = Scope(form.cleaned_data["scope"])
    return _apply(
        request,
        "grants",
        lambda: grant_services.consent_grant(
            user_id=request.user.pk, scope=scope, via=GrantChannel.SETTINGS_PAGE, origin=_origin(request)
        ),
        f"Granted: “{scope.label}”.",
    )


@require_POST
@signed_in_form
def caps_update(request: HttpRequest) -> HttpResponse:
    form = CapsForm(request.POST)
    if not form.is_valid():
        return _form_error(request, form, "caps")
    currency = selectors.spend_usage(user_id=request.user.pk).currency
    return _apply(
        request,
        "caps",
        lambda: grant_services.spend_caps_set(
            user_id=request.user.pk, caps=form.caps_in_minor_units(currency), origin=_origin(request)
        ),
        "Your spending caps are saved.",
    )


@require_POST
@signed_in_form
def auto_checkout_update(request: HttpRequest) -> HttpResponse:
    form = AutoCheckoutForm(request.POST)
    if not form.is_valid():
        return _form_error(request, form, "caps")
    currency = selectors.spend_usage(user_id=request.user.pk).currency
    threshold = to_minor_units(form.cleaned_data["threshold"], currency)
    return _apply(
        request,
        "caps",
        lambda: grant_services.auto_checkout_set(user_id=request.user.pk, threshold=threshold, origin=_origin(request)),
        "Auto-checkout threshold saved." if threshold else "The assistant will always ask you to confirm.",
    )


@require_POST
@signed_in_form
def payment_method_default(request: HttpRequest, payment_method_id: int) -> HttpResponse:
    # A card removed in another tab reaches the service, which says so (WalletItemRemoved).
    method = selectors.payment_method_get(user_id=request.user.pk, payment_method_id=payment_method_id, removed=True)
    return _apply(
        request,
        "payment-methods",
        lambda: wallet_services.payment_method_set_default(
            user_id=request.user.pk, payment_method_id=method.pk, origin=_origin(request)
        ),
        f"{method.masked} is now your default card.",
    )


@require_POST
@signed_in_form
def payment_method_remove(request: HttpRequest, payment_method_id: int) -> HttpResponse:
    method = selectors.payment_method_get(user_id=request.user.pk, payment_method_id=payment_method_id, removed=True)
    return _apply(
        request,
        "payment-methods",
        lambda: wallet_services.payment_method_remove(
            user_id=request.user.pk, payment_method_id=method.pk, origin=_origin(request)
        ),
        f"{method.masked} removed.",
    )


@require_POST
@signed_in_form
def payment_method_create(request: HttpRequest) -> HttpResponse:
    form = PaymentMethodForm(request.POST)
    if not form.is_valid():
        return _form_error(request, form, "payment-methods")
    try:
        method = wallet_services.payment_method_add(
            user_id=request.user.pk,
            merchant_id=settings.DEFAULT_MERCHANT_ID,
            origin=_origin(request),
            **form.cleaned_data,
        )
    except ConsentError as error:
        messages.error(request, error.message, extra_tags="payment-methods")
    else:
        # Named in the shop's words (its brand and last four), so the customer sees which card it confirmed.
        messages.success(request, f"{method.masked} saved.", extra_tags="payment-methods")
    return _back("payment-methods")


@require_POST
@signed_in_form
def address_create(request: HttpRequest) -> HttpResponse:
    form = AddressForm(request.POST)
    if not form.is_valid():
        _address_draft_keep(request)
        return _form_error(request, form, "addresses")
    return _apply(
        request,
        "addresses",
        lambda: wallet_services.address_add(user_id=request.user.pk, origin=_origin(request), **form.cleaned_data),
        f"Address “{form.cleaned_data['label']}” saved.",
        refused=lambda: _address_draft_keep(request),
    )


@require_POST
@signed_in_form
def address_default(request: HttpRequest, address_id: int) -> HttpResponse:
    address = selectors.address_get(user_id=request.user.pk, address_id=address_id, removed=True)
    return _apply(
        request,
        "addresses",
        lambda: wallet_services.address_set_default(
            user_id=request.user.pk, address_id=address.pk, origin=_origin(request)
        ),
        f"“{address.label}” is now your default address.",
    )


@require_POST
@signed_in_form
def address_remove(request: HttpRequest, address_id: int) -> HttpResponse:
    address = selectors.address_get(user_id=request.user.pk, address_id=address_id, removed=True)
    return _apply(
        request,
        "addresses",
        lambda: wallet_services.address_remove(user_id=request.user.pk, address_id=address.pk, origin=_origin(request)),
        f"Address “{address.label}” removed.",
    )


@require_POST
@signed_in_form
def stepup_enrol(request: HttpRequest) -> HttpResponse:
    form = ReplaceAuthenticatorForm(request.POST)
    if not form.is_valid():
        return _form_error(request, form, "step-up")
    return _apply(
        request,
        "step-up",
        lambda: stepup_services.stepup_enrol_begin(
            user_id=request.user.pk, origin=_origin(request), **form.cleaned_data
        ),
        "Scan the QR code with your authenticator app, then enter the code it shows.",
    )


@require_POST
@signed_in_form
def stepup_confirm(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _form_error(request, form, "step-up")
    return _apply(
        request,
        "step-up",
        lambda: stepup_services.stepup_enrol_confirm(
            user_id=request.user.pk, code=form.cleaned_data["code"], origin=_origin(request)
        ),
        "Your authenticator app is set up. When the assistant asks, verify with a new code from it.",
    )


@require_POST
@signed_in_form
def stepup_verify(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _form_error(request, form, "step-up")
    return _apply(
        request,
        "step-up",
        lambda: stepup_services.stepup_verify(
            user_id=request.user.pk, code=form.cleaned_data["code"], origin=_origin(request)
        ),
        f"Thanks, you are verified for the next {selectors.stepup_window_minutes()} minutes.",
    )


@require_GET
@login_required
def activity_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    entry = activity_entry_get(user_id=request.user.pk, event_id=event_id)
    return render(request, "consent/activity_detail.html", {"entry": entry})
