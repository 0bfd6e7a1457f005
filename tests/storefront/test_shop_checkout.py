"""The storefront's own cart and checkout (the A/B experiment's control arm), through Django's test client,
against the sandbox merchant over real HTTP: prices from the merchant, one order per checkout however
often "Place order" is pressed, declines keep the cart, events in the customer's arm."""

from __future__ import annotations

import json
import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from consent.models import PaymentMethod
from ordering.models import ExperimentEvent, RolloutSettings
from ordering.rollout.assignment import assign_user, rollout_settings_forget
from sandbox_merchant.models import ShopCheckout, VaultCard
from tests.support.merchant_state import merchant_orders

pytestmark = pytest.mark.django_db(transaction=True)


def _phase(phase: int, assistant_percent: int = 50) -> None:
    RolloutSettings.objects.update_or_create(pk=1, defaults={"phase": phase, "assistant_percent": assistant_percent})
    rollout_settings_forget()


@pytest.fixture
def control_alice(shop):
    """alice signed in, in the experiment's control arm (phase 2, nobody gets the assistant)."""
    _phase(2, assistant_percent=0)
    client = Client()
    client.force_login(shop.alice)
    yield client
    RolloutSettings.objects.filter(pk=1).delete()
    rollout_settings_forget()


def _add(client, variant_id: str, quantity: int = 1):
    return client.post("/shop/cart/add", {"variant_id": variant_id, "quantity": quantity})


def _events(user) -> list[tuple]:
    return list(
        ExperimentEvent.objects.filter(customer=user)
        .order_by("id")
        .values_list("kind", "arm", "channel", "order_ref", "amount", "currency")
    )


def _expected_total(html: str) -> int:
    return int(re.search(r'name="expected_total" value="(\d+)"', html).group(1))


def _messages(client) -> list[str]:
    """The messages the shop's next page shows (templates/base.html)."""
    return re.findall(r'<p class="message message-\w+">([^<]*)</p>', client.get("/shop/checkout/").content.decode())


def _card_id(user, vault_reference: str) -> str:
    return f"saved:{PaymentMethod.objects.get(user=user, vault_reference=vault_reference).pk}"


def test_a_control_customer_buys_two_products_with_a_saved_card(shop, control_alice):
    alice = shop.alice
    # given two products in the cart (two of the blue runner)
    assert _add(control_alice, "var_blue_runner_42", 2).status_code == 302
    assert _add(control_alice, "var_steel_bottle_blue").status_code == 302
    cart = control_alice.get("/shop/cart/").content.decode()
    assert "Blue Runner" in cart and "Steel Bottle" in cart

    # when she opens checkout: the merchant priced the session for her default (home) address
    page = control_alice.get("/shop/checkout/")
    html = page.content.decode()
    assert page.status_code == 200
    checkout = ShopCheckout.objects.get(user=alice)
    session = shop.sandbox.get(f"/checkout_sessions/{checkout.checkout_session_id}").json()
    total = next(t["amount"] for t in session["totals"] if t["type"] == "total")
    assert _expected_total(html) == total
    assert f"${total / 100:,.2f}" in html
    assert "1 Main St" in html

    # and places the order with her Visa
    placed = control_alice.post(
        "/shop/checkout/place", {"card": _card_id(alice, "pm_alice_visa"), "expected_total": total}
    )

    # then she lands on the confirmation with the merchant's order number, and the merchant has the order
    assert placed.status_code == 302 and placed["Location"] == f"/shop/orders/{checkout.key}/"
    [order] = merchant_orders(customer="cus_alice")
    assert order.total == total and order.vault_reference == "pm_alice_visa"
    confirmation = control_alice.get(placed["Location"]).content.decode()
    checkout.refresh_from_db()
    assert checkout.order_id == order.id and checkout.order_number in confirmation
    assert "your order is placed" in confirmation
    # the cart is empty again
    assert "Your cart is empty" in control_alice.get("/shop/cart/").content.decode()
    # and the funnel was recorded in her arm, channel storefront, once each
    assert _events(alice) == [
        ("session_started", "control", "storefront", "", None, ""),
        ("checkout_started", "control", "storefront", "", None, ""),
        ("order_placed", "control", "storefront", order.id, total, "usd"),
    ]


def test_two_place_order_posts_at_once_place_one_order(shop, control_alice):
    alice = shop.alice
    _add(control_alice, "var_blue_runner_42")
    total = _expected_total(control_alice.get("/shop/checkout/").content.decode())
    checkout = ShopCheckout.objects.get(user=alice)
    # two browser tabs of the same session press "Place order" together
    cookies = control_alice.cookies
    barrier = threading.Barrier(2)
    answers: list = []

    def press():
        tab = Client()
        tab.cookies = cookies
        barrier.wait()
        try:
            answers.append(
                tab.post("/shop/checkout/place", {"card": _card_id(alice, "pm_alice_visa"), "expected_total": total})
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # both land on the order's page; the merchant took exactly one order, counted once
    assert sorted(answer["Location"] for answer in answers) == [f"/shop/orders/{checkout.key}/"] * 2
    assert len(merchant_orders(customer="cus_alice")) == 1
    assert ExperimentEvent.objects.filter(customer=alice, kind="order_placed").count() == 1
    checkout.refresh_from_db()
    assert checkout.status == "placed"
    # pressing it again later changes nothing either, and lands on the same order
    again = control_alice.post("/shop/checkout/place", {"card": _card_id(alice, "pm_alice_visa")})
    assert again.status_code == 302 and again["Location"] == f"/shop/orders/{checkout.key}/"
    assert len(merchant_orders(customer="cus_alice")) == 1


def test_a_second_press_after_the_order_went_through_shows_that_order_not_an_expired_checkout(shop, control_alice):
    # a double click whose second POST reaches the server after the first has placed the order and cleared the
    # cart: in a browser the second answer is the page the customer sees
    alice = shop.alice
    _add(control_alice, "var_blue_runner_42")
    total = _expected_total(control_alice.get("/shop/checkout/").content.decode())
    checkout = ShopCheckout.objects.get(user=alice)
    press = {"card": _card_id(alice, "pm_alice_visa"), "expected_total": total}

    first = control_alice.post("/shop/checkout/place", press)
    second = control_alice.post("/shop/checkout/place", press, follow=True)

    assert first["Location"] == f"/shop/orders/{checkout.key}/"
    assert second.redirect_chain == [(f"/shop/orders/{checkout.key}/", 302)]
    assert "expired" not in second.content.decode()
    assert len(merchant_orders(customer="cus_alice")) == 1
    # and a new visit to checkout starts a new cart, not that order again
    assert control_alice.get("/shop/checkout/", follow=True).redirect_chain != [(f"/shop/orders/{checkout.key}/", 302)]


def test_a_declined_card_says_so_keeps_the_cart_and_a_good_card_then_places_it(shop, control_alice):
    alice = shop.alice
    _add(control_alice, "var_blue_runner_42")
    total = _expected_total(control_alice.get("/shop/checkout/").content.decode())

    declined = control_alice.post(
        "/shop/checkout/place", {"card": _card_id(alice, "pm_alice_decline"), "expected_total": total}, follow=True
    )

    html = declined.content.decode()
    assert "was declined" in html and "Nothing was charged" in html
    assert merchant_orders(customer="cus_alice") == []
    assert "Blue Runner" in html  # still on checkout with the cart
    assert "Blue Runner" in control_alice.get("/shop/cart/").content.decode()
    assert ShopCheckout.objects.get(user=alice).status == "open"
    # then the Visa that works places it (a new attempt, its own idempotency keys)
    placed = control_alice.post(
        "/shop/checkout/place", {"card": _card_id(alice, "pm_alice_visa"), "expected_total": total}
    )
    assert placed.status_code == 302 and "/shop/orders/" in placed["Location"]
    assert len(merchant_orders(customer="cus_alice")) == 1


def _text_columns(rows) -> str:
    """The text and JSON columns of `rows`, where a card number or CVC would have been written."""
    return " ".join(
        value if isinstance(value, str) else json.dumps(value)
        for row in rows
        for value in row.values()
        if isinstance(value, str | dict | list)
    )


def test_a_typed_test_card_is_vaulted_without_its_number_and_pays(shop, control_alice, caplog):
    alice = shop.alice
    _add(control_alice, "var_blue_runner_42")
    total = _expected_total(control_alice.get("/shop/checkout/").content.decode())
    number = "5555 5555 5555 4444"

    placed = control_alice.post(
        "/shop/checkout/place",
        {
            "card": "new",
            "card_number": number,
            "exp_month": 12,
            "exp_year": 2031,
            "cvc": "737",
            "expected_total": total,
        },
    )

    # on a refusal, the checkout page's message says which of the shop's checks refused it (a flake seen once, #18)
    assert placed.status_code == 302 and "/shop/orders/" in placed["Location"], _messages(control_alice)
    [order] = merchant_orders(customer="cus_alice")
    card = VaultCard.objects.get(reference=order.vault_reference)
    assert (card.brand, card.last4, card.customer_id) == ("mastercard", "4444", "cus_alice")
    saved = PaymentMethod.objects.get(user=alice, vault_reference=card.reference)
    assert saved.last4 == "4444"
    # the number and CVC are nowhere: not in the vault, our rows, the session or the logs. The number is looked for
    # with the spaces or dashes between its digit groups taken out; the CVC as a value of its own, since a random hex
    # reference may well hold "737" (one did in a CI run: "…29dfb292b4737").
    for text in (_text_columns(VaultCard.objects.values()), _text_columns(PaymentMethod.objects.values()), caplog.text):
        assert "5555555555554444" not in re.sub(r"(?<=\d)[ -](?=\d)", "", text), text
        assert not re.search(r"(?<![0-9A-Za-z])737(?![0-9A-Za-z])", text), text


def test_a_typed_card_whose_new_vault_reference_would_hold_a_run_of_13_digits_still_pays(
    shop, control_alice, monkeypatch
):
    # given the shop's vault drawing, for the new card's reference, random hex with a run of 13 digits first: about
    # 1 draw in 125 does, and our wallet refuses any such reference as a possible card number (consent.models), so
    # the order was refused before any merchant call (a test that failed 1 run in 12, #18)
    draws = iter(["1234567890123abcdef4", "0a1b2c3d4e5f6a7b8c9d"])
    monkeypatch.setattr("sandbox_merchant.services.vault_reference_draw", lambda: next(draws))
    _add(control_alice, "var_blue_runner_42")
    total = _expected_total(control_alice.get("/shop/checkout/").content.decode())

    # when she pays with a test card typed on the page
    placed = control_alice.post(
        "/shop/checkout/place",
        {"card": "new", "card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}
        | {"expected_total": total},
    )

    # then the order is placed with the card under a reference drawn again, which the wallet took
    assert placed.status_code == 302 and "/shop/orders/" in placed["Location"], _messages(control_alice)
    [order] = merchant_orders(customer="cus_alice")
    assert order.vault_reference == "pm_0a1b2c3d4e5f6a7b8c9d"
    assert PaymentMethod.objects.filter(user=shop.alice, vault_reference=order.vault_reference).exists()


def test_a_card_number_that_is_no_test_card_is_refused_clearly(shop, control_alice):
    _add(control_alice, "var_blue_runner_42")
    control_alice.get("/shop/checkout/")

    answer = control_alice.post(
        "/shop/checkout/place",
        {"card": "new", "card_number": "4111 1111 1111 1112", "exp_month": 1, "exp_year": 2031, "cvc": "123"},
        follow=True,
    )

    assert "card number is not valid" in answer.content.decode()
    assert merchant_orders(customer="cus_alice") == []


def test_sold_out_at_the_merchant_is_shown_and_the_cart_kept(shop, control_alice):
    shop.sandbox.set_stock("var_blue_runner_42", 0)
    _add(control_alice, "var_blue_runner_42")

    html = control_alice.get("/shop/checkout/").content.decode()

    assert "out of stock" in html.lower() or "sold out" in html.lower()
    assert "Place order" not in html
    assert "Blue Runner" in control_alice.get("/shop/cart/").content.decode()


def test_the_merchant_down_is_a_clear_message_and_the_cart_stays(shop, control_alice):
    _add(control_alice, "var_blue_runner_42")
    shop.sandbox.add_fault("unavailable", operation="create")

    page = control_alice.get("/shop/checkout/")

    assert page.status_code == 503
    assert "not answering just now" in page.content.decode()
    assert "Blue Runner" in control_alice.get("/shop/cart/").content.decode()


def test_the_widget_is_only_for_the_assistant_arm(shop, control_alice):
    alice = shop.alice
    html = control_alice.get("/").content.decode()
    assert "widget/widget.js" not in html and "Add to cart" in html
    assert not assign_user(alice).assistant

    _phase(2, assistant_percent=100)
    html = control_alice.get("/").content.decode()
    assert "widget/widget.js" in html and "Add to cart" in html


def test_an_assistant_arm_customer_using_the_shop_checkout_counts_for_the_assistant_arm(shop, control_alice):
    _phase(2, assistant_percent=100)
    _add(control_alice, "var_blue_runner_42")
    control_alice.get("/shop/checkout/")

    assert {(kind, arm, channel) for kind, arm, channel, *_ in _events(shop.alice)} == {
        ("session_started", "assistant", "storefront"),
        ("checkout_started", "assistant", "storefront"),
    }


def test_pages_need_a_signed_in_customer_and_orders_are_private(shop, control_alice):
    assert Client().get("/shop/checkout/").status_code == 302
    assert Client().post("/shop/cart/add", {"variant_id": "var_blue_runner_42", "quantity": 1}).status_code in (
        302,
        403,
    )
    _add(control_alice, "var_blue_runner_42")
    control_alice.get("/shop/checkout/")
    checkout = ShopCheckout.objects.get(user=shop.alice)
    bob = Client()
    bob.force_login(get_user_model().objects.get(username="bob"))
    assert bob.get(f"/shop/orders/{checkout.key}/").status_code == 404


def test_a_placement_that_died_midway_is_finished_once_by_the_next_click(shop, control_alice):
    from datetime import timedelta

    from django.utils import timezone

    alice = shop.alice
    _add(control_alice, "var_blue_runner_42")
    total = _expected_total(control_alice.get("/shop/checkout/").content.decode())
    checkout = ShopCheckout.objects.get(user=alice)
    # given a "Place order" that claimed the checkout moments ago and is still talking to the shop
    ShopCheckout.objects.filter(pk=checkout.pk).update(status="placing", placing_since=timezone.now())
    card = _card_id(alice, "pm_alice_visa")

    # a second click waits for it: no call to the shop, the order page says it is being placed
    busy = control_alice.post("/shop/checkout/place", {"card": card, "expected_total": total}, follow=True)
    assert "being placed" in busy.content.decode()
    assert merchant_orders(customer="cus_alice") == []

    # when the first one died (its claim is older than PLACING_STALE_SECONDS), the next click finishes it, once
    ShopCheckout.objects.filter(pk=checkout.pk).update(placing_since=timezone.now() - timedelta(minutes=5))
    placed = control_alice.post("/shop/checkout/place", {"card": card, "expected_total": total}, follow=True)
    assert "your order is placed" in placed.content.decode()
    assert len(merchant_orders(customer="cus_alice")) == 1
    assert ExperimentEvent.objects.filter(customer=alice, kind="order_placed").count() == 1


def test_a_price_change_at_the_merchant_charges_nothing_and_shows_the_new_total(shop, control_alice):
    alice = shop.alice
    _add(control_alice, "var_blue_runner_42")
    total = _expected_total(control_alice.get("/shop/checkout/").content.decode())
    shop.sandbox.add_fault("price_change", operation="complete", times=1)

    answer = control_alice.post(
        "/shop/checkout/place", {"card": _card_id(alice, "pm_alice_visa"), "expected_total": total}, follow=True
    )

    html = answer.content.decode()
    assert "prices changed" in html and "Nothing was charged" in html
    assert merchant_orders(customer="cus_alice") == []
    new_total = _expected_total(html)
    assert new_total > total  # the page now shows the merchant's new total, to place again
    placed = control_alice.post(
        "/shop/checkout/place", {"card": _card_id(alice, "pm_alice_visa"), "expected_total": new_total}
    )
    assert "/shop/orders/" in placed["Location"]
    [order] = merchant_orders(customer="cus_alice")
    assert order.total == new_total
