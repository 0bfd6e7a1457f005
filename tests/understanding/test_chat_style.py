"""The reader on held-out run 23 (shoppers typing in chat style: emoji, emoticons, reactions, complaints, jokes), in
words of our own. Each case here was read wrong before: an emoticon's digit or how often something was said became a
count, a reaction was a product or a promotion code, a joke count was a count, a reason said before a removal asked
which line, a thumbs-down at a preview was thanks."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    CartLine,
    ChooseShipping,
    Confirm,
    Decline,
    DialogueContext,
    PendingQuestion,
    ProductQuestion,
    RemoveItem,
    SetSlot,
    Thanks,
)
from ordering.agent.understand import OfflineGenerator
from ordering.agent.understand.text import normalize


def _line(variant: str, product: str, title: str, colour: str | None = None, size: str | None = None) -> CartLine:
    return CartLine(variant_id=variant, product_id=product, title=title, colour=colour, size=size, quantity=1)


RUNNER_42 = _line("var_blue_runner_42", "prod_blue_runner", "Blue Runner", "blue", "42")
JOGGER_42 = _line("var_cloud_jogger_grey_42", "prod_cloud_jogger", "Cloud Jogger", "grey", "42")
CAP_WHITE = _line("var_run_cap_white", "prod_run_cap", "Running Cap", "white")
PREVIEW = DialogueContext(cart=(RUNNER_42,), awaiting_confirmation=True, addresses=("Home", "Work"))
ASK_COLOUR = DialogueContext(
    pending=PendingQuestion(slot="colour", product_id="prod_trail_blazer", title="Trail Blazer")
)
ASK_COUNT = DialogueContext(pending=PendingQuestion(slot="quantity", product_id="prod_soft_flask", title="Soft Flask"))


def _read(generator: OfflineGenerator, text: str, context: DialogueContext | None = None) -> list:
    return list(generator.generate(text=text, context=context or DialogueContext()))


def _only_add(commands: list) -> AddItems:
    [add] = commands
    assert isinstance(add, AddItems), commands
    return add


@pytest.mark.parametrize(
    ("said", "read"),
    [
        # emoticons go before their punctuation does: "<3" was a 3
        ("hehe <3 the blue cap", "the blue cap"),
        ("grey beanie :) :-( ;p xd", "grey beanie"),
        # keycap digits are digits, side by side one number; the ten is 10
        ("4\ufe0f\u20e32\ufe0f\u20e3 pls", "42 please"),
        ("\U0001f51f socks", "10 socks"),
        # a colour's circle or square is the colour; a coloured heart only before a word; the red heart never
        ("the \U0001f7e9 one", "the green one"),
        ("\U0001f49c yoga mat", "purple yoga mat"),
        ("thanks \U0001f49c", "thanks"),
        ("love it \u2764\ufe0f", "love it"),
        # reactions that name nothing
        ("lmaooo ngl the cap is nice fr", "the cap is nice"),
        ("hell yeah", "yeah"),
        ("wtf is a soft flask", "what is a soft flask"),
        # how often something was said, and joke counts, are no counts
        ("i said express like 3 times", "express"),
        ("ugh i've asked twice already, just place it", "ugh , just place it"),
        ("headlamps, like a gazillion of them", "headlamps ,"),
        # a complaint about the assistant names nothing
        ("you keep getting it wrong, size 43", "size 43"),
    ],
)
def test_chat_style_is_read_as_plain_words(said, read):
    assert normalize(said) == read


def test_an_emoticon_and_a_keycap_are_no_counts_and_a_keycap_count_is_one(generator):
    [item] = _only_add(_read(generator, "haha <3 the white running cap")).items
    assert (item.product_ids, item.colour, item.quantity) == (("prod_run_cap",), "white", None)
    [item] = _only_add(_read(generator, "3\ufe0f\u20e3 grey beanies")).items
    assert (item.product_ids, item.colour, item.quantity) == (("prod_beanie",), "grey", 3)


def test_how_often_it_was_said_is_no_count(generator):
    assert _read(generator, "EXPRESS. i typed it like 4 times, express", PREVIEW) == [ChooseShipping(option="express")]


def test_a_made_up_number_is_no_count_and_a_real_one_stays_for_the_limit_to_answer(generator):
    [item] = _only_add(_read(generator, "soft flasks, like a gazillion of them lol")).items
    assert item.quantity is None
    assert not any(isinstance(command, SetSlot) for command in _read(generator, "a bazillion haha", ASK_COUNT))
    # the shop's limit per line answers a real number, however large (a count dropped would have been one)
    [item] = _only_add(_read(generator, "a million soft flasks lol")).items
    assert item.quantity == 1_000_000


def test_a_shouted_number_is_no_promotion_code(generator):
    assert _read(generator, "NO. I SAID 43", PREVIEW) == [SetSlot(slot="size", value="43", correction=True)]


def test_a_thumbs_down_alone_is_a_no_and_a_thumbs_up_alone_stays_politeness(generator):
    assert _read(generator, "\U0001f44e\U0001f3fd", PREVIEW) == [Decline()]
    assert _read(generator, "\u274c", PREVIEW) == [Decline()]
    assert _read(generator, "\U0001f44d\U0001f3fd", PREVIEW) == [Thanks()]


def test_a_colour_emoji_answers_which_colour(generator):
    assert _read(generator, "\u2b1b", ASK_COLOUR) == [SetSlot(slot="colour", value="black")]


def test_a_chat_yes_and_a_chat_no_at_the_preview(generator):
    assert _read(generator, "lmfao yep send it", PREVIEW) == [Confirm()]
    assert _read(generator, "yeah no", PREVIEW) == [Decline()]
    assert _read(generator, "nope, not at that price", PREVIEW) == [Decline()]
    # the price remark, then the answer after "but"
    assert _read(generator, "kinda pricey but fine, go ahead", PREVIEW) == [Confirm()]
    assert _read(generator, "pretty steep tbh, forget it", PREVIEW) == [Decline()]


def test_a_question_in_chat_style_is_a_question_not_an_order(generator):
    [question] = _read(generator, "wtf is a cloud jogger lol")
    assert isinstance(question, ProductQuestion) and question.item.product_ids == ("prod_cloud_jogger",)


def test_more_of_the_one_line_after_praise_or_with_a_verb(generator):
    for said in ("add 2 more", "i need 2 more pairs", "you're a star, 2 more please", "thanks, 2 more"):
        [command] = _read(generator, said, PREVIEW)
        assert isinstance(command, SetSlot) and (command.slot, command.value) == ("quantity", "3"), said


def test_a_complaint_before_a_removal_removes_only_what_is_named(generator):
    context = DialogueContext(cart=(RUNNER_42, CAP_WHITE), awaiting_confirmation=True)
    [removal] = _read(generator, "you keep messing it up, take the cap off", context)
    assert isinstance(removal, RemoveItem) and removal.target.product_ids == ("prod_run_cap",)
    shoes = DialogueContext(cart=(RUNNER_42, JOGGER_42), awaiting_confirmation=True)
    [removal] = _read(generator, "lol i don't need two pairs, drop the blue runner", shoes)
    assert isinstance(removal, RemoveItem) and removal.target.product_ids == ("prod_blue_runner",)


@pytest.mark.parametrize("who", ["my sister", "my dog", "my kitten"])
def test_a_thing_for_me_and_one_for_someone_is_two(generator, who):
    [item] = _only_add(_read(generator, f"a red beanie for me and one for {who}")).items
    assert (item.product_ids, item.colour, item.quantity) == (("prod_beanie",), "red", 2)


def test_a_thing_for_me_and_one_for_someone_with_a_value_each_is_one_of_each(generator):
    items = _only_add(_read(generator, "a yoga mat for me and one for my mum, purple and blue")).items
    assert [(item.colour, item.quantity or 1) for item in items] == [("purple", 1), ("blue", 1)]


def test_a_stop_said_with_a_not_yet_is_a_wait_and_alone_a_no(generator):
    assert _read(generator, "stop stop, not yet", PREVIEW) == [Thanks()]
    assert _read(generator, "stop", PREVIEW) == [Decline()]


def test_a_correction_said_with_question_marks_is_a_correction(generator):
    assert _read(generator, "44 not 42??", PREVIEW) == [SetSlot(slot="size", value="44")]


@pytest.mark.parametrize("said", ["omg thx ur the best, 1 more", "you rock, one more", "amazing thanks, another one"])
def test_thanks_and_praise_before_one_more_are_dropped(generator, said):
    [command] = _read(generator, said, PREVIEW)
    more = (isinstance(command, SetSlot) and (command.slot, command.value) == ("quantity", "2")) or (
        isinstance(command, AddItems) and command.items[0].product_ids == ("prod_blue_runner",)
    )
    assert more, (said, command)


@pytest.mark.parametrize("said", ["another in black", "add another one in black", "great, one more in black"])
def test_another_in_a_colour_is_one_more_of_the_line_in_that_colour(generator, said):
    [command] = _read(generator, said, DialogueContext(cart=(CAP_WHITE,)))
    assert isinstance(command, AddItems), (said, command)
    [item] = command.items
    assert (item.product_ids, item.colour) == (("prod_run_cap",), "black")
