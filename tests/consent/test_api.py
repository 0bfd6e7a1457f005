"""The consent JSON API under /api/v1/: the widget's view of the settings page."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from consent.models import ConsentGrant, GrantStatus, PaymentMethod, Scope
from tests.consent.factories import address, card, grant


def test_the_api_requires_a_signed_in_customer(db):
    response = APIClient().get("/api/v1/consent/grants/")

    assert response.status_code == 403
    assert response.json()["error"] == "not_authenticated"


def test_grants_are_listed_and_revoked(alice_api, alice):
    granted = grant(alice)

    listed = alice_api.get("/api/v1/consent/grants/").json()["results"]
    assert [(item["id"], item["scope"], item["status"], item["revocable"]) for item in listed] == [
        (granted.pk, "place_orders", "active", True)
    ]

    response = alice_api.post(f"/api/v1/consent/grants/{granted.pk}/revoke/", {"reason": "changed my mind"})

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert ConsentGrant.objects.get(pk=granted.pk).status == GrantStatus.REVOKED
    event = AuditEvent.objects.get(action="consent.grant_revoked")
    assert event.origin_channel == "api"
    assert event.data["reason"] == "changed my mind"


def test_a_grant_is_created_and_bad_scopes_get_a_clear_400(alice_api):
    created = alice_api.post("/api/v1/consent/grants/", {"scope": "use_saved_address"}, format="json")
    assert created.status_code == 201
    assert created.json()["scope"] == "use_saved_address"

    response = alice_api.post("/api/v1/consent/grants/", {"scope": "empty_my_bank_account"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert response.json()["message"].startswith("Scope:")
    past = alice_api.post(
        "/api/v1/consent/grants/", {"scope": "place_orders", "expires_at": "2020-01-01T00:00:00Z"}, format="json"
    )
    assert past.status_code == 400
    assert past.json() == {
        "error": "invalid_grant",
        "message": "The expiry must be in the future.",
        "scope": "place_orders",
    }


def test_the_api_enforces_csrf_for_session_auth(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    granted = grant(alice)

    response = client.post(f"/api/v1/consent/grants/{granted.pk}/revoke/")

    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert ConsentGrant.objects.get(pk=granted.pk).status == GrantStatus.ACTIVE


def test_caps_are_read_and_lowered(alice_api):
    caps = alice_api.get("/api/v1/consent/caps/").json()
    assert caps["currency"] == "USD"
    assert caps["caps"]["per_day"] == {
        "label": "Per day",
        "ceiling": 100_000,
        "chosen": None,
        "effective": 100_000,
        "effective_display": "$1,000.00",
        "used": 0,
    }

    response = alice_api.patch("/api/v1/consent/caps/", {"per_day": 20_000, "auto_checkout_threshold": 1_500}, "json")

    assert response.status_code == 200
    assert response.json()["caps"]["per_day"]["effective"] == 20_000
    assert response.json()["auto_checkout_threshold"] == 1_500


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"per_month": 300_001}, "The monthly cap can be at most $3,000.00; you asked for $3,000.01."),
        ({"auto_checkout_threshold": 5_001}, "The auto-checkout threshold can be at most $50.00"),
        ({"per_order": -1}, "Per order: Ensure this value is greater than or equal to 0."),
        ({}, "Send at least one of"),
    ],
)
def test_caps_above_the_ceiling_get_a_400_a_person_understands(alice_api, body, message):
    response = alice_api.patch("/api/v1/consent/caps/", body, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith(message)
    assert alice_api.get("/api/v1/consent/caps/").json()["caps"]["per_month"]["chosen"] is None


def test_a_cap_can_go_back_up_to_the_ceiling_but_not_beyond(alice_api):
    alice_api.patch("/api/v1/consent/caps/", {"per_order": 1_000}, format="json")

    assert alice_api.patch("/api/v1/consent/caps/", {"per_order": 50_000}, format="json").status_code == 200
    assert alice_api.patch("/api/v1/consent/caps/", {"per_order": None}, format="json").status_code == 200
    assert alice_api.patch("/api/v1/consent/caps/", {"per_order": 50_001}, format="json").status_code == 400


def test_a_payment_method_is_added_by_vault_reference_and_listed_masked(alice_api, alice, vault):
    vault.link(alice)
    response = alice_api.post("/api/v1/consent/payment-methods/", {"vault_reference": "pm_alice_visa"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["display"] == "Visa •••• 4242"
    assert body["is_default"] is True
    assert "vault_reference" not in body
    listed = alice_api.get("/api/v1/consent/payment-methods/").json()["results"]
    assert [item["display"] for item in listed] == ["Visa •••• 4242"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"number": "4242424242424242", "cvc": "123"}, "We never accept card numbers"),
        ({"vault_reference": "pm_4242424242424242"}, "Vault reference: This looks like a card number"),
        ({"vault_reference": "4242424242424242"}, "Vault reference: A vault reference looks like 'pm_…'"),
        ({"nickname": "4242424242424242"}, "Nickname: This looks like a card number"),
        ({"last4": "4242"}, "Send only the card's vault reference"),
    ],
)
def test_card_data_is_refused_and_never_echoed(alice_api, body, message):
    payload = {"vault_reference": "pm_ok", **body}

    response = alice_api.post("/api/v1/consent/payment-methods/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith(message)
    assert "4242424242424242" not in response.content.decode()
    assert not PaymentMethod.objects.exists()


def test_payment_methods_can_be_made_default_and_removed(alice_api, alice):
    first = card(alice, "pm_one", "1111")
    second = card(alice, "pm_two", "2222")

    assert alice_api.post(f"/api/v1/consent/payment-methods/{second.pk}/default/").json()["is_default"] is True
    assert alice_api.delete(f"/api/v1/consent/payment-methods/{second.pk}/").status_code == 204

    listed = alice_api.get("/api/v1/consent/payment-methods/").json()["results"]
    assert [(item["id"], item["is_default"]) for item in listed] == [(first.pk, True)]


def test_addresses_are_added_listed_and_removed(alice_api):
    response = alice_api.post(
        "/api/v1/consent/addresses/",
        {
            "label": "Home",
            "recipient": "Alice Example",
            "line1": "1 Main St",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62701",
            "country": "US",
        },
        format="json",
    )
    assert response.status_code == 201
    address_id = response.json()["id"]
    assert response.json()["display"] == "1 Main St, Springfield, IL 62701, US"

    bad = alice_api.post("/api/v1/consent/addresses/", {"label": "Nowhere"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["message"] == "Recipient: This field is required."

    assert alice_api.delete(f"/api/v1/consent/addresses/{address_id}/").status_code == 204
    assert alice_api.get("/api/v1/consent/addresses/").json()["results"] == []


def test_another_customers_grants_cards_addresses_and_activity_are_404(alice_api, bob):
    bobs_grant = grant(bob)
    bobs_card = card(bob, "pm_bob_visa", "1881")
    bobs_address = address(bob)
    bobs_event = AuditEvent.objects.filter(customer_id=bob.pk).first()

    for method, url in [
        ("get", f"/api/v1/consent/grants/{bobs_grant.pk}/"),
        ("post", f"/api/v1/consent/grants/{bobs_grant.pk}/revoke/"),
        ("get", f"/api/v1/consent/payment-methods/{bobs_card.pk}/"),
        ("post", f"/api/v1/consent/payment-methods/{bobs_card.pk}/default/"),
        ("delete", f"/api/v1/consent/payment-methods/{bobs_card.pk}/"),
        ("get", f"/api/v1/consent/addresses/{bobs_address.pk}/"),
        ("delete", f"/api/v1/consent/addresses/{bobs_address.pk}/"),
        ("get", f"/api/v1/activity/{bobs_event.pk}/"),
    ]:
        response = getattr(alice_api, method)(url)
        assert response.status_code == 404, url
        assert response.json() == {"error": "not_found", "message": "Not found."}

    assert alice_api.get("/api/v1/consent/grants/").json()["results"] == []
    assert alice_api.get("/api/v1/consent/payment-methods/").json()["results"] == []
    assert alice_api.get("/api/v1/activity/").json()["results"] == []
    bobs_grant.refresh_from_db()
    assert bobs_grant.status == GrantStatus.ACTIVE


def test_the_activity_log_is_the_customers_own_newest_first_and_pages(alice_api, alice, bob):
    grant(bob)
    for scope in Scope.values:
        grant(alice, scope)

    first_page = alice_api.get("/api/v1/activity/?limit=2").json()
    rest = alice_api.get(f"/api/v1/activity/?before={first_page['next_before']}").json()

    events = first_page["results"] + rest["results"]
    assert [event["text"] for event in events] == [
        "You allowed the assistant to ship to your saved addresses",
        "You allowed the assistant to pay with your saved cards",
        "You allowed the assistant to place orders for you",
    ]
    assert events[0]["kind"] == "permission_granted"
    assert rest["next_before"] is None
    assert alice_api.get("/api/v1/activity/?limit=lots").status_code == 400


def test_the_consent_api_is_fully_described_in_the_openapi_schema(db):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)

    ours = [path for path in schema["paths"] if path.startswith(("/api/v1/consent/", "/api/v1/activity/"))]
    assert len(ours) == 16
    assert "results" in schema["components"]["schemas"]["GrantList"]["properties"]
    complaints = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert [message for message in complaints if "consent/" in message or "Activity" in message] == []


def test_caps_show_used_spend_per_window_and_for_a_named_chat_session(alice_api, alice):
    from consent.services.ledger import spend_reserve

    spend_reserve(user_id=alice.pk, amount=7_110, currency="USD", flow_reference="f1", chat_session_reference="chat-9")

    overall = alice_api.get("/api/v1/consent/caps/").json()["caps"]
    in_chat = alice_api.get("/api/v1/consent/caps/?chat_session=chat-9").json()["caps"]

    assert (overall["per_day"]["used"], overall["per_month"]["used"], overall["per_session"]["used"]) == (
        7_110,
        7_110,
        None,
    )
    assert in_chat["per_session"]["used"] == 7_110
    assert overall["per_order"]["used"] is None


def test_adding_the_same_card_twice_saves_it_once(alice_api, alice, vault):
    vault.link(alice)
    body = {"vault_reference": "pm_alice_visa"}

    first = alice_api.post("/api/v1/consent/payment-methods/", body, format="json")
    second = alice_api.post("/api/v1/consent/payment-methods/", body, format="json")

    assert first.json()["id"] == second.json()["id"]
    assert PaymentMethod.objects.count() == 1
    assert AuditEvent.objects.filter(action="consent.payment_method_added").count() == 1
