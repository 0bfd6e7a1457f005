"""The reader on held-out run 29 (a fourth ordinary day: lunch break and commute), in words of our own. Each case here
was read wrong before: where the customer is, said first or last ("on the bus, 2 navy canvas low 43" was a search for
"bus 2 canvas low"; "omw to work, …" chose the work address; "…, im driving" was a thing to look for), "again" said of
something else than buying ("trains delayed again", "thanks again" reordered the last purchase), a sign-off at the
preview ("thanks! my stop is next") not understood, "wht" read as "what" before a thing, a thing of another kind named
by a word of a product's name ("2 yoga blocks" were two yoga mats), and "same size as the court classics i got last
time" ordered the court classics again."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    ApplyCode,
    CannotHandle,
    CartLine,
    ChooseAddress,
    ChooseShipping,
    DialogueContext,
    Human,
    Option,
    OutOfScope,
    ProductQuestion,
    Thanks,
)
from tests.understanding.reading import lines, read

PREVIEW_CAP = DialogueContext(
    cart=(
        CartLine(
            variant_id="var_run_cap_blue", product_id="prod_run_cap", title="Running Cap", colour="blue", size=None,
            quantity=1,
        ),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("at lunch so real quick, a black beanie please", [("prod_beanie", "black", None, None)]),
        ("on the train, 3 white running caps", [("prod_run_cap", "white", None, 3)]),
        ("im in a meeting rn - grey zip hoodie M", [("prod_zip_hoodie", "grey", "M", None)]),
        ("kettlebell please, im on the bus", [("prod_kettlebell", None, None, None)]),
        ("heading home, a purple yoga mat", [("prod_yoga_mat", "purple", None, None)]),
    ],
)
def test_where_the_customer_is_is_no_part_of_the_order(generator, said, expected):
    commands = read(generator, said)
    assert lines(commands) == expected
    assert not [command for command in commands if isinstance(command, ChooseAddress)]


def test_on_the_way_to_work_chooses_no_address(generator):
    commands = read(generator, "on my way to work, can you add a black tech tee L")
    assert lines(commands) == [("prod_tech_tee", "black", "L", None)]
    assert not [command for command in commands if isinstance(command, ChooseAddress)]


def test_an_address_said_after_where_the_customer_is_is_kept(generator):
    commands = read(generator, "at work, send a white running cap to my home")
    assert lines(commands) == [("prod_run_cap", "white", None, None)]
    assert [command.label for command in commands if isinstance(command, ChooseAddress)] == ["home"]


@pytest.mark.parametrize(
    "said",
    [
        "thanks again!",
        "the bus is late again, ugh",
        "sorry again",
    ],
)
def test_again_about_something_else_reorders_nothing(generator, said):
    commands = read(generator, said)
    assert not [item for command in commands if isinstance(command, AddItems) for item in command.items if item.saved]


def test_again_about_a_thing_is_still_a_reorder(generator):
    (command,) = read(generator, "the court classics again please")
    assert isinstance(command, AddItems)
    assert command.items[0].saved == "purchased"


@pytest.mark.parametrize(
    ("said", "topic"),
    [
        ("train's late. when does the next one to the airport leave", "travel"),
        ("what should we have for dinner tonight", "cooking"),
    ],
)
def test_a_question_about_the_customers_day_is_out_of_scope(generator, said, topic):
    assert read(generator, said) == [OutOfScope(topic=topic)]


@pytest.mark.parametrize(
    "said",
    [
        "ok my stop is next, back later",
        "brb the bus is here",
        "let me check my banking app first",
        "my lunch break is over, talk later",
    ],
)
def test_going_or_checking_first_at_the_preview_is_a_hold(generator, said):
    assert read(generator, said, PREVIEW_CAP) == [Thanks()]


def test_asking_for_a_person_is_no_hold(generator):
    commands = read(generator, "i need to talk to someone, its urgent", PREVIEW_CAP)
    assert commands != [Thanks()]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("wht running cap pls", [("prod_run_cap", "white", None, None)]),
        ("steel bottle in wht", [("prod_steel_bottle", "white", None, None)]),
    ],
)
def test_wht_before_or_as_a_thing_is_white(generator, said, expected):
    assert lines(read(generator, said)) == expected


def test_wht_before_a_question_word_is_what(generator):
    (command,) = read(generator, "wht sizes does the blue runner come in")
    assert isinstance(command, ProductQuestion)


@pytest.mark.parametrize(
    "said",
    ["a purple yoga mat and 2 yoga straps", "a purple yoga mat, 2 yoga wheels"],
)
def test_a_thing_named_by_a_word_of_a_products_name_is_not_that_product(generator, said):
    (command,) = read(generator, said)
    assert isinstance(command, AddItems)
    first, second = command.items
    assert (first.product_ids, first.colour) == (("prod_yoga_mat",), "purple")
    assert second.product_ids == () and second.quantity == 2  # the policy says it is not sold


@pytest.mark.parametrize("said", ["yoga matt purple", "yoga mate in purple"])
def test_a_misspelt_name_is_still_the_product(generator, said):
    assert lines(read(generator, said)) == [("prod_yoga_mat", "purple", None, None)]


def test_a_swim_cap_is_no_running_cap(generator):
    commands = read(generator, "3 swim caps, any colour")
    assert not [item for command in commands if isinstance(command, AddItems) for item in command.items
                if item.product_ids]  # fmt: skip


def test_the_size_of_a_past_purchase_orders_nothing_more(generator):
    commands = read(generator, "grey cloud joggers, same size as the court classics i ordered before")
    assert lines(commands) == [("prod_cloud_jogger", "grey", None, None)]


def test_whether_something_fits_is_a_question(generator):
    (command,) = read(generator, "would my laptop fit in the day pack")
    assert isinstance(command, ProductQuestion)
    assert command.item.product_ids == ("prod_day_pack",)


def test_the_thing_from_my_likes_is_a_liked_item(generator):
    (command,) = read(generator, "the beanie from my likes please")
    assert isinstance(command, AddItems)
    assert command.items[0].saved == "liked"


def test_a_person_asked_to_answer_is_the_handover_even_with_an_if(generator):
    assert read(generator, "could a real person check if these are ok for wide feet", PREVIEW_CAP) == [Human()]


@pytest.mark.parametrize(
    "said",
    ["ok cool, i'll decide later", "nice, ill think about it tonight", "i'll sort it out after work"],
)
def test_deciding_later_at_the_preview_is_a_hold(generator, said):
    assert read(generator, said, PREVIEW_CAP) == [Thanks()]


def test_a_price_complaint_and_a_pass_orders_nothing(generator):
    assert read(generator, "hmm bit much, i'll pass") == [Thanks()]


def test_who_it_is_for_said_last_is_no_part_of_the_order(generator):
    commands = read(generator, "2 pairs of white court classics, a 41 and a 44, one's for my dad")
    assert lines(commands) == [("prod_court_classic", "white", "41", 1), ("prod_court_classic", "white", "44", 1)]
    commands = read(generator, "foam roller to my work address, it's for the office gym")
    assert lines(commands) == [("prod_foam_roller", None, None, None)]
    assert [command.label for command in commands if isinstance(command, ChooseAddress)] == ["work"]


def test_one_for_me_and_one_for_her_is_still_two(generator):
    # one each, said per person: two of the beanie in all, whatever the lines (one of two, or one each with its person)
    said = lines(read(generator, "black beanie, one for me and one for my wife"))
    assert {(product, colour) for product, colour, _size, _count in said} == {("prod_beanie", "black")}
    assert sum(count or 1 for *_rest, count in said) == 2


def test_why_the_address_changes_is_no_part_of_it(generator):
    commands = read(generator, "actually send it home, im working from home this week", PREVIEW_CAP)
    assert [command.label for command in commands if isinstance(command, ChooseAddress)] == ["home"]
    assert len(commands) == 1


def test_a_size_said_first_is_the_size_asked_about(generator):
    (command,) = read(generator, "im a US 10, do the blue runners come in that")
    assert isinstance(command, ProductQuestion)
    assert (command.item.product_ids, command.item.size) == (("prod_blue_runner",), "43")


def test_risking_it_takes_the_thing_just_shown(generator):
    shown = DialogueContext(last_shown=(Option(value="prod_day_pack", label="20L Day Pack"),))
    assert lines(read(generator, "ok i'll chance it, black one", shown)) == [("prod_day_pack", "black", None, None)]


PREVIEW_JACKET = DialogueContext(
    cart=(
        CartLine(
            variant_id="var_rain_jacket_yellow_l", product_id="prod_rain_jacket", title="Rain Jacket", colour="yellow",
            size="L", quantity=1,
        ),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


def test_a_yes_with_but_and_a_change_is_the_change_only(generator):
    assert read(generator, "go ahead, but with express please", PREVIEW_JACKET) == [ChooseShipping(option="express")]


def test_a_yes_with_but_first_and_a_question_is_the_question_only(generator):
    (command,) = read(generator, "sure thing, but first does it have a hood", PREVIEW_JACKET)
    assert isinstance(command, ProductQuestion)


def test_put_the_code_on_is_the_code(generator):
    commands = read(generator, "grey beanie and stick my alice10 code on")
    assert lines(commands) == [("prod_beanie", "grey", None, None)]
    assert [command.code for command in commands if isinstance(command, ApplyCode)] == ["ALICE10"]
    assert not [command for command in commands if isinstance(command, CannotHandle)]


def test_a_heading_that_only_names_the_list_is_no_part_of_it(generator):
    commands = read(generator, "socks + cap for race day: white running socks L, blue running cap")
    assert lines(commands) == [("prod_run_socks", "white", "L", None), ("prod_run_cap", "blue", None, None)]


def test_a_heading_that_says_more_is_kept(generator):
    # "gym" tells which bag; "two gifts" is no heading to drop either
    commands = read(generator, "off to the gym: a bag with space for my shoes (black)")
    assert lines(commands) == [("prod_gym_duffel", "black", None, None)]


def test_both_to_an_address_is_no_count(generator):
    commands = read(generator, "a white running cap and a blue running cap, both to my work address")
    assert lines(commands) == [("prod_run_cap", "white", None, None), ("prod_run_cap", "blue", None, None)]
    assert [command.label for command in commands if isinstance(command, ChooseAddress)] == ["work"]


@pytest.mark.parametrize("said", ["does it run small", "do they come up big"])
def test_how_it_fits_is_a_question_without_a_question_mark(generator, said):
    (command,) = read(generator, said, DialogueContext(cart=PREVIEW_JACKET.cart))
    assert isinstance(command, ProductQuestion)
    assert command.item.product_ids == ("prod_rain_jacket",)


def test_a_question_after_a_yes_and_but_keeps_its_thing(generator):
    (command,) = read(generator, "sounds good, but does it run small", PREVIEW_JACKET)
    assert isinstance(command, ProductQuestion)
    assert command.item.product_ids == ("prod_rain_jacket",)
