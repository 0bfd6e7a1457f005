"""The reader on held-out run 42 (saturday at home, a family on one account), in words of our own. Each case was a wrong
order, an unconfirmed charge or an order lost before: "one each for the two kids" was one, a liked thing "for me and
one in 40 for my daughter" only the 40, "he says M's too tight on him, L" added the running tights in L, "the kids have
decided: one blue, one white" searched for "decided", a key held down ("yyyyyyyy") was a yes, and who was at the
keyboard ("hi its sam, …"), where someone is ("mum's in the shower") or who is coming to lunch was searched for."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    CannotHandle,
    CartLine,
    Confirm,
    Decline,
    DialogueContext,
    Human,
    Option,
    PendingQuestion,
    Preview,
    SetSlot,
    Thanks,
)
from tests.understanding.reading import lines, read


def _cart(variant: str, product: str, colour: str | None, size: str | None, quantity: int = 1) -> DialogueContext:
    line = CartLine(variant_id=variant, product_id=product, title=product, colour=colour, size=size, quantity=quantity)
    return DialogueContext(cart=(line,), awaiting_confirmation=True)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("the beanie i liked, one each for the three kids", 3),
        ("navy zip hoodies M, one each for the two boys", 2),
        ("4 blue caps, one for each of us", 4),
        ("2 yoga mats, one each for the girls' bedrooms", 2),
        ("two grey beanies, for tom and maisie", 2),
    ],
)
def test_how_many_is_the_people_each_one_is_for_or_the_count_said(generator, said, expected):
    [command] = read(generator, said)
    assert isinstance(command, AddItems)
    assert [item.quantity for item in command.items] == [expected]


def test_a_liked_thing_for_me_and_one_in_another_size_for_someone_is_two_lines(generator):
    [command] = read(generator, "the hoodie i liked, one for me and one in S for my daughter")
    assert isinstance(command, AddItems)
    assert [(item.saved, item.size) for item in command.items] == [("liked", None), ("liked", "S")]


@pytest.mark.parametrize(
    ("said", "size"),
    [
        ("the hoodie i saved, but my son wants it in S", "S"),
        ("the socks i got last time, my dad wants some too in M", "M"),
    ],
)
def test_a_saved_thing_someone_else_wants_in_a_size_is_that_thing_in_it(generator, said, size):
    [command] = read(generator, said)
    assert [(item.size, item.quantity) for item in command.items] == [(size, None)]


@pytest.mark.parametrize("said", ["she says the S is too small on her, M", "he says M's a bit too tight, so L"])
def test_the_size_that_does_not_fit_then_the_one_wanted_is_a_change(generator, said):
    context = _cart("var_pullover_hoodie_black_m", "prod_pullover_hoodie", "black", "M")
    commands = read(generator, said, context)
    assert [type(command) for command in commands] == [SetSlot]  # never the running tights
    assert commands[0].slot == "size"


def test_who_decided_is_no_part_of_what_they_decided(generator):
    context = _cart("var_run_cap_white", "prod_run_cap", "white", None, quantity=2)
    commands = read(generator, "right, the twins have agreed: one white, one blue", context)
    assert not any(isinstance(command, AddItems) and any(item.query for item in command.items) for command in commands)
    assert ("prod_run_cap", "blue", None, 1) in lines(commands)


@pytest.mark.parametrize("said", ["nnnnnnnnnnnn", "yyyyyyyyyyyyyyyyyy", "ooooooooo!"])
def test_a_key_held_down_is_never_an_answer(generator, said):
    context = _cart("var_beanie_red", "prod_beanie", "red", None)
    assert [type(command) for command in read(generator, said, context)] == [CannotHandle]


def test_y_and_yesss_are_still_a_yes(generator):
    context = _cart("var_beanie_red", "prod_beanie", "red", None)
    assert read(generator, "y", context) == [Confirm()]
    assert read(generator, "yesss", context) == [Confirm()]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("hey its maisie, mum said i can get the purple yoga mat", ("prod_yoga_mat", "purple", None, None)),
        ("can i get the white running cap, dad's at work", ("prod_run_cap", "white", None, None)),
        ("my sister's coming over for the weekend, black yoga mat please", ("prod_yoga_mat", "black", None, None)),
        ("keep it under 100 total: white running cap and a soft flask", None),
    ],
)
def test_who_is_at_the_keyboard_or_where_someone_is_is_no_search(generator, said, expected):
    [command] = read(generator, said)
    assert isinstance(command, AddItems)
    assert not any(item.query for item in command.items)
    if expected is not None:
        assert lines([command]) == [expected]


def test_a_limit_on_the_whole_order_said_first_marks_the_last_thing(generator):
    [command] = read(generator, "keep it under 100 total: white running cap and a soft flask")
    assert [item.within_total for item in command.items] == [None, 10000]


@pytest.mark.parametrize(
    "said",
    ["hang fire, the dog's just been sick", "gonna run it past my wife when she's back", "let me check with him first"],
)
def test_not_decided_yet_with_why_is_no_answer(generator, said):
    assert read(generator, said, _cart("var_beanie_red", "prod_beanie", "red", None)) == [Thanks()]


def test_scrap_that_with_who_says_it_is_too_dear_is_a_no(generator):
    context = _cart("var_tempo_racer_red_43", "prod_tempo_racer", "red", "43")
    assert read(generator, "scrap that, my wife says it's way too expensive", context) == [Decline()]


def test_is_there_a_real_human_with_why_is_a_person(generator):
    assert read(generator, "is there an actual person? my mum can't get this to work") == [Human()]


def test_a_short_answer_then_why_is_the_answer(generator):
    shown = DialogueContext(last_shown=(Option(value="prod_gloves", label="Touchscreen Running Gloves"),))
    assert lines(read(generator, "M then, he's got big hands", shown)) == [("prod_gloves", None, "M", None)]
    asked = DialogueContext(pending=PendingQuestion(slot="quantity", product_id="prod_gym_duffel", title="Gym Duffel"))
    [command] = read(generator, "just the one then, they'll have to share", asked)
    assert (command.slot, command.value) == ("quantity", "1")


def test_two_then_plus_one_in_another_colour_answers_how_many_and_adds_it(generator):
    asked = DialogueContext(pending=PendingQuestion(slot="quantity", product_id="prod_run_cap", title="Running Cap"))
    commands = read(generator, "2 blue plus a white one then", asked)
    assert ("prod_run_cap", "white", None, 1) in lines(commands)
    assert any(isinstance(command, SetSlot) and command.value == "2" for command in commands)


def test_just_his_then_goes_on_without_the_open_question(generator):
    asked = DialogueContext(pending=PendingQuestion(slot="size", product_id="prod_blue_runner", title="Blue Runner"))
    assert read(generator, "oh. just his then", asked) == [Preview(without_open_question=True)]


def test_the_price_asked_back_is_no_count(generator):
    context = _cart("var_zip_hoodie_grey_s", "prod_zip_hoodie", "grey", "S", quantity=2)
    commands = read(generator, "oh they're 49? grey beanies instead then, one each", context)
    assert not any(isinstance(command, SetSlot) and command.slot == "quantity" for command in commands)
    assert any(isinstance(command, SetSlot) and command.value == "prod_beanie" for command in commands)


def test_the_chosen_one_of_two_shown_keeps_its_size_letter_before_a_count(generator):
    shown = DialogueContext(
        last_shown=(Option(value="prod_wool_socks", label="Merino"), Option(value="prod_run_socks", label="Running"))
    )
    assert lines(read(generator, "the running ones, black, S, two packs", shown)) == [
        ("prod_run_socks", "black", "S", 2)
    ]


@pytest.mark.parametrize(
    "said", ["how can we stop our teenagers buying stuff on here?", "do you have parental controls"]
)
def test_who_may_order_on_the_account_is_the_settings_pages(generator, said):
    [command] = read(generator, said)
    assert (command.kind, command.topic) == ("out_of_scope", "limits")  # answered with the settings page
