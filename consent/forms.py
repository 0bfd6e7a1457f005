"""Forms of the settings page. Amounts are typed in currency units and become minor units here."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from consent.formatting import minor_unit_exponent
from consent.models import CapKind, Scope


def to_minor_units(value: Decimal, currency: str) -> int:
    return int((value * (10 ** minor_unit_exponent(currency))).to_integral_value())


def from_minor_units(amount: int | None, currency: str) -> Decimal | None:
    if amount is None:
        return None
    return Decimal(amount) / (10 ** minor_unit_exponent(currency))


class GrantForm(forms.Form):
    scope = forms.ChoiceField(choices=Scope.choices)


def _amount_field(label: str, required: bool = False) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


class CapsForm(forms.Form):
    """Empty means "the most allowed" (the ceiling)."""

    per_order = _amount_field(CapKind.PER_ORDER.label)
    per_day = _amount_field(CapKind.PER_DAY.label)
    per_month = _amount_field(CapKind.PER_MONTH.label)
    per_session = _amount_field(CapKind.PER_SESSION.label)

    def caps_in_minor_units(self, currency: str) -> dict[str, int | None]:
        return {
            kind: None if self.cleaned_data.get(kind) is None else to_minor_units(self.cleaned_data[kind], currency)
            for kind in CapKind.values
        }


class AutoCheckoutForm(forms.Form):
    threshold = _amount_field("Skip the confirm step for orders under", required=True)


class AddressForm(forms.Form):
    label = forms.CharField(max_length=40, help_text="e.g. Home, Work")
    recipient = forms.CharField(max_length=120, label="Name")
    line1 = forms.CharField(max_length=200, label="Street address")
    line2 = forms.CharField(max_length=200, required=False, label="Apartment, suite (optional)")
    city = forms.CharField(max_length=100)
    region = forms.CharField(max_length=100, required=False, label="State / region")
    postal_code = forms.CharField(max_length=20, label="ZIP / postal code")
    country = forms.CharField(min_length=2, max_length=2, label="Country code", initial="US")


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=12,
        label="6-digit code",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}),
    )


class PaymentMethodForm(forms.Form):
    """A card is saved by the shop's reference to it; the shop tells us its brand, last four and expiry."""

    vault_reference = forms.CharField(
        max_length=64, label="Shop's card reference", help_text="The reference the shop shows for the card (pm_…)."
    )
    nickname = forms.CharField(max_length=40, required=False, label="Nickname (optional)")
    make_default = forms.BooleanField(required=False, label="Make it my default card")


class ReplaceAuthenticatorForm(forms.Form):
    """Proof that the person replacing the authenticator owns the current one: its code or the password."""

    current_code = forms.CharField(
        max_length=12,
        required=False,
        label="Code from your current app",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}),
    )
    password = forms.CharField(
        max_length=200,
        required=False,
        strip=False,
        label="or your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
