"""Demo data: alice and bob with grants, sandbox vault cards, addresses and their merchant accounts."""

from __future__ import annotations

import io

from django.contrib.auth import authenticate
from django.core.management import call_command

from consent.demo import consent_demo_seed
from consent.models import Address, ConsentGrant, MerchantAccount, PaymentMethod
from consent.selectors import (
    address_default,
    consent_require,
    merchant_account_for_customer,
    payment_method_default,
    payment_methods_for_customer,
)


def test_the_demo_customers_are_seeded_once(db):
    first = consent_demo_seed()
    counts = [model.objects.count() for model in (ConsentGrant, PaymentMethod, Address, MerchantAccount)]
    again = consent_demo_seed()

    assert [customer.created for customer in first] == [True, True]
    assert [customer.created for customer in again] == [False, False]
    assert [model.objects.count() for model in (ConsentGrant, PaymentMethod, Address, MerchantAccount)] == counts
    alice = authenticate(username="alice", password="alice-demo-2026")
    bob = authenticate(username="bob", password="bob-demo-2026")
    assert alice is not None and bob is not None

    assert [m.vault_reference for m in payment_methods_for_customer(user_id=alice.pk)] == [
        "pm_alice_visa",
        "pm_alice_decline",
        "pm_alice_3ds",
    ]
    assert payment_method_default(user_id=alice.pk).masked == "Visa •••• 4242"
    assert payment_method_default(user_id=bob.pk).masked == "Visa •••• 1881"
    assert PaymentMethod.objects.get(vault_reference="pm_alice_3ds").masked == "Mastercard •••• 3220"
    assert PaymentMethod.objects.get(vault_reference="pm_alice_decline").last4 == "0002"
    home = address_default(user_id=alice.pk)
    assert (home.label, home.line1, home.city, home.region, home.postal_code, home.country) == (
        "Home",
        "1 Main St",
        "Springfield",
        "IL",
        "62701",
        "US",
    )
    assert address_default(user_id=bob.pk).country == "US"
    account = merchant_account_for_customer(user_id=alice.pk, merchant_id="sandbox")
    assert (account.customer_ref, account.email) == ("cus_alice", "alice@example.com")
    assert merchant_account_for_customer(user_id=bob.pk, merchant_id="sandbox").customer_ref == "cus_bob"
    consent_require(user_id=alice.pk, scopes=["place_orders", "use_saved_payment", "use_saved_address"])


def test_seed_demo_prints_the_customer_logins(db, settings):
    settings.DEBUG = True
    out = io.StringIO()

    call_command("seed_demo", stdout=out)

    assert "Demo customer login: alice / alice-demo-2026" in out.getvalue()
    assert "Demo customer login: bob / bob-demo-2026" in out.getvalue()
