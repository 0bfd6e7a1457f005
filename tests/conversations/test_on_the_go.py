"""On the go, through the conversation API (held-out runs 40 and 41, in words of our own): a code said aloud is the
code on the thing, never its count; "to" dictated for two is two; a pause before a change is the change; "just mine
then" after a question about a pair for someone else orders the customer's own pair; a code asked about on a thing is
tried on it, and "without it then" goes on. Each was a wrong order or an order lost."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    return fake_shop


def _placed_lines(shop) -> list[tuple]:
    [order] = shop.sandbox.order_records.values()
    session = shop.sandbox.session_records[order.session_id]
    return sorted((line.variant_id, line.quantity) for line in session.lines)


def test_a_code_said_aloud_is_tried_on_one_pair(shop, chat):
    chat.start()

    answer = chat.say("save ten on the white tempo racers forty one")

    # one pair (it was ten pairs), with the shop's answer on the code
    assert preview_lines(answer) == [("var_tempo_racer_white_41", 1)], texts(answer)
    assert "SAVE10" in texts(answer)


def test_to_dictated_for_two_is_two_caps_and_the_yes_orders_two(shop, chat):
    chat.start()

    answer = chat.say("can i get to white running caps")

    assert preview_lines(answer) == [("var_run_cap_white", 2)], texts(answer)
    chat.say("yes")
    assert _placed_lines(shop) == [("var_run_cap_white", 2)]


def test_a_pause_said_before_a_change_is_the_change(shop, chat):
    chat.start()
    chat.say("soft flask please")

    answer = chat.say("hang on make it three")

    assert preview_lines(answer) == [("var_soft_flask", 3)], texts(answer)


def test_just_mine_then_after_a_size_the_shop_does_not_make_orders_the_customers_own_pair(shop, chat_bob):
    chat_bob.start()
    chat_bob.say("blue cloud joggers 44 for me")
    asked = chat_bob.say("same shoes for my husband, he's a 39")
    assert asked["messages"][-1]["kind"] == "question", texts(asked)  # which size: the shop makes no 39

    answer = chat_bob.say("oh well, just mine then")

    assert preview_lines(answer) == [("var_cloud_jogger_blue_44", 1)], texts(answer)
    chat_bob.say("yes")
    assert _placed_lines(shop) == [("var_cloud_jogger_blue_44", 1)]


def test_a_bare_check_out_with_the_question_open_asks_it_once_more(shop, chat_bob):
    chat_bob.start()
    chat_bob.say("blue cloud joggers 44 for me")
    chat_bob.say("same shoes for my husband, he's a 39")

    answer = chat_bob.say("check out")

    assert preview_lines(answer) == [], texts(answer)
    assert '"check out" again' in texts(answer)


def test_a_code_asked_about_on_a_thing_is_tried_on_it_and_without_it_then_orders_it(shop, chat):
    chat.start()

    answer = chat.say("does SPRING99 work on the blue wind shell M?")

    assert preview_lines(answer) == [("var_wind_shell_blue_m", 1)], texts(answer)
    assert answer["pending_confirmation"]["preview"]["promo_codes"] == []  # the shop refused the code
    chat.say("fair enough, without it then")
    chat.say("yes")
    assert _placed_lines(shop) == [("var_wind_shell_blue_m", 1)]
