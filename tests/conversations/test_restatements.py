"""Held-out run 52 through the conversation API on the fake merchant, in words of our own: a request said twice in one
message, a change said again, a start over, a swap "instead, same size", a thing put back, a doubt taken back. Each
was a wrong order or a stuck conversation before: "3 flasks, so three of the 500ml ones" previewed six, "4 in total"
after "make that 4" previewed eight, "scrap all that, just a black day pack" kept the cart and the yes placed it,
"drop the tee, the wind shell instead, same size" removed the tee and asked about a shell from nothing, "put the
grey one back" made the red beanie grey, "did you get the cap? the white cap" ordered two caps, "the roller, put it
back" two rollers, "put the bottle back after all" asked which bottle, and "nah... actually go on then, but in tan"
was not understood and the yes after it placed the black boots."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_a_count_said_twice_in_the_first_message_is_counted_once(shop, chat):
    chat.start()

    answer = chat.say("3 soft flasks, so three of the 500ml ones")

    assert preview_lines(answer) == [("var_soft_flask", 3)], texts(answer)


def test_the_total_said_again_after_a_change_stays_the_total(shop, chat):
    chat.start()
    chat.say("a soft flask")
    chat.say("make that 4 flasks")

    answer = chat.say("4 in total please")

    assert preview_lines(answer) == [("var_soft_flask", 4)], texts(answer)


def test_more_said_again_as_what_was_meant_adds_nothing_more(shop, chat):
    chat.start()
    chat.say("a blue steel bottle")
    chat.say("could i have another 2")

    answer = chat.say("the bottles, 2 more of them i meant")

    assert preview_lines(answer) == [("var_steel_bottle_blue", 3)], texts(answer)


def test_giving_up_the_cart_for_one_thing_orders_only_that_thing(shop, chat):
    chat.start()
    chat.say("blue tech tee M and a white running cap")

    answer = chat.say("scrap all that, i'll just get a black day pack")

    assert preview_lines(answer) == [("var_day_pack_black", 1)], texts(answer)
    chat.say("yes")
    [order] = shop.sandbox.order_records.values()
    assert [(line["variant_id"], line["quantity"]) for line in order.line_items] == [("var_day_pack_black", 1)]


def test_a_line_given_up_for_another_thing_in_the_same_size_asks_only_its_colour(shop, chat):
    chat.start()
    chat.say("grey zip hoodie, M")

    asked = chat.say("drop the hoodie, the packable rain jacket instead, same size")

    assert "colour" in texts(asked) and "Rain Jacket" in texts(asked), texts(asked)
    answer = chat.say("blue")
    assert preview_lines(answer) == [("var_rain_jacket_blue_m", 1)], texts(answer)


def test_the_other_colour_put_back_joins_the_line_left(shop, chat):
    chat.start()
    chat.say("a red beanie and a grey beanie")
    chat.say("drop the grey one")

    answer = chat.say("put the grey one back after all")

    assert sorted(preview_lines(answer)) == [("var_beanie_grey", 1), ("var_beanie_red", 1)], texts(answer)


def test_the_thing_taken_out_is_the_one_put_back(shop, chat):
    chat.start()
    chat.say("a white running cap and a blue steel bottle")
    chat.say("take the bottle out")

    answer = chat.say("actually put the bottle back")

    assert sorted(preview_lines(answer)) == [("var_run_cap_white", 1), ("var_steel_bottle_blue", 1)], texts(answer)


def test_a_thing_named_with_put_it_back_goes_in_once(shop, chat):
    chat.start()
    chat.say("purple yoga mat and a foam roller")
    chat.say("remove the roller")

    answer = chat.say("ugh i do want the roller, put it back")

    assert sorted(preview_lines(answer)) == [("var_foam_roller", 1), ("var_yoga_mat_purple", 1)], texts(answer)


def test_a_line_asked_after_to_be_sure_is_not_ordered_twice(shop, chat):
    chat.start()
    chat.say("a grey beanie and a white running cap")

    answer = chat.say("did you get the cap? the white cap")

    assert sorted(preview_lines(answer)) == [("var_beanie_grey", 1), ("var_run_cap_white", 1)], texts(answer)
    chat.say("yes")
    [order] = shop.sandbox.order_records.values()
    assert sorted((line["variant_id"], line["quantity"]) for line in order.line_items) == [
        ("var_beanie_grey", 1),
        ("var_run_cap_white", 1),
    ]


def test_a_doubt_taken_back_with_a_change_changes_and_places_nothing(shop, chat):
    chat.start()
    chat.say("black chelsea boots in 43")

    answer = chat.say("nah... actually go on then, but in tan")

    assert preview_lines(answer) == [("var_chelsea_boot_tan_43", 1)], texts(answer)
    assert shop.sandbox.order_records == {}


def test_a_doubt_taken_back_with_a_yes_places_the_order(shop, chat):
    chat.start()
    chat.say("a grey beanie")

    chat.say("no wait... ok fine, order it")

    assert len(shop.sandbox.order_records) == 1
