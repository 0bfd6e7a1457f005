"""The reader on held-out run 32 (a Monday at work: terse orders between meetings, team orders, budgets), in words of
our own. Each case was a wrong order before: a count said first and its breakdown after a dash or a colon were both
ordered ("3 yoga mats - 2 purple 1 blue" was three purple and a blue), the breakdown said as a correction was added to
the first count, an hour ("dark at 5") was five headlamps, who would not pay for it hid the change, and a limit on the
total said at a preview marked nothing."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, CartLine, DialogueContext, Option, PendingQuestion, SetSlot
from tests.understanding.reading import lines, read

PREVIEW_HOODIES = DialogueContext(
    cart=(
        CartLine(
            variant_id="var_zip_hoodie_grey_m", product_id="prod_zip_hoodie", title="Zip Hoodie", colour="grey",
            size="M", quantity=2,
        ),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (
            "4 beanies for the office raffle - 3 grey 1 red - ship to work",
            [("prod_beanie", "grey", None, 3), ("prod_beanie", "red", None, 1)],
        ),
        (
            "4 beanies for the raffle: 3 grey, 1 red",
            [("prod_beanie", "grey", None, 3), ("prod_beanie", "red", None, 1)],
        ),
        (
            "2 trail blazers: one in 41 and one in 44",
            [("prod_trail_blazer", None, "41", 1), ("prod_trail_blazer", None, "44", 1)],
        ),
        (
            "3 black cotton tees L for the team - no wait, 1 L and 2 S",
            [("prod_cotton_tee", "black", "L", 1), ("prod_cotton_tee", "black", "S", 2)],
        ),
    ],
)
def test_a_count_and_its_breakdown_are_one_order(generator, said, expected):
    assert lines(read(generator, said)) == expected


@pytest.mark.parametrize("said", ["a headlamp, it gets dark at 6", "a headlamp - it's pitch dark at 7 when i get home"])
def test_an_hour_is_no_count(generator, said):
    assert lines(read(generator, said)) == [("prod_headlamp", None, None, None)]


def test_a_time_with_minutes_is_still_no_count(generator):
    assert lines(read(generator, "home after 6:45, black fitness band please")) == [
        ("prod_fitness_band", "black", None, None)
    ]


@pytest.mark.parametrize("said", ["finance won't sign that off, just 1", "my boss won't approve that - just one"])
def test_who_would_not_pay_then_the_change(generator, said):
    (command,) = read(generator, said, PREVIEW_HOODIES)
    assert isinstance(command, SetSlot) and command.slot == "quantity" and command.value == "1"


def test_a_limit_on_the_total_said_at_a_preview_marks_the_new_thing(generator):
    (add,) = read(generator, "and a kettlebell if the total stays under $120", PREVIEW_HOODIES)
    assert isinstance(add, AddItems)
    (item,) = add.items
    assert item.product_ids == ("prod_kettlebell",) and item.within_total == 12000


def test_a_limit_with_one_thing_and_no_cart_marks_nothing(generator):
    (add,) = read(generator, "a kettlebell as long as it all stays under $120")
    assert add.items[0].within_total is None


PREVIEW_ONE = DialogueContext(
    cart=(
        CartLine(
            variant_id="var_beanie_grey", product_id="prod_beanie", title="Wool Beanie", colour="grey", size=None,
            quantity=1,
        ),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


def test_a_size_letter_ending_the_sentence_of_the_order(generator):
    assert lines(read(generator, "black cotton tee L. casual friday at the office")) == [
        ("prod_cotton_tee", "black", "L", None)
    ]


def test_no_letter_then_another_is_still_a_correction(generator):
    commands = read(generator, "no M. no L. L final", PREVIEW_HOODIES)
    assert [(command.slot, command.value) for command in commands] == [("size", "L")]


def test_the_same_as_last_month_is_what_was_bought(generator):
    (add,) = read(generator, "same socks as last month please")
    assert add.items[0].saved == "purchased"


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("scrap that, plans changed after the call", "decline"),
        ("nope, not after all", "decline"),
        ("cheers, will sort it after the meeting", "thanks"),
        ("ok one sec, my phone is ringing", "thanks"),
    ],
)
def test_at_a_preview_between_meetings(generator, said, kind):
    assert [command.kind for command in read(generator, said, PREVIEW_ONE)] == [kind]


@pytest.mark.parametrize("said", ["human agent pls", "a real human now", "live chat please"])
def test_a_person_asked_for_in_two_words(generator, said):
    assert [command.kind for command in read(generator, said)] == ["human"]


def test_the_size_before_the_card_said_by_its_last_four(generator):
    cards = DialogueContext(
        cards=(Option(value="4242", label="Visa ending 4242"), Option(value="3220", label="Mastercard ending 3220"))
    )
    commands = read(generator, "navy zip hoodie L on my personal card - the 4242, not the work one", cards)
    assert [line[:3] for line in lines(commands)] == [("prod_zip_hoodie", "navy", "L")]
    assert lines(commands)[0][3] in (None, 1)
    assert any(command.kind == "choose_card" and command.last4 == "4242" for command in commands)


def test_a_colour_said_fine_to_the_sizes_left(generator):
    ask = DialogueContext(
        pending=PendingQuestion(
            slot="size", product_id="prod_pullover_hoodie", title="Pullover Hoodie",
            options=(Option(value="S", label="S"), Option(value="L", label="L")),
        )
    )  # fmt: skip
    commands = read(generator, "black's fine then", ask)
    assert [(command.slot, command.value) for command in commands] == [("colour", "black")]


def test_the_word_one_of_those_shown(generator):
    shown = DialogueContext(
        last_shown=(
            Option(value="prod_cloud_jogger", label="Cloud Jogger"),
            Option(value="prod_trail_blazer", label="Trail Blazer"),
        )
    )
    assert lines(read(generator, "cloud one, grey 42", shown)) == [("prod_cloud_jogger", "grey", "42", None)]


def test_the_size_before_a_card_said_by_what_it_is_for(generator):
    assert lines(read(generator, "black tech tee L on my work card"))[0][:3] == ("prod_tech_tee", "black", "L")


@pytest.mark.parametrize("said", ["anything for the kitchen under $30?", "something for my desk under 30 bucks"])
def test_what_it_is_for_before_a_budget(generator, said):
    (search,) = read(generator, said)
    assert search.kind == "search" and search.price_max == 3000


@pytest.mark.parametrize("said", ["8 caps for the club, or however many you've got", "8 caps, or as many as you have"])
def test_or_however_many_is_up_to_the_count(generator, said):
    (add,) = read(generator, said)
    (item,) = add.items
    assert item.quantity == 8 and item.up_to is True


def test_the_kind_named_among_those_shown_is_that_one(generator):
    shown = DialogueContext(
        last_shown=(
            Option(value="prod_foam_roller", label="Foam Roller"),
            Option(value="prod_steel_bottle", label="Insulated Steel Bottle"),
            Option(value="prod_run_cap", label="Running Cap"),
        )
    )
    assert lines(read(generator, "the bottle, white", shown)) == [("prod_steel_bottle", "white", None, None)]
    assert [command.kind for command in read(generator, "do you have other bottles?", shown)] == ["search"]


def test_bought_before_in_another_colour_keeps_every_product_of_the_kind(generator):
    (add,) = read(generator, "the usual socks but in grey this time")
    (item,) = add.items
    assert item.saved == "purchased" and item.colour == "grey"
    assert set(item.product_ids) == {"prod_run_socks", "prod_wool_socks"}
