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
