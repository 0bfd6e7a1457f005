"""Cards are saved by the merchant's reference only; the merchant (the sandbox, over real HTTP) confirms the
card is this customer's and says what it is (brand, last four, expiry)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from audit.models import AuditEvent
from consent.activity import activity_page
from consent.exceptions import PaymentMethodNotAtMerchant
from consent.models import PaymentMethod
from consent.services.wallet import payment_method_add
from sandbox_merchant.models import VaultCard

pytestmark = pytest.mark.postgres


def _refusals() -> list[dict]:
    return [
        event.data
        for event in AuditEvent.objects.filter(action="consent.payment_method_refused", outcome="denied").order_by("pk")
    ]


def test_brand_last_four_and_expiry_come_from_the_merchant(alice_api, alice, vault):
    # given the shop's vault holds a card of alice's that we know nothing about
    VaultCard.objects.create(
        reference="pm_alice_amex", customer_id="cus_alice", brand="amex", last4="0005", exp_month=7, exp_year=2031
    )
    vault.link(alice)

    response = alice_api.post(
        "/api/v1/consent/payment-methods/",
        {"vault_reference": "pm_alice_amex", "nickname": "travel card"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["brand"], body["last4"], body["exp_month"], body["exp_year"]) == ("amex", "0005", 7, 2031)
    assert (body["display"], body["nickname"]) == ("American Express •••• 0005", "travel card")
    # the merchant was asked, over HTTP, about alice's customer at the shop
    assert [request.path for request in vault.received_requests("/customers/")] == [
        "/sandbox-merchant/customers/cus_alice"
    ]


def test_the_request_cannot_say_what_the_card_is(alice_api, alice, vault):
    vault.link(alice)

    response = alice_api.post(
        "/api/v1/consent/payment-methods/",
        {"vault_reference": "pm_alice_visa", "brand": "amex", "last4": "9999", "exp_month": 1, "exp_year": 2040},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_payment_method"
    assert response.json()["message"].startswith("Send only the card's vault reference")
    assert not PaymentMethod.objects.exists()


@pytest.mark.parametrize(
    "reference",
    [
        "pm_bob_visa",  # another customer's card at the same shop
        "pm_nobody_has_this",  # no such card at all
    ],
)
def test_a_card_the_merchant_does_not_confirm_as_theirs_is_refused(alice_api, alice, vault, reference):
    vault.link(alice)

    response = alice_api.post("/api/v1/consent/payment-methods/", {"vault_reference": reference}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "payment_method_not_found_at_merchant"
    assert response.json()["message"].startswith("The shop does not know this card as one of yours.")
    assert not PaymentMethod.objects.exists()
    assert _refusals() == [{"merchant_id": "sandbox", "vault_reference": reference, "reason": "not_yours"}]
    assert not AuditEvent.objects.filter(action="consent.payment_method_added").exists()
    # the account holder sees the attempt in their activity, without the reference it named
    shown = [entry.text for entry in activity_page(user_id=alice.pk, limit=10)[0]]
    assert "A card was not saved: the shop did not confirm it is yours" in shown
    assert not any(reference in text for text in shown)


def test_without_a_shop_account_no_card_can_be_confirmed(alice_api, alice, vault):
    response = alice_api.post("/api/v1/consent/payment-methods/", {"vault_reference": "pm_alice_visa"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "merchant_account_missing"
    assert "not linked to the shop" in response.json()["message"]
    assert not PaymentMethod.objects.exists()
    assert _refusals()[0]["reason"] == "no_account"
    shown = [entry.text for entry in activity_page(user_id=alice.pk, limit=10)[0]]
    assert "A card was not saved: your account is not linked to the shop yet" in shown
    assert vault.received_requests("/customers/") == []


def test_a_shop_that_cannot_answer_saves_nothing_and_says_try_again(alice_api, alice, vault):
    vault.link(alice)
    vault.add_fault("server_error", operation="customer")

    response = alice_api.post("/api/v1/consent/payment-methods/", {"vault_reference": "pm_alice_visa"}, format="json")

    assert response.status_code == 503
    assert response.json()["error"] == "merchant_vault_unavailable"
    assert "try again" in response.json()["message"]
    assert not PaymentMethod.objects.exists()


def test_a_card_is_added_on_the_settings_page_by_its_reference(alice_client, alice, vault):
    vault.link(alice)

    page = alice_client.get("/settings/").content.decode()
    assert 'name="vault_reference"' in page and 'name="last4"' not in page

    saved = alice_client.post(
        "/settings/payment-methods/", {"vault_reference": "pm_alice_3ds", "nickname": "Work"}, follow=True
    ).content.decode()
    assert "Mastercard •••• 3220 saved." in saved
    assert "Work" in saved

    refused = alice_client.post("/settings/payment-methods/", {"vault_reference": "pm_bob_visa"}, follow=True)
    assert "The shop does not know this card as one of yours." in refused.content.decode()
    assert list(PaymentMethod.objects.filter(user=alice).values_list("vault_reference", flat=True)) == ["pm_alice_3ds"]


def test_the_service_refuses_another_customers_card_directly(alice, vault):
    vault.link(alice)

    with pytest.raises(PaymentMethodNotAtMerchant):
        payment_method_add(user_id=alice.pk, merchant_id="sandbox", vault_reference="pm_bob_visa")


def test_two_submissions_of_the_same_card_at_once_save_it_once(alice, vault):
    vault.link(alice)
    start = threading.Barrier(2)
    saved, errors = [], []

    def submit():
        try:
            start.wait(timeout=10)
            saved.append(payment_method_add(user_id=alice.pk, merchant_id="sandbox", vault_reference="pm_alice_visa"))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len({method.pk for method in saved}) == 1
    assert PaymentMethod.objects.filter(user=alice).count() == 1
    assert AuditEvent.objects.filter(action="consent.payment_method_added").count() == 1
