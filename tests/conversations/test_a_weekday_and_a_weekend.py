"""Conversations from held-out runs 55 and 56 (a weekday's and a weekend's honest sample), in words of our own, on the
sandbox merchant over HTTP (its word search is the subject of the first): a look at a kind of thing in a colour lists
every product of that kind in it (the shop's word search found the one whose text says "shoes"), and another colour
said to a size sold out is that colour in the size asked."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


def test_a_look_at_shoes_in_a_colour_lists_every_shoe_in_it_and_the_pick_keeps_the_colour(shop, chat):
    chat.start()
    listed = chat.say("what shoes have you got in black?")
    # the black Canvas Low and Chelsea Boot are shoes too (their texts say "sneakers" and "boots", not "shoes")
    assert "Canvas Low" in texts(listed) and "Chelsea Boot" in texts(listed), texts(listed)

    answer = chat.say("the canvas lows then, 42")

    assert preview_lines(answer) == [("var_canvas_low_black_42", 1)], texts(answer)


def test_another_colour_said_when_the_size_is_sold_out_is_that_colour_in_that_size(shop, chat):
    shop.sandbox.set_stock("var_pullover_hoodie_red_l", 0)
    chat.start()
    asked = chat.say("red pullover hoodie in L")
    assert "sold out" in texts(asked), texts(asked)

    answer = chat.say("ah ok, black will do then")

    assert preview_lines(answer) == [("var_pullover_hoodie_black_l", 1)], texts(answer)


def test_the_cheapest_asked_for_is_named_and_offered_and_those_is_it(shop, chat):
    chat.start()
    listed = chat.say("whats the cheapest hoodie you've got?")
    # the one asked for first (the Zip Hoodie at $49), the other after it, and the offer of the one asked for
    assert "The cheapest is the Zip Hoodie" in texts(listed), texts(listed)
    assert "Would you like the Zip Hoodie" in texts(listed), texts(listed)

    answer = chat.say("ok those in navy, M")

    assert preview_lines(answer) == [("var_zip_hoodie_navy_m", 1)], texts(answer)


def test_sizes_in_the_order_of_the_people_and_the_boys_line_changed(shop, chat):
    chat.start()
    chat.say("merino socks for my husband and my son, L and S")

    answer = chat.say("make the boy's a medium")

    # the boy is the son, not the husband (both are "he": it asked which of the two)
    assert sorted(preview_lines(answer)) == [("var_wool_socks_l", 1), ("var_wool_socks_m", 1)], texts(answer)
