"""The storefront's forms. The card form's number and CVC are read once, vaulted as brand/last4, never kept."""

from __future__ import annotations

from django import forms

from sandbox_merchant.shop.cart import MAX_QUANTITY


class AddToCartForm(forms.Form):
    variant_id = forms.CharField(max_length=64)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)


class CartQuantityForm(forms.Form):
    variant_id = forms.CharField(max_length=64)
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY)


class ShippingForm(forms.Form):
    """A saved address (`saved:<id>`) or one typed here (`new`)."""

    address = forms.CharField(max_length=32)
    recipient = forms.CharField(max_length=120, required=False, label="Name")
    line1 = forms.CharField(max_length=200, required=False, label="Street address")
    line2 = forms.CharField(max_length=200, required=False, label="Apartment, suite (optional)")
    city = forms.CharField(max_length=100, required=False)
    region = forms.CharField(max_length=100, required=False, label="State / region")
    postal_code = forms.CharField(max_length=20, required=False, label="ZIP / postal code")
    country = forms.CharField(max_length=2, required=False, label="Country code", initial="US")

    def clean(self):
        data = super().clean()
        if data.get("address") == "new":
            missing = [
                self.fields[name].label or name.replace("_", " ")
                for name in ("recipient", "line1", "city", "postal_code", "country")
                if not (data.get(name) or "").strip()
            ]
            if missing:
                raise forms.ValidationError(f"Fill in the new address: {', '.join(missing)}.")
            country = data["country"].strip().upper()
            if len(country) != 2 or not country.isalpha():
                raise forms.ValidationError("Country: use a two-letter code such as US.")
            data["country"] = country
        return data


class PlaceOrderForm(forms.Form):
    """A saved card (`saved:<id>`) or a sandbox test card typed here (`new`)."""

    card = forms.CharField(max_length=32)
    expected_total = forms.IntegerField(min_value=0, required=False)
    card_number = forms.CharField(max_length=32, required=False, label="Card number")
    exp_month = forms.IntegerField(min_value=1, max_value=12, required=False, label="Expiry month")
    exp_year = forms.IntegerField(min_value=2000, max_value=2100, required=False, label="Expiry year")
    cvc = forms.CharField(max_length=4, required=False, label="Security code (CVC)")

    def clean(self):
        data = super().clean()
        if data.get("card") == "new" and not (
            data.get("card_number") and data.get("exp_month") and data.get("exp_year") and data.get("cvc")
        ):
            raise forms.ValidationError("Enter the card number, expiry month and year, and security code.")
        return data
