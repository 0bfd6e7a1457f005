"""What a message says beside the order (ordering/agent/understand/asides.py): numbers that count something else,
a value said with "not", a joke taken back. Each case here was read wrong before (a wrong order or a wrong count)."""

from __future__ import annotations

import pytest

from ordering.agent.understand.asides import drop_asides
from ordering.agent.understand.text import normalize


def aside(message: str):
    return drop_asides(normalize(message))


@pytest.mark.parametrize(
    ("message", "left"),
    [
        ("I'm 42 years old and need a yoga mat", "and need a yoga mat"),
        ("my son turns 10 on friday, a tech tee S", "my son on friday , a tech tee s"),
        ("order number 10234 again please", "my order again please"),
        ("i run 3 times a week, blue runner 42", "i run , blue runner 42"),
        ("headlamp for my 100 mile race", "headlamp for my race"),
        ("chinos navy M, I need it before the 15th", "chinos navy m"),  # the deadline with its "i need it"
        ("send a kettlebell to room 101", "send a kettlebell to my room"),
        ("cloud jogger grey size forty three", "cloud jogger grey size 43"),
        ("the trail blazer, green not black, 43 not 44", "the trail blazer , green , 43"),
        ("add 5 kettlebells. just kidding, one beanie in grey", "one beanie in grey"),
        # Two sizes left open are no size said: the assistant asks (45 was read as 45 of another item).
        ("usually a 44 but sometimes 45, the cloud jogger in grey", "the cloud jogger in grey"),
        ("im between 42 and 43, blue runner", "i am , blue runner"),
    ],
)
def test_what_is_said_beside_the_order_goes_and_the_value_meant_stays(message, left):
    assert aside(message).text == left


@pytest.mark.parametrize(
    ("message", "left"),
    [
        ("zip hoodies for me and my wife: navy L for me and grey S for her", "zip hoodies navy l and grey s"),
        ("gloves for me in M and my son in S", "gloves in m and in s"),
        ("a red beanie for my girlfriend please", "a red beanie please"),
        # the recipient is what is asked about: it stays
        ("something for my dad who hikes", "something for my dad who hikes"),
        ("what do you have for my son", "what do you have for my son"),
        ("gift ideas for my wife", "gift ideas for my wife"),
        ("shoes for her birthday", "shoes for her birthday"),
    ],
)
def test_who_each_part_is_for_goes_and_what_is_asked_about_stays(message, left):
    assert aside(message).text == left


def test_a_value_said_only_with_not_is_kept_apart_and_a_self_correction_is_left_alone():
    assert aside("a steel bottle, not blue").text == "a steel bottle"
    assert aside("a steel bottle, not blue").excluded == ["blue"]
    # "no 43" after a size is a self-correction (repair.py reads it), never "not 43".
    assert aside("blue runner 42 no 43").text == "blue runner 42 no 43"
    assert aside("2 blue runners size 42").text == "2 blue runners size 42"  # counts and sizes stay
    assert aside("3 tees for me").text == "3 tees"  # who it is for goes (below)


def test_anything_but_a_colour_and_what_stays_in_a_removal_and_what_is_not_wanted_this_time():
    assert aside("a canvas low in 42, anything but black").excluded == ["black"]
    assert aside("remove the socks, not the shoes").text == "remove the socks"  # it removed both lines
    assert aside("no socks this time, just the cotton tee in black L").text == "just the cotton tee in black l"
    assert aside("not the shoes").text == "not the shoes"  # not a removal: left to the reader


@pytest.mark.parametrize(
    ("message", "left"),
    [
        # a budget is the most the customer will pay ("no more than 100" was a removal, "£30" a search for "30")
        ("£25 budget, a red beanie please", "under 25 , a red beanie please"),
        ("i can only spend 80 dollars on a hoodie", "under 80 a hoodie"),
        ("my budget is about 50, cotton tee M", "under 50 , cotton tee m"),
        # a price that names the product is no count
        ("the $55 pullover in red M", "the pullover in red m"),
        # why, not what: a gift, an age, a saying
        ("christmas present for my 8 year old, a red beanie", "a red beanie"),
        ("cap in white, it's a gift for my brother", "cap in white"),
        ("my daughter is 11, she wants the graphic tee in S", "my daughter is , she wants the graphic tee in s"),
        ("to cut a long story short i need a headlamp", "i need a headlamp"),
        # the shop's stock decides; never dropped from a yes, nor from a count wanted if there are enough
        ("beanie in grey if you have it", "beanie in grey"),
        ("yes if it is in stock", "yes if it is in stock"),
        ("i want 3 if you have them", "i want 3 if you have them"),
    ],
)
def test_a_budget_a_price_a_gift_an_age_and_if_you_have_it_are_said_beside_the_order(message, left):
    assert aside(message).text == left


def test_gift_questions_keep_their_words():
    assert aside("gift ideas for a runner").text == "gift ideas for a runner"
    assert aside("a gift for my wife").text == "a gift for my wife"


def test_a_trailing_whatever_and_sounds_of_annoyance_carry_nothing():
    assert aside("meh put the cap back, whatever").text == "put the cap back"
    assert aside("ugh no, 42 was right").text == "actually 42"
    # a value right after "whatever" is the last word of a repair (repair.py), left in place
    assert aside("black. whatever, blue").text == "black whatever , blue"


def test_an_apology_is_a_sorry_and_what_should_have_been_is_a_change():
    # "apologies, that should have been a large" looked for a product called "apologie".
    assert aside("apologies, that should have been a large").text == "sorry should be a large"
    assert aside("I do beg your pardon, size S").text == "sorry size s"
    assert aside("excuse me, where is my order").text == "sorry where is my order"


@pytest.mark.parametrize(
    ("message", "left"),
    [
        # each added both choices (two pairs), or read "43" as a count of an unknown shoe; with a second choice said,
        # "if you have it" is that choice's condition and goes too (set 28: "2 pairs if they're in stock, if not one")
        ("the trail blazer 43 if you have it, otherwise the blue runner 43", "the trail blazer 43"),
        ("trail blazer 43 or if that's sold out the blue runner 43", "trail blazer 43"),
        ("grey beanie, or red if grey is out", "grey beanie"),
        ("cotton tee black L, if you dont have it in black then white", "cotton tee black l"),
    ],
)
def test_a_second_choice_for_when_the_first_is_gone_leaves_the_first(message, left):
    assert aside(message).text == left


def test_a_condition_on_a_yes_is_left_for_the_reader_to_refuse():
    assert aside("yes if not too late").text == "yes if not too late"
    assert aside("if not, cancel").text == "if not , cancel"


@pytest.mark.parametrize(
    ("message", "left"),
    [
        # a measure is no count (5 pairs of shorts, 20 day packs), and is written as the shop's titles write it
        ("5 inch running shorts black M", "5-inch running shorts black m"),
        ("20 litre day pack", "20l day pack"),
        ("kettlebell 12 kg x2", "kettlebell 12kg x2"),
        ("merino socks, 2 M and 1 L", "merino socks , 2 m and 1 l"),  # "1 L" is one large
        # money said about the price is no count ("make it 50 bucks cheaper" set the quantity to 50)
        ("make it 50 bucks cheaper lol", "make it cheaper"),
        ("can you do it for $10 less", "can you do it cheaper"),
        # how many things the list has is no count of its first thing ("a few things" ordered 3 chinos)
        ("i need a few things. the navy chinos in L", "i need the navy chinos in l"),
        ("here's the deal: blue runners 42", "blue runners 42"),
        # what comes after a change of subject is the request ("super late" was an item to look for)
        ("the box was crushed 😤 anyway I need a rain jacket, blue S", "i need a rain jacket , blue s"),
        ("if you have the tech tee in orange L add that too", "and the tech tee in orange l"),
    ],
)
def test_measures_money_list_sizes_and_changes_of_subject_are_no_counts_or_items(message, left):
    assert aside(message).text == left


def test_what_a_thing_goes_with_is_no_swap():
    # "and a steel bottle to go with it, blue" replaced the day pack ("go with" read as choosing the bottle)
    assert aside("and a steel bottle to go with it, blue").text == "and a steel bottle , blue"
    assert aside("a cap to match the shorts").text == "a cap"


def test_what_the_customer_has_now_and_an_apology_for_the_message_are_no_order():
    text = "ok sorry for the long message. my old shoes finally died (RIP) after like 3 years, blue runner 44"
    assert aside(text).text == "ok , blue runner 44"
    assert aside("cancel my last order").text == "cancel my last order"  # an order of theirs stays


def test_a_price_said_for_the_thing_is_no_count_and_a_limit_stays():
    # "can i get the blue runners for 60 bucks in 42" was 60 pairs
    assert aside("can i get the blue runners for 60 bucks in 42").text == "can i get the blue runners in 42"
    assert aside("30 caps at $15 each").text == "30 caps"
    assert aside("running shoes under $100").text == "running shoes under $100"


def test_why_a_line_goes_is_no_search():
    # "hmm too expensive, drop the cap" also searched for cheaper things (found when trying the widget)
    assert aside("hmm too expensive, drop the cap").text == "drop the cap"
    assert aside("too expensive").text == "too expensive"  # alone, it still asks for cheaper things


@pytest.mark.parametrize(
    ("message", "left", "otherwise"),
    [
        ("blue runners in 42, or 43 if the 42s are gone", "blue runners in 42", "43"),
        ("grey cloud joggers in 42, or 41 if there's no 42", "grey cloud joggers in 42", "41"),
        ("kettlebell please, 2 if you have them, 1 if not", "kettlebell please , 2", "1"),
        ("the shoes i saved, and if my size has gone a 43 is fine", "the shoes i saved", "43"),
    ],
)
def test_the_second_choice_is_kept_for_the_reader(message, left, otherwise):
    said = aside(message)

    assert (said.text, said.otherwise) == (left, otherwise)


def test_a_limit_on_the_whole_order_is_kept_with_where_it_was_said():
    end = aside("blue runners in 44, socks L, and a blue cap as long as it all stays under 100")
    middle = aside("blue runner 42 and, if the total's still under 100, a pack of white running socks m too")

    assert (end.total_max, end.total_before, end.text) == (10000, "", "blue runners in 44, socks l, and a blue cap")
    assert (middle.total_max, middle.total_before) == (10000, "blue runner 42 and")
