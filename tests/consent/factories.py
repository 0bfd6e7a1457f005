"""Factories for consent tests. Rows that carry consent or money are made through the services."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from audit.models import ActorType
from catalog_adapters.contract import StoredCard
from consent.models import GrantChannel, Scope
from consent.services.grants import consent_grant
from consent.services.wallet import address_add, payment_method_store

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
    """A saved card as the merchant would describe it (set-up only: a customer's own card goes through
    payment_method_add, which asks the sandbox merchant; see test_payment_methods.py)."""
    return payment_method_store(
        user_id=user.pk,
        merchant_id=kwargs.pop("merchant_id", "sandbox"),
        card=StoredCard(
            vault_reference=vault_reference,
            brand=brand,
            last4=last4,
            exp_month=kwargs.pop("exp_month", 12),
            exp_year=kwargs.pop("exp_year", 2030),
        ),
        actor_type=kwargs.pop("actor_type", ActorType.CUSTOMER),
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
