"""Demo customers for `manage.py seed_demo`: alice and bob, with grants, vault cards and addresses.

Idempotent: running it again changes nothing that exists (passwords included). The cards are
references to the sandbox merchant's vault, which fixes each card's behaviour: pm_alice_decline always
declines, pm_alice_3ds asks for 3-D Secure. Their brand, last four and expiry here mirror the cards the
sandbox seeds for its customers cus_alice and cus_bob (`manage.py seed_sandbox_merchant`), so seeding
needs no running merchant; a customer adding a card goes through payment_method_add, which asks the merchant.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from audit.models import ActorType
from catalog_adapters.contract import StoredCard
from consent.models import GrantChannel, Scope
from consent.selectors import addresses_for_customer, grants_for_customer
from consent.services.grants import consent_grant
from consent.services.profile import consent_profile_ensure
from consent.services.wallet import address_add, merchant_account_link, payment_method_store

SANDBOX_MERCHANT_ID = "sandbox"

DEMO_CUSTOMERS = {
    "alice": {
        "password_env": "DEMO_ALICE_PASSWORD",
        "password": "alice-demo-2026",
        "first_name": "Alice",
        "email": "alice@example.com",
        "customer_ref": "cus_alice",
        "cards": [
            ("pm_alice_visa", "visa", "4242", True),
            ("pm_alice_decline", "visa", "0002", False),
            ("pm_alice_3ds", "mastercard", "3220", False),
        ],
        "addresses": [
            {
                "label": "Home",
                "recipient": "Alice Example",
                "line1": "1 Main St",
                "city": "Springfield",
                "region": "IL",
                "postal_code": "62701",
                "country": "US",
            },
            # The shop knows her work address too (sandbox_merchant/demo.py), and the docs' examples ship to it
            # ("ship to work"): without it, `make run`'s alice was told she had no address called "work".
            {
                "label": "Work",
                "recipient": "Alice Example",
                "line1": "500 Howard Street",
                "city": "San Francisco",
                "region": "CA",
                "postal_code": "94105",
                "country": "US",
            },
        ],
    },
    "bob": {
        "password_env": "DEMO_BOB_PASSWORD",
        "password": "bob-demo-2026",
        "first_name": "Bob",
        "email": "bob@example.com",
        "customer_ref": "cus_bob",
        "cards": [("pm_bob_visa", "visa", "1881", True)],
        "addresses": [
            {
                "label": "Home",
                "recipient": "Bob Example",
                "line1": "742 Evergreen Terrace",
                "city": "Portland",
                "region": "OR",
                "postal_code": "97201",
                "country": "US",
            }
        ],
    },
}
DEMO_CARD_EXPIRY = (12, 2030)


@dataclass(frozen=True)
class DemoCustomer:
    username: str
    password: str
    created: bool


def demo_wallet_give(*, user_id: int, spec: dict, extra_addresses: tuple[dict, ...] = ()) -> None:
    """Link a user to a demo customer of the sandbox shop and give them that customer's grants, cards and
    addresses (grants and addresses only when they have none; cards are added idempotently)."""
    consent_profile_ensure(user_id=user_id)
    merchant_account_link(
        user_id=user_id, merchant_id=SANDBOX_MERCHANT_ID, customer_ref=spec["customer_ref"], email=spec["email"]
    )
    if not grants_for_customer(user_id=user_id).exists():
        for scope in Scope.values:
            consent_grant(user_id=user_id, scope=scope, via=GrantChannel.SEED, actor_type=ActorType.SYSTEM)
    for vault_reference, brand, last4, default in spec["cards"]:
        payment_method_store(
            user_id=user_id,
            merchant_id=SANDBOX_MERCHANT_ID,
            card=StoredCard(
                vault_reference=vault_reference,
                brand=brand,
                last4=last4,
                exp_month=DEMO_CARD_EXPIRY[0],
                exp_year=DEMO_CARD_EXPIRY[1],
            ),
            make_default=default,
            actor_type=ActorType.SYSTEM,
        )
    if not addresses_for_customer(user_id=user_id).exists():
        for address in [*spec["addresses"], *extra_addresses]:
            address_add(user_id=user_id, actor_type=ActorType.SYSTEM, **address)


def consent_demo_seed() -> list[DemoCustomer]:
    """Create (or leave as they are) the demo customers and everything the assistant needs for them."""
    user_model = get_user_model()
    seeded = []
    for username, spec in DEMO_CUSTOMERS.items():
        password = os.environ.get(spec["password_env"], spec["password"])
        with transaction.atomic():
            user = user_model.objects.filter(username=username).first()
            created = user is None
            if created:
                user = user_model(username=username, email=spec["email"], first_name=spec["first_name"])
                user.set_password(password)
                user.save()
            demo_wallet_give(user_id=user.pk, spec=spec)
        seeded.append(DemoCustomer(username=username, password=password, created=created))
    return seeded
