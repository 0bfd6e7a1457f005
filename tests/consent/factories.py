"""Factories for consent tests. Rows that carry consent or money are made through the services."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from consent.models import GrantChannel, Scope
from consent.services import address_add, consent_grant, payment_method_add

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"customer{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(user, create, extracted, **kwargs):
        if create:
            user.save()


def grant(user, scope: str = Scope.PLACE_ORDERS, **kwargs):
    return consent_grant(user_id=user.pk, scope=scope, via=kwargs.pop("via", GrantChannel.API), **kwargs)


def card(user, vault_reference: str = "pm_test_visa", last4: str = "4242", brand: str = "visa", **kwargs):
    return payment_method_add(
        user_id=user.pk,
        merchant_id=kwargs.pop("merchant_id", "sandbox"),
        vault_reference=vault_reference,
        brand=brand,
        last4=last4,
        exp_month=kwargs.pop("exp_month", 12),
        exp_year=kwargs.pop("exp_year", 2030),
        **kwargs,
    )


def address(user, label: str = "Home", **kwargs):
    fields = {
        "recipient": "Test Customer",
        "line1": "1 Main St",
        "city": "Springfield",
        "region": "IL",
        "postal_code": "62701",
        "country": "US",
    }
    fields.update(kwargs)
    return address_add(user_id=user.pk, label=label, **fields)
