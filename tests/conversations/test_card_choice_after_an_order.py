"""The card chosen in a chat, after its order (a hands-on walkthrough's finding), through the conversation API on the
fake merchant: a card whose order was confirmed and then did not go through (its 3-D Secure check canceled by staff,
declined) is not used again without the customer saying so: the next preview is on the default card and says why, and
naming the card again uses it. A card whose order was placed stays for the next cart, as the customer's "no" to a
preview keeps it; every preview names its card."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog_adapters.contract import StoredCard
from consent.services.wallet import payment_method_set_default, payment_method_store
from escalations.models import Escalation
from escalations.services import escalation_cancel_flow, escalation_hand_back
from ordering.models import FlowStatus, OrderFlow
from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


@pytest.fixture
def second_card(shop):
    """A second card of alice's that the shop approves, saved as the demo's cards are (not one she just added)."""
    shop.sandbox.add_card("pm_alice_mc", customer_id="cus_alice", brand="mastercard", last4="5454")
    return payment_method_store(
        user_id=shop.alice.pk,
        merchant_id="sandbox",
        card=StoredCard(vault_reference="pm_alice_mc", brand="mastercard", last4="5454", exp_month=12, exp_year=2030),
    )


def _card(chat) -> dict:
    return chat.get()["pending_confirmation"]["preview"]["payment"]


def test_a_card_whose_payment_check_staff_canceled_is_not_used_again_silently(shop, chat):
    sam = get_user_model().objects.create_user(username="sam", password="x", is_staff=True)
    chat.start()
    chat.say("Buy the Blue Runner in size 42, pay with card ending 3220")
    chat.say("yes")
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.status == FlowStatus.REQUIRES_ACTION  # the bank's check: a specialist has the chat
    escalation = Escalation.objects.get(flow=flow)
    escalation_cancel_flow(escalation_id=escalation.pk, staff_id=sam.pk)
    escalation_hand_back(escalation_id=escalation.pk, staff_id=sam.pk)

    answer = chat.say("a red beanie please")

    assert preview_lines(answer) == [("var_beanie_red", 1)], texts(answer)
    assert _card(chat) == {"brand": "visa", "last4": "4242"}  # her default card, not the 3220 again
    assert "Mastercard ending 3220 didn't go through, so I haven't used that card again" in texts(answer)
    assert shop.sandbox.order_records == {}

    # named again, it is her choice: used, and kept while the cart changes
    chat.say("pay with the card ending 3220")
    assert _card(chat) == {"brand": "mastercard", "last4": "3220"}
    again = chat.say("make it 2")
    assert preview_lines(again) == [("var_beanie_red", 2)], texts(again)
    assert _card(chat) == {"brand": "mastercard", "last4": "3220"}
    assert "didn't go through" not in texts(again)


def test_a_declined_card_is_not_used_for_the_next_cart(shop, chat):
    chat.start()
    chat.say("Buy the Blue Runner in size 42, pay with card ending 0002")
    chat.say("yes")
    assert OrderFlow.objects.get(conversation_id=chat.id).failure_code == "payment_declined"

    answer = chat.say("a red beanie please")

    assert preview_lines(answer) == [("var_beanie_red", 1)], texts(answer)
    assert _card(chat) == {"brand": "visa", "last4": "4242"}
    assert "Visa ending 0002 was declined" in texts(answer)
    chat.say("yes")
    [order] = shop.sandbox.order_records.values()
    assert order.vault_reference == "pm_alice_visa"


def test_another_card_named_after_a_decline_says_nothing_of_the_declined_one(shop, chat):
    chat.start()
    chat.say("Buy the Blue Runner in size 42, pay with card ending 0002")
    chat.say("yes")

    answer = chat.say("use my usual card")

    assert preview_lines(answer) == [("var_blue_runner_42", 1)], texts(answer)  # the same items, a new cart
    assert _card(chat) == {"brand": "visa", "last4": "4242"}
    assert "declined" not in texts(answer)


def test_a_card_chosen_whose_order_was_placed_stays_for_the_next_cart(shop, chat, second_card):
    chat.start()
    chat.say("Buy the Blue Runner in size 42, pay with card ending 5454")
    chat.say("yes")
    assert OrderFlow.objects.get(conversation_id=chat.id).status == FlowStatus.PLACED

    answer = chat.say("a red beanie please")

    assert preview_lines(answer) == [("var_beanie_red", 1)], texts(answer)
    assert _card(chat) == {"brand": "mastercard", "last4": "5454"}  # named by the preview, as every card is
    assert "didn't go through" not in texts(answer)


def test_a_no_to_the_preview_keeps_the_card_chosen(shop, chat, second_card):
    chat.start()
    chat.say("Buy the Blue Runner in size 42, pay with card ending 5454")
    chat.say("no")

    answer = chat.say("a red beanie please")

    assert preview_lines(answer) == [("var_beanie_red", 1)], texts(answer)
    assert _card(chat) == {"brand": "mastercard", "last4": "5454"}  # nothing was tried with it


@pytest.mark.parametrize("first", ["Buy the Blue Runner in size 42", "Buy the Blue Runner in size 42 on my usual card"])
def test_a_declined_default_card_is_used_again_and_the_preview_says_so(shop, chat, first):
    declining = next(card for card in shop.alice.payment_methods.all() if card.last4 == "0002")
    payment_method_set_default(user_id=shop.alice.pk, payment_method_id=declining.pk)
    chat.start()
    chat.say(first)
    chat.say("yes")

    answer = chat.say("a red beanie please")

    assert _card(chat) == {"brand": "visa", "last4": "0002"}  # her default: hers to change, on the settings page
    assert "Visa ending 0002 was declined. This order uses it again, as it is your default card" in texts(answer)


def test_with_no_default_card_the_preview_asks_which_card(shop, chat):
    # a card chosen and dropped with no default to go back to ends here too: which card is the customer's to say
    shop.alice.payment_methods.update(is_default=False)
    chat.start()

    asked = chat.say("a red beanie please")

    assert preview_lines(asked) == [], texts(asked)
    assert "Which card should I use for this order: your Visa ending 4242" in texts(asked)
    chosen = chat.say("pay with the card ending 4242")
    assert preview_lines(chosen) == [("var_beanie_red", 1)], texts(chosen)
    assert _card(chat) == {"brand": "visa", "last4": "4242"}
