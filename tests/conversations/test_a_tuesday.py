"""Conversations on what held-out run 66 found (an honest sample of a Tuesday's traffic), in words of our own, through
the conversation API on the fake merchant: a yes to a question that offers one choice takes it (the question was asked
again and again), "both" of two things asked about is those two (a thing waiting behind them took the answer too), and
"just mine" to how many is one."""

from __future__ import annotations

import pytest

from tests.conversations.answers import ordered_lines, preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_both_of_two_things_asked_about_leaves_the_one_behind_them_alone_and_a_yes_takes_the_one_choice(shop, chat):
    shop.sandbox.set_stock("var_yoga_mat_purple", 0)
    chat.start()
    asked = chat.say("2 purple yoga mats and a foam roller please")
    assert "sold out in purple" in texts(asked)

    answered = chat.say("blue for both then")

    # the two mats are blue; the foam roller (black only) was made blue too and asked about
    assert sorted(preview_lines(answered)) == [("var_foam_roller", 1), ("var_yoga_mat_blue", 2)], texts(answered)
    chat.say("yes")
    assert ordered_lines(shop) == [("var_foam_roller", 1), ("var_yoga_mat_blue", 2)]


def test_a_yes_to_a_question_with_one_choice_takes_it_and_orders_nothing(shop, chat):
    chat.start()
    asked = chat.say("a blue foam roller")
    assert asked["messages"][-1]["kind"] == "question", texts(asked)

    answered = chat.say("yes")

    assert preview_lines(answered) == [("var_foam_roller", 1)], texts(answered)
    assert answered["pending_confirmation"] is not None  # shown, not placed
    assert not shop.sandbox.order_records


def test_just_mine_when_only_one_is_left_is_one(shop, chat):
    shop.sandbox.set_stock("var_headlamp", 1)
    chat.start()
    asked = chat.say("2 headlamps, one for me one for my wife")
    assert "only 1" in texts(asked)

    answered = chat.say("ok just mine then, she can wait")

    assert preview_lines(answered) == [("var_headlamp", 1)], texts(answered)


def test_what_express_would_cost_is_answered_with_the_shops_price_and_chooses_nothing(shop, chat):
    chat.start()
    first = chat.say("blue runner size 42")
    shipping = first["pending_confirmation"]["preview"]["shipping"]

    answer = chat.say("what would express cost on top?")

    # it chose express (and asked about the price of the tees: "top"); the shop's express price is quoted instead
    assert "Express shipping: $14.99" in texts(answer), texts(answer)
    assert answer["pending_confirmation"]["preview"]["shipping"] == shipping


def test_a_persons_line_said_without_the_apostrophe_changes_that_persons_line(shop, chat):
    chat.start()
    chat.say("grey zip hoodies, L for me and S for my daughter")

    fixed = chat.say("no my daughters is M, mine's fine")

    # it changed the customer's own L to M (held-out run 65: a wrong order)
    assert sorted(preview_lines(fixed)) == [("var_zip_hoodie_grey_l", 1), ("var_zip_hoodie_grey_m", 1)], texts(fixed)


def test_a_value_relayed_for_a_person_changes_that_persons_line(shop, chat):
    chat.start()
    chat.say("a white cap for me and a blue one for my husband")

    fixed = chat.say("husband says white too")

    assert sum(quantity for variant, quantity in preview_lines(fixed) if variant == "var_run_cap_white") == 2, texts(
        fixed
    )
    assert all(variant == "var_run_cap_white" for variant, _ in preview_lines(fixed))


def test_a_fix_of_the_thing_waiting_behind_a_question_beside_the_answer_changes_it(shop, chat):
    chat.start()
    asked = chat.say("a running cap and blue shorts M")
    assert asked["messages"][-1]["kind"] == "question", texts(asked)

    answered = chat.say("white cap. oh and the shorts should be S not M")

    # the S was taken as a second answer for the cap, and the shorts came in M (held-out run 65: a wrong order)
    assert sorted(preview_lines(answered)) == [("var_run_cap_white", 1), ("var_run_shorts_blue_s", 1)], texts(answered)


def test_a_size_changed_beside_the_answer_with_the_reason_after_it(shop, chat):
    chat.start()
    chat.say("zip hoodie for me, size L")

    answered = chat.say("navy, and XL actually, L is always snug on me")

    assert preview_lines(answered) == [("var_zip_hoodie_navy_xl", 1)], texts(answered)


def test_the_wrong_code_replaced_by_the_one_meant(shop, chat):
    chat.start()
    first = chat.say("green trail blazers 42 with SAVE10")
    assert first["pending_confirmation"]["preview"]["promo_codes"] == ["SAVE10"]

    fixed = chat.say("oops wrong code, RUN15 i meant")

    # both codes were on the order
    assert fixed["pending_confirmation"]["preview"]["promo_codes"] == ["RUN15"], texts(fixed)
