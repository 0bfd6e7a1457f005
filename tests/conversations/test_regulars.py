"""Regulars who talk about their history (held-out set 38, in words of our own). A history the shop's records do not
show changes nothing: "the grey beanie again please" for a customer who never bought one is the grey beanie, as named,
with a word that it is not among their purchases (it was refused, "I couldn't find anything like that among the items
you bought", and nothing was previewed); a purchase on record is still the one reordered."""

from __future__ import annotations

import pytest

from ordering.models import AgentDecision

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    return fake_shop


def test_again_with_no_such_purchase_on_record_is_the_thing_as_named(shop, chat):
    chat.start()

    answer = chat.say("the grey beanie again please, lost mine on the bus")

    texts = chat.assistant_texts(answer)
    assert any("I don't see that among the items you bought" in text for text in texts), texts
    [line] = answer["pending_confirmation"]["preview"]["lines"]
    assert (line["title"], line["variant"], line["quantity"]) == ("Wool Beanie", "grey", 1)
    # it was looked up in her purchases first
    assert AgentDecision.objects.filter(conversation_id=chat.id, name="list_saved_items").exists()


def test_a_purchase_on_record_is_still_reordered(shop, chat):
    # alice's demo purchase: white running socks in M
    chat.start()

    answer = chat.say("the running socks again please")

    [line] = answer["pending_confirmation"]["preview"]["lines"]
    assert (line["title"], line["variant"]) == ("Running Socks 3-pack", "white, M")


def test_what_they_bought_before_is_the_shops_purchase_history_when_no_order_was_placed_here(shop, chat):
    chat.start()

    answer = chat.say("what did i buy from you last time?")

    reply = chat.assistant_texts(answer)[-1]
    assert "The shop's records show you bought: Running Socks 3-pack (white, M)" in reply, reply
    assert "No order has been placed through this chat yet" in reply
    assert answer.get("pending_confirmation") is None


def test_a_status_question_with_no_orders_still_says_there_are_none(shop, chat):
    chat.start()

    answer = chat.say("where is my order?")

    assert chat.assistant_texts(answer)[-1] == "You have no orders yet."


def test_a_code_used_before_asked_about_again_is_applied_with_the_thing_named(shop, chat_bob):
    chat_bob.start()

    answer = chat_bob.say("used SAVE10 last time, can i use it again? white court classics 43")

    preview = answer["pending_confirmation"]["preview"]
    assert [(line["title"], line["variant"]) for line in preview["lines"]] == [("Court Classic", "white, 43")]
    assert "SAVE10" in " ".join(chat_bob.assistant_texts(answer))


def test_a_complaint_about_something_bought_starts_no_order_of_it(shop, chat):
    chat.start()

    answer = chat.say("the hiking boots i bought leak")

    texts = " ".join(chat.assistant_texts(answer))
    assert "I've gone by what you named" not in texts and "Which size" not in texts, texts
    assert answer.get("pending_confirmation") is None
