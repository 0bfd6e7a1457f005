"""The chat when the shop does not take the card's brand (its card handler's `accepted_brands`), at the sandbox
merchant over HTTP: the customer is told which brand, offered the saved cards the shop takes as quick replies, and
one tap on them previews the same items with that card, which then pays. No token was ever minted for the card the
shop does not take."""

from __future__ import annotations

import pytest

from tests.support.merchant_state import merchant_order_count, merchant_tokens

pytestmark = pytest.mark.usefixtures("eager_tasks")


def test_a_card_the_shop_does_not_take_is_said_at_the_preview_and_one_of_the_cards_it_takes_pays(shop, chat, settings):
    # given a shop that takes Visa only, and alice asking to pay with her Mastercard
    settings.SANDBOX_MERCHANT_ACCEPTED_BRANDS = ["visa"]
    chat.start()

    answer = chat.say("blue runner size 42, pay with the card ending 3220")

    # then the preview is not offered for confirmation: she reads why, and her Visas are the choices
    assert answer.get("pending_confirmation") is None
    [blocked] = [m for m in answer["messages"] if m["kind"] == "preview_blocked"]
    assert "I can't place this order: the shop doesn't take Mastercard cards." in blocked["text"]
    assert "You can pay with your Visa •••• 4242 or Visa •••• 0002 instead." in blocked["text"]
    assert [reply["label"] for reply in blocked["quick_replies"]] == [
        "Pay with Visa •••• 4242",
        "Pay with Visa •••• 0002",
    ]

    # a yes now places nothing
    chat.say("yes")
    assert merchant_order_count() == 0 and merchant_tokens() == []

    # when she taps the first one: the same items, previewed with that card, and her yes places the order
    answer = chat.say(blocked["quick_replies"][0]["text"])
    preview = answer["pending_confirmation"]["preview"]
    assert [(line["quantity"], line["variant"]) for line in preview["lines"]] == [(1, "blue, 42")]
    assert preview["payment"]["last4"] == "4242"
    chat.say("yes")

    assert merchant_order_count() == 1
    [token] = merchant_tokens()
    assert token.used


def test_a_shop_that_stops_taking_the_card_after_the_preview_fails_the_order_before_any_token(shop, chat, settings):
    # given alice's Mastercard previewed at a shop that took it
    chat.start()
    previewed = chat.say("blue runner size 42, pay with the card ending 3220")
    assert previewed["pending_confirmation"]["preview"]["payment"]["last4"] == "3220"

    # when the shop stops taking Mastercard, and she confirms
    settings.SANDBOX_MERCHANT_ACCEPTED_BRANDS = ["visa"]
    chat.say("yes")

    # then she reads why, and her Visas are the choices
    [failed] = [m for m in chat.events()["messages"] if m["kind"] == "flow_failed"]
    assert failed["text"].startswith("This shop doesn't take Mastercard cards, so I did not place the order")
    assert [reply["label"] for reply in failed["quick_replies"]] == [
        "Pay with Visa •••• 4242",
        "Pay with Visa •••• 0002",
    ]
    assert merchant_tokens() == []

    # when she taps the first one: the same items, previewed with that card, and her yes places the order
    answer = chat.say(failed["quick_replies"][0]["text"])
    preview = answer["pending_confirmation"]["preview"]
    assert [(line["quantity"], line["variant"]) for line in preview["lines"]] == [(1, "blue, 42")]
    assert preview["payment"]["last4"] == "4242"
    chat.say("yes")

    assert merchant_order_count() == 1
    [token] = merchant_tokens()  # one token in all: for the Visa that paid
    assert token.used
