"""The account holder's settings page: login, what it shows, and changes through real CSRF-checked POSTs."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from audit.models import AuditEvent
from consent.exceptions import ConsentRevoked
from consent.models import ConsentGrant, GrantStatus, PaymentMethod, Scope, SecurityNotice
from consent.selectors import consent_require
from consent.services.grants import spend_caps_set
from tests.consent.factories import PASSWORD, address, card, grant


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.fixture
def alice_account(alice):
    granted = {scope: grant(alice, scope) for scope in Scope.values}
    card(alice, "pm_alice_visa", "4242")
    card(alice, "pm_alice_3ds", "3220", brand="mastercard")
    address(alice, "Home")
    return granted


def login(client: Client, username: str = "alice") -> None:
    page = client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(page.content.decode())},
    )
    assert response.status_code == 302, response.content


def test_the_page_requires_login(client):
    response = client.get("/settings/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/settings/")


def test_the_login_page_signs_a_customer_in_with_csrf(alice):
    client = Client(enforce_csrf_checks=True)
    login(client)

    assert client.get("/settings/").status_code == 200


def test_the_page_shows_grants_caps_cards_addresses_stepup_and_activity(alice_account, alice):
    client = Client(enforce_csrf_checks=True)
    login(client)

    response = client.get("/settings/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Place orders for me" in html and "Revoke" in html
    assert "Per order" in html and "$500.00" in html  # the per-order ceiling
    assert "Visa •••• 4242" in html and "Mastercard •••• 3220" in html
    assert "pm_alice_visa" not in html  # vault references stay server-side
    assert "1 Main St" in html and "Springfield" in html
    assert "Set up an authenticator app" in html
    assert "Your activity" in html
    assert "You allowed the assistant to place orders for you" in html
    assert "You saved your Visa card ending 4242" in html


def test_revoking_through_a_real_post_with_csrf_stops_the_assistant(alice_account, alice):
    client = Client(enforce_csrf_checks=True)
    login(client)
    page = client.get("/settings/").content.decode()
    grant_id = alice_account[Scope.PLACE_ORDERS].pk
    assert f'action="/settings/grants/{grant_id}/revoke/"' in page

    response = client.post(f"/settings/grants/{grant_id}/revoke/", {"csrfmiddlewaretoken": csrf_token(page)})

    assert response.status_code == 302
    assert ConsentGrant.objects.get(pk=grant_id).status == GrantStatus.REVOKED
    with pytest.raises(ConsentRevoked):
        consent_require(user_id=alice.pk)
    after = client.get(response["Location"]).content.decode()
    assert "Revoked: “Place orders for me”" in after
    assert "You revoked the assistant&#x27;s permission to place orders for you" in after  # in the activity log
    event = AuditEvent.objects.filter(action="consent.grant_revoked").get()
    assert event.origin_channel == "web"
    assert event.customer_id == alice.pk


def test_a_post_without_the_csrf_token_is_refused(alice_account, alice):
    client = Client(enforce_csrf_checks=True)
    login(client)
    grant_id = alice_account[Scope.PLACE_ORDERS].pk

    response = client.post(f"/settings/grants/{grant_id}/revoke/")

    assert response.status_code == 403
    assert ConsentGrant.objects.get(pk=grant_id).status == GrantStatus.ACTIVE


def test_a_revoked_scope_can_be_allowed_again_from_the_page(alice_account, alice_client, alice):
    grant_id = alice_account[Scope.PLACE_ORDERS].pk
    alice_client.post(f"/settings/grants/{grant_id}/revoke/")

    alice_client.post("/settings/grants/", {"scope": "place_orders"})

    consent_require(user_id=alice.pk)


def test_caps_can_be_lowered_but_not_raised_above_the_ceiling(alice_client, alice):
    response = alice_client.post("/settings/caps/", {"per_day": "250.00"}, follow=True)
    assert "Your spending caps are saved." in response.content.decode()
    assert alice.consent_profile.cap_per_day == 25_000

    response = alice_client.post("/settings/caps/", {"per_day": "1000.01"}, follow=True)

    html = response.content.decode()
    assert "The daily cap can be at most $1,000.00" in html
    alice.consent_profile.refresh_from_db()
    assert alice.consent_profile.cap_per_day == 25_000


def test_the_auto_checkout_threshold_is_saved_and_bounded(alice_client, alice):
    alice_client.post("/settings/auto-checkout/", {"threshold": "20.00"})
    alice.refresh_from_db()
    assert alice.consent_profile.auto_checkout_threshold == 2_000

    response = alice_client.post("/settings/auto-checkout/", {"threshold": "51.00"}, follow=True)

    assert "at most $50.00" in response.content.decode()
    alice.consent_profile.refresh_from_db()
    assert alice.consent_profile.auto_checkout_threshold == 2_000


def test_the_threshold_follows_a_lowered_per_order_cap(alice_client, alice):
    alice_client.post("/settings/auto-checkout/", {"threshold": "40.00"})
    spend_caps_set(user_id=alice.pk, caps={"per_order": 3_000})

    from consent.selectors import auto_checkout_threshold

    assert auto_checkout_threshold(user_id=alice.pk) == 3_000


def test_cards_and_addresses_are_managed_from_the_page(alice_account, alice_client, alice):
    mastercard = PaymentMethod.objects.get(vault_reference="pm_alice_3ds")
    alice_client.post(f"/settings/payment-methods/{mastercard.pk}/default/")
    mastercard.refresh_from_db()
    assert mastercard.is_default

    alice_client.post(f"/settings/payment-methods/{mastercard.pk}/remove/")
    mastercard.refresh_from_db()
    assert mastercard.removed_at is not None
    assert PaymentMethod.objects.get(vault_reference="pm_alice_visa").is_default  # the default moved on

    response = alice_client.post(
        "/settings/addresses/",
        {
            "label": "Work",
            "recipient": "Alice",
            "line1": "2 Side St",
            "city": "Chicago",
            "region": "IL",
            "postal_code": "60601",
            "country": "us",
        },
        follow=True,
    )
    assert "Address “Work” saved." in response.content.decode()
    assert alice.saved_addresses.filter(label="Work", country="US").exists()


def test_another_customers_objects_are_404_on_the_page(alice_client, bob):
    bobs_grant = grant(bob)
    bobs_card = card(bob, "pm_bob_visa", "1881")
    bobs_address = address(bob)
    bobs_event = AuditEvent.objects.filter(customer_id=bob.pk).first()

    assert alice_client.post(f"/settings/grants/{bobs_grant.pk}/revoke/").status_code == 404
    assert alice_client.post(f"/settings/payment-methods/{bobs_card.pk}/remove/").status_code == 404
    assert alice_client.post(f"/settings/payment-methods/{bobs_card.pk}/default/").status_code == 404
    assert alice_client.post(f"/settings/addresses/{bobs_address.pk}/remove/").status_code == 404
    assert alice_client.get(f"/settings/activity/{bobs_event.pk}/").status_code == 404
    bobs_grant.refresh_from_db()
    assert bobs_grant.status == GrantStatus.ACTIVE
    assert "Visa •••• 1881" not in alice_client.get("/settings/").content.decode()


def test_an_own_activity_event_has_a_detail_page(alice_client, alice):
    grant(alice)
    event = AuditEvent.objects.filter(customer_id=alice.pk).get()

    response = alice_client.get(f"/settings/activity/{event.pk}/")

    assert response.status_code == 200
    assert "You allowed the assistant to place orders for you" in response.content.decode()


def test_the_stylesheet_is_served_by_us(client):
    response = client.get("/static/consent/consent.css")

    assert response.status_code == 200
    assert b"--accent" in b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "path",
    ["/settings/caps/", "/settings/grants/1/revoke/", "/settings/addresses/", "/settings/payment-methods/1/remove/"],
)
def test_a_form_sent_after_the_session_ended_signs_in_and_comes_back_to_the_page(alice, path):
    # The session ended while the page was open (another tab signed out, the session expired): the form's
    # post was sent to sign in with next=<the form's address>, and after signing in the browser asked that
    # address with GET: 405, a blank page, and no word that nothing had been changed.
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/").content.decode()

    sent = client.post(path, {"per_order": "10", "csrfmiddlewaretoken": csrf_token(page)}, follow=True)

    html = sent.content.decode()
    assert sent.redirect_chain[-1][0].startswith("/accounts/login/?next=/settings/")
    assert "You were signed out, so nothing was changed" in html
    signed_in = client.post(
        sent.redirect_chain[-1][0],
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(html)},
        follow=True,
    )
    assert signed_in.status_code == 200
    assert signed_in.redirect_chain[-1][0] == "/settings/"
    assert "What the assistant may do for you" in signed_in.content.decode()
    assert AuditEvent.objects.filter(customer_id=alice.pk, action__startswith="consent.caps").count() == 0


@pytest.mark.parametrize(
    ("kind", "action", "said"),
    [
        ("card", "remove", "Visa •••• 4242 was already removed."),
        ("card", "default", "Visa •••• 4242 was removed, so it cannot be your default card."),
        ("address", "remove", "The address “Home” was already removed."),
        ("address", "default", "The address “Home” was removed, so it cannot be your default address."),
    ],
)
def test_a_card_or_address_removed_in_another_tab_is_answered_on_the_page(alice, alice_client, kind, action, said):
    # The same page open in two tabs: removed in one, then Remove or Make default clicked in the other.
    # It was a bare "Not Found" page, as if the card had never been the customer's.
    row = card(alice, "pm_alice_visa", "4242") if kind == "card" else address(alice, "Home")
    base = "/settings/payment-methods" if kind == "card" else "/settings/addresses"
    alice_client.post(f"{base}/{row.pk}/remove/")
    events = AuditEvent.objects.filter(customer_id=alice.pk).count()

    response = alice_client.post(f"{base}/{row.pk}/{action}/", follow=True)

    assert response.status_code == 200
    assert said in response.content.decode()
    assert AuditEvent.objects.filter(customer_id=alice.pk).count() == events  # nothing changed, nothing written


HOME = {
    "label": "Home",
    "recipient": "Alice",
    "line1": "1 Main St",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62701",
    "country": "us",
}


def test_an_address_form_sent_twice_saves_one_address(alice, alice_client):
    # A double click on "Save address" (or Back and send again) saved the address twice: two identical
    # "Home" rows on the page, two activity entries and two security e-mails.
    first = alice_client.post("/settings/addresses/", HOME, follow=True)
    second = alice_client.post("/settings/addresses/", {**HOME, "line1": " 1 Main St ", "country": "US"}, follow=True)

    assert "Address “Home” saved." in first.content.decode()
    assert "Address “Home” saved." in second.content.decode()
    assert alice.saved_addresses.filter(removed_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(customer_id=alice.pk, action="consent.address_added").count() == 1
    assert SecurityNotice.objects.filter(user=alice).count() == 1
    other = alice_client.post("/settings/addresses/", {**HOME, "line2": "Apt 2"}, follow=True)
    assert "Address “Home” saved." in other.content.decode()
    assert alice.saved_addresses.filter(removed_at__isnull=True).count() == 2  # another flat is another address


def test_revoke_on_a_stale_page_after_the_permission_was_allowed_again_does_not_claim_it_stopped(
    alice_account, alice_client, alice
):
    # Tab A revokes "Place orders for me" and allows it again; tab B, still showing the first grant, clicks
    # Revoke: the page said 'Revoked … The assistant stopped at once.' while the new grant stayed active.
    first = alice_account[Scope.PLACE_ORDERS]
    alice_client.post(f"/settings/grants/{first.pk}/revoke/", follow=True)
    alice_client.post("/settings/grants/", {"scope": "place_orders"}, follow=True)

    response = alice_client.post(f"/settings/grants/{first.pk}/revoke/", follow=True)

    html = response.content.decode()
    assert "The assistant stopped at once" not in html
    assert "“Place orders for me” was allowed again after you revoked it, so it is allowed now" in html
    consent_require(user_id=alice.pk)  # still allowed: nothing was revoked behind the customer's back either

    current = ConsentGrant.objects.get(user=alice, status=GrantStatus.ACTIVE, scope=Scope.PLACE_ORDERS)
    alice_client.post(f"/settings/grants/{current.pk}/revoke/", follow=True)
    again = alice_client.post(f"/settings/grants/{first.pk}/revoke/", follow=True)
    assert "“Place orders for me” was already revoked." in again.content.decode()


def test_an_expired_permission_can_be_allowed_again_from_the_page(alice, alice_client):
    # A grant given with an expiry (through the API or the chat) that ran out showed "Expired" with only a
    # Revoke button: to allow it again the customer had to revoke what had already stopped, then Allow.
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    given = grant(alice, Scope.PLACE_ORDERS, expires_at=timezone.now() + timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        page = alice_client.get("/settings/").content.decode()
        assert 'aria-label="Allow again: Place orders for me"' in page
        assert 'aria-label="Revoke: Place orders for me"' not in page

        response = alice_client.post("/settings/grants/", {"scope": "place_orders"}, follow=True)

        assert "Granted: “Place orders for me”." in response.content.decode()
        consent_require(user_id=alice.pk)
    given.refresh_from_db()
    assert given.status == GrantStatus.SUPERSEDED


def _address_field(html: str, name: str) -> str:
    field = re.search(rf'<input [^>]*name="{name}"[^>]*>', html).group(0)
    value = re.search(r'value="([^"]*)"', field)
    return value.group(1) if value else ""


def test_a_refused_new_address_keeps_what_was_typed_once(alice, alice_client):
    # A postal code too long: the page said why and gave back an empty form, the whole address to type again.
    typed = {**HOME, "line1": "221 Baker Street", "postal_code": "9" * 30}

    refused = alice_client.post("/settings/addresses/", typed, follow=True).content.decode()
    again = alice_client.get("/settings/").content.decode()

    assert "ZIP / postal code:" in refused
    assert _address_field(refused, "line1") == "221 Baker Street"
    assert _address_field(refused, "city") == HOME["city"]
    assert _address_field(refused, "postal_code") == "9" * 20  # as much as the field takes
    assert _address_field(again, "line1") == ""  # once
    assert not alice.saved_addresses.exists()

    # refused by the service (the form takes any two characters, the address a two-letter code): kept too
    by_service = alice_client.post(
        "/settings/addresses/", {**typed, "postal_code": "12345", "country": "u1"}, follow=True
    )
    assert "Use a two-letter code." in by_service.content.decode()
    assert _address_field(by_service.content.decode(), "line1") == "221 Baker Street"
    assert not alice.saved_addresses.exists()
    # saved: the form is empty again
    saved = alice_client.post("/settings/addresses/", {**typed, "postal_code": "12345"}, follow=True).content.decode()
    assert "Address “Home” saved." in saved and _address_field(saved, "line1") == ""
