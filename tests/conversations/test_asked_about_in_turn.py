"""Products asked about one after the other are the ones shown, in that order (held-out set 30): "Tell me about the
Over-ear Headphones." … "And the Sport Earbuds?" … "I'll go back to the first one you showed me" is the headphones
(it was not understood, with only the earbuds on record); a product asked about after a list starts no list of its
own."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_the_first_of_two_products_asked_about(shop, chat_bob):
    chat_bob.start()
    assert "Noise-cancelling" in texts(chat_bob.say("Tell me about the Over-ear Headphones."))
    assert "Sweat-proof" in texts(chat_bob.say("And the Sport Earbuds?"))

    answer = chat_bob.say("The earbuds are cheaper, but I'll go back to the first one you showed me. Black, please.")

    assert preview_lines(answer) == [("var_headphones_black", 1)]


def test_the_second_of_two_products_asked_about(shop, chat_bob):
    chat_bob.start()
    chat_bob.say("Tell me about the Over-ear Headphones.")
    chat_bob.say("And the Sport Earbuds?")

    answer = chat_bob.say("the second one, in blue please")

    assert preview_lines(answer) == [("var_earbuds_blue", 1)]


def test_it_after_two_products_asked_about_is_the_last_one(shop, chat_bob):
    chat_bob.start()
    chat_bob.say("Tell me about the Over-ear Headphones.")
    chat_bob.say("And the Sport Earbuds?")

    answer = chat_bob.say("ok I'll take it in black")

    assert preview_lines(answer) == [("var_earbuds_black", 1)]


def test_one_product_asked_about_after_a_list_is_no_list_of_its_own(shop, chat_bob):
    chat_bob.start()
    chat_bob.say("show me headphones and earbuds")
    chat_bob.say("tell me about the Sport Earbuds")

    # "the first one you showed me" was in the list before: with only the earbuds on record, nothing is guessed
    answer = chat_bob.say("the first one you showed me, black")

    assert preview_lines(answer) == []
    assert "Sport Earbuds" not in texts(answer) or "?" in texts(answer)
