"""The reader on held-out runs 46 (requests that leave something open), 47 (detours in the middle of an order) and 48
(how people answer the assistant's questions), in words of our own. Each case was misread before, most of them into a
wrong order: a last clause that said nothing the order needed made the order a search ("…, mine ripped"), a time of
year said last ordered a past purchase ("…, long run season again"), an apology said first hid the change after it
("sorry was on the phone. actually L"), "the usual one is fine" at a preview ordered the last purchase again, "the
other colour would be nicer" was a question, a thing bought asked after went back in the cart, "yes add one" after the
one product answered about was not understood, "1 M and 1 L" to how many kept only the M, "42, oh and chuck in a cap"
lost the 42, "not home, the other one" changed the cap's colour."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AccountInfo,
    CartLine,
    ChooseAddress,
    ChooseCard,
    ChooseShipping,
    ClearCart,
    DialogueContext,
    ListPromotions,
    Option,
    OrderStatus,
    PendingQuestion,
    Preview,
    ProductQuestion,
    RemoveItem,
    Search,
    Select,
    SetSlot,
    ShowCart,
    Thanks,
    Undo,
    UseMyPromotion,
)
from tests.understanding.reading import cart_line as _line
from tests.understanding.reading import lines, read


def _preview(*cart: CartLine, **more) -> DialogueContext:
    return DialogueContext(cart=cart, awaiting_confirmation=True, **more)


HOODIE = _line("var_zip_hoodie_navy_m", "prod_zip_hoodie", "navy", "M")
CAP = _line("var_run_cap_blue", "prod_run_cap", "blue")
CLASSIC = _line("var_court_classic_44", "prod_court_classic", "white", "44")
CARDS = (
    Option("4242", "Visa ending 4242"),
    Option("0002", "Visa ending 0002"),
    Option("3220", "Mastercard ending 3220"),
)


@pytest.mark.parametrize(
    ("said", "product", "colour", "size"),
    [
        ("grey gym duffel please, the strap on mine snapped", "prod_gym_duffel", "grey", None),
        ("blue packable rain jacket in M, camping next month", "prod_rain_jacket", "blue", "M"),
        ("cargo shorts, L, for the garden", "prod_cargo_shorts", None, "L"),
    ],
)
def test_a_last_clause_that_says_nothing_the_order_needs_leaves_the_order(generator, said, product, colour, size):
    commands = read(generator, said)

    assert lines(commands) == [(product, colour, size, None)], commands


@pytest.mark.parametrize(
    "said",
    ["merino or running socks, which would you go for", "the gym duffel, or is the day pack better"],
)
def test_a_last_clause_that_asks_or_chooses_is_kept(generator, said):
    commands = read(generator, said)

    assert lines(commands) == [], commands


def test_the_time_of_year_said_last_orders_nothing_bought_before(generator):
    commands = read(generator, "2 soft flasks, it's marathon season again")

    assert lines(commands) == [("prod_soft_flask", None, None, 2)]


@pytest.mark.parametrize(
    ("said", "change"),
    [
        ("sorry, the doorbell went. actually M", SetSlot(slot="size", value="M", correction=True)),
        ("oops dog needed walking. can you do L instead", SetSlot(slot="size", value="L", correction=True)),
        ("soz kids got hold of the phone. M not S", SetSlot(slot="size", value="M")),
    ],
)
def test_an_apology_said_first_leaves_the_change_after_it(generator, said, change):
    assert read(generator, said, _preview(HOODIE)) == [change]


def test_an_apology_that_says_a_value_is_read_whole(generator):
    commands = read(generator, "sorry, L not M. thanks", _preview(HOODIE))

    assert SetSlot(slot="size", value="L", correction=True) in commands


@pytest.mark.parametrize("said", ["ok the usual one is fine", "the default's fine thanks"])
def test_the_usual_one_is_fine_at_a_preview_orders_nothing_more(generator, said):
    assert read(generator, said, _preview(HOODIE)) == [Thanks()]


@pytest.mark.parametrize("said", ["actually the other colour would be nicer", "the other colour might be better"])
def test_the_other_colour_said_with_why_is_the_one_other_colour(generator, said):
    [change] = read(generator, said, _preview(HOODIE))

    assert (change.slot, change.value, change.correction) == ("colour", "grey", True)


@pytest.mark.parametrize("said", ["orange, the bright one", "black - the dark one please"])
def test_a_colour_with_how_it_looks_is_the_colour(generator, said):
    tee = _line("var_tech_tee_blue_m", "prod_tech_tee", "blue", "M")

    [change] = read(generator, said, _preview(tee))

    assert (change.slot, change.value) == ("colour", said.split(",")[0].split(" ")[0])


@pytest.mark.parametrize("said", ["do it in 44 actually", "could you do them in a 43"])
def test_do_it_in_a_size_is_that_size_and_no_yes(generator, said):
    runner = _line("var_blue_runner_42", "prod_blue_runner", "blue", "42")

    [change] = read(generator, said, _preview(runner, CAP))

    assert isinstance(change, SetSlot) and change.slot == "size" and change.value in ("43", "44")


@pytest.mark.parametrize(
    "said",
    [
        "did the wool socks i ordered ever get sent?",
        "have the blue runners we bought shipped yet",
        "did you place it already??",
    ],
)
def test_a_thing_bought_asked_after_is_its_orders_status(generator, said):
    assert read(generator, said, _preview(HOODIE)) == [OrderStatus()]


def test_the_preview_line_named_again_is_no_second_one(generator):
    assert read(generator, "the court classics, 44", _preview(CLASSIC)) == [Preview()]
    assert lines(read(generator, "another pair of the court classics", _preview(CLASSIC))) == [
        ("prod_court_classic", None, None, None)
    ]


@pytest.mark.parametrize(
    ("said", "colour", "size"),
    [("yes add one", None, None), ("ok put one in, red", "red", None), ("add a grey one then", "grey", None)],
)
def test_one_of_the_product_just_answered_about_beside_another_line(generator, said, colour, size):
    context = _preview(CAP, last_shown=(Option("prod_beanie", "Wool Beanie"),))

    assert [line[:3] for line in lines(read(generator, said, context))] == [("prod_beanie", colour, size)]


def test_a_pack_of_the_socks_just_priced_is_the_socks(generator):
    context = _preview(CAP, last_shown=(Option("prod_run_socks", "Running Socks 3-pack"),))

    assert lines(read(generator, "add a black pack in L then", context)) == [("prod_run_socks", "black", "L", None)]


@pytest.mark.parametrize(
    ("said", "first", "second"),
    [("1 M and 1 L then", ("size", "M"), ("L", 1)), ("one in S and two in M", ("size", "S"), ("M", 2))],
)
def test_two_values_with_a_count_each_to_how_many(generator, said, first, second):
    context = DialogueContext(
        pending=PendingQuestion(
            slot="quantity", product_id="prod_gloves", title="Touchscreen Running Gloves", quantity=3
        )
    )

    commands = read(generator, said, context)

    assert commands[:2] == [SetSlot(slot="quantity", value=said[0] if said[0].isdigit() else "1"), SetSlot(*first)]
    assert lines(commands) == [("prod_gloves", None, second[0], second[1])]


def test_a_size_answered_then_oh_and_another_thing(generator):
    context = DialogueContext(
        pending=PendingQuestion(
            slot="size", product_id="prod_blue_runner", title="Blue Runner", options=(Option("42", "42"),)
        )
    )

    commands = read(generator, "42, oh and chuck in a white cap", context)

    assert SetSlot(slot="size", value="42") in commands
    assert lines(commands) == [("prod_run_cap", "white", None, None)]


@pytest.mark.parametrize(
    "said",
    ["grey beanie, what shipping options are there", "2 white running caps and how long does delivery take"],
)
def test_the_thing_said_before_a_shipping_question_is_asked_for_too(generator, said):
    commands = read(generator, said)

    assert len(lines(commands)) == 1
    assert commands[-1].kind == "out_of_scope" and commands[-1].topic == "shipping"


@pytest.mark.parametrize(
    ("said", "option"),
    [
        ("the quick one then", "express"),
        ("whichever's cheaper", "standard"),
        ("the cheap one's fine", "standard"),
        ("fastest please", "express"),
    ],
)
def test_a_shipping_option_picked_right_after_they_were_told(generator, said, option):
    assert read(generator, said, _preview(CAP, shipping_offered=True)) == [ChooseShipping(option=option)]


def test_the_quick_one_is_no_shipping_choice_when_no_options_were_told(generator):
    assert not any(
        isinstance(command, ChooseShipping) for command in read(generator, "the quick one then", _preview(CAP))
    )


def test_how_fast_it_can_be_sent_is_a_shipping_question(generator):
    [command] = read(generator, "how fast can you send it?", _preview(CAP))

    assert command.kind == "out_of_scope" and command.topic == "shipping"


def test_not_this_address_the_other_one(generator):
    context = _preview(CAP, addresses=("Home", "Work"))

    assert read(generator, "not home, the other one", context) == [ChooseAddress(label="work")]
    assert read(generator, "no, not work", context) == [ChooseAddress(label="home")]


def test_not_this_card_is_the_other_card_of_its_kind(generator):
    context = _preview(CAP, cards=CARDS)

    assert read(generator, "not the 0002, that one's dead", context) == [ChooseCard(last4="4242")]
    assert ChooseCard(last4="4242") not in read(generator, "not the 3220", context)


def test_both_of_them_to_which_item_is_the_every_line_option(generator):
    context = DialogueContext(
        cart=(CAP, HOODIE),
        pending=PendingQuestion(
            slot="line",
            options=(
                Option("var_run_cap_blue", "Running Cap (blue)"),
                Option("var_zip_hoodie_navy_m", "Zip Hoodie (navy, M)"),
                Option("every_line", "both"),
            ),
        ),
    )

    for said in ("both of them", "both please", "all of them"):
        assert read(generator, said, context) == [Select(value="every_line")]
    assert read(generator, "the cap", context) == [Select(value="var_run_cap_blue")]


def test_a_question_naming_nothing_new_is_still_a_question(generator):
    # the fallbacks above do not turn questions into orders
    assert isinstance(read(generator, "how much is the wool beanie")[0], ProductQuestion)
    assert isinstance(read(generator, "show me trail shoes")[0], Search)


def test_a_shipping_option_named_by_its_price_is_express_up_to_that_price(generator):
    [choice] = read(generator, "the 15 dollar one", _preview(CAP, shipping_offered=True))

    # the shop alone knows what express costs: up to the dollar said, else standard (and the customer is told)
    assert choice == ChooseShipping(option="express", within=1599, otherwise="standard")
    assert not any(isinstance(c, ChooseShipping) for c in read(generator, "the 15 dollar one", _preview(CAP)))


@pytest.mark.parametrize(
    ("said", "then"),
    [
        ("is my work address saved", []),
        ("got my work address on file? if so send it there", [ChooseAddress(label="work")]),
    ],
)
def test_whether_an_address_is_saved_is_asked_about_the_addresses(generator, said, then):
    assert read(generator, said, _preview(CAP, addresses=("Home", "Work"))) == [AccountInfo(topic="addresses"), *then]


def test_there_is_an_address_the_policy_resolves(generator):
    assert read(generator, "send it there then", _preview(CAP)) == [ChooseAddress(label="there")]
    commands = read(generator, "great, send a black gym duffel there")
    assert lines(commands) == [("prod_gym_duffel", "black", None, None)]
    assert commands[-1] == ChooseAddress(label="there")


def _asked(slot: str, product: str, *values: str) -> DialogueContext:
    return DialogueContext(
        pending=PendingQuestion(
            slot=slot, product_id=product, title=product, options=tuple(Option(value, value) for value in values)
        )
    )


@pytest.mark.parametrize(
    ("said", "context", "value"),
    [
        ("41, wide feet", _asked("size", "prod_chelsea_boot", "40", "41", "42"), "41"),
        ("M please, size 9 feet", _asked("size", "prod_run_socks", "S", "M", "L"), "M"),
        ("43 yep, same as the ones i had before", _asked("size", "prod_blue_runner", "42", "43"), "43"),
    ],
)
def test_an_answer_with_something_said_about_the_customer_is_the_answer(generator, said, context, value):
    # "40, small feet" was size S; "42 yeah, same as the ones i liked" asked for 42 of the liked item
    assert read(generator, said, context) == [SetSlot(slot="size", value=value)]


def test_an_answer_then_a_full_stop_then_more(generator):
    commands = read(generator, "44. and can it go express", _asked("size", "prod_trail_blazer", "43", "44"))

    assert commands == [SetSlot(slot="size", value="44"), ChooseShipping(option="express")]


@pytest.mark.parametrize("said", ["both ngl, one of each", "both please"])
def test_both_to_a_question_between_two_colours_is_one_of_each(generator, said):
    commands = read(generator, said, _asked("colour", "prod_zip_hoodie", "grey", "navy"))

    assert {command.value for command in commands if command.slot == "colour"} == {"grey", "navy"}


def test_a_position_and_a_name_that_disagree_take_the_name(generator):
    context = DialogueContext(
        pending=PendingQuestion(
            slot="product",
            options=(
                Option("prod_down_jacket", "Down Jacket"),
                Option("prod_rain_jacket", "Packable Rain Jacket"),
                Option("prod_wind_shell", "Running Wind Shell"),
            ),
        )
    )

    assert read(generator, "the second one, the wind shell", context) == [Select(value="prod_wind_shell")]
    assert read(generator, "the second one", context) == [Select(index=1)]


SUNGLASSES = _line("var_sunglasses", "prod_sunglasses", "black")
FLASK = _line("var_soft_flask", "prod_soft_flask", "clear", quantity=2)
HEADLAMP = _line("var_headlamp", "prod_headlamp", "black")
SOCKS_BLACK = _line("var_run_socks_black_s", "prod_run_socks", "black", "S")
SOCKS_WHITE = _line("var_run_socks_white_s", "prod_run_socks", "white", "S")
ZIP_S = _line("var_zip_hoodie_grey_s", "prod_zip_hoodie", "grey", "S")
CHINOS_S = _line("var_chinos_navy_s", "prod_chinos", "navy", "S")
BAND = _line("var_fitness_band_pink", "prod_fitness_band", "pink")
SHELL = _line("var_wind_shell_blue_m", "prod_wind_shell", "blue", "M")


def _targets(commands: list) -> list[tuple]:
    return [
        (command.kind, getattr(command, "slot", ""), getattr(command, "value", ""), command.target.variant_id)
        for command in commands
        if getattr(command, "target", None) is not None
    ]


@pytest.mark.parametrize(
    ("said", "cart", "expected"),
    [
        ("no cap, just the sunglasses", (SUNGLASSES, CAP), [("remove_item", "", "", "var_run_cap_blue")]),
        ("drop to one flask then", (FLASK, HEADLAMP), [("set_slot", "quantity", "1", "var_soft_flask")]),
        (
            "3 more of the white ones",
            (SOCKS_BLACK, SOCKS_WHITE),
            [("set_slot", "quantity", "4", "var_run_socks_white_s")],
        ),
        ("chinos in M, the hoodie stays S", (ZIP_S, CHINOS_S), [("set_slot", "size", "M", "var_chinos_navy_s")]),
        (
            "the band is for the 18th and wont make it anyway, drop it",
            (SHELL, BAND),
            [("remove_item", "", "", "var_fitness_band_pink")],
        ),
        (
            "2 of each of those",
            (SUNGLASSES, CAP),
            [("set_slot", "quantity", "2", "var_sunglasses"), ("set_slot", "quantity", "2", "var_run_cap_blue")],
        ),
    ],
)
def test_a_change_of_one_of_several_lines_names_its_line(generator, said, cart, expected):
    assert _targets(read(generator, said, _preview(*cart))) == expected


def test_instead_of_one_thing_another_swaps_that_line(generator):
    commands = read(generator, "instead of the flask, the blue steel bottle", _preview(HEADLAMP, FLASK))

    assert ("set_slot", "product", "prod_steel_bottle", "var_soft_flask") in _targets(commands)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("run me through the order again", [ShowCart()]),
        ("undo that, M was right", [Undo()]),
        ("can it be a 42", [SetSlot(slot="size", value="42", correction=True)]),
        ("use my personal one", [UseMyPromotion()]),
    ],
)
def test_what_people_say_about_a_cart_of_several_lines(generator, said, expected):
    assert read(generator, said, _preview(_line("var_chelsea_boot_tan_41", "prod_chelsea_boot", "tan", "41"), CAP)) == (
        expected
    )


def test_another_colour_of_the_one_line_in_the_same_size(generator):
    commands = read(generator, "and black ones, same size", _preview(SOCKS_WHITE))

    assert [line[:3] for line in lines(commands)] == [("prod_run_socks", "black", "S")]


def test_the_same_kind_for_two_purposes_is_two_things(generator):
    assert [line[:3] for line in lines(read(generator, "socks for hiking and some for running, both in L"))] == [
        ("prod_wool_socks", None, "L"),
        ("prod_run_socks", None, "L"),
    ]


def test_why_an_address_is_better_names_no_second_one(generator):
    context = _preview(CAP, addresses=("Home", "Work"))

    assert read(generator, "no actually home's better, nobody's in the office on fridays", context) == [
        ChooseAddress(label="home")
    ]


def test_the_word_ones_is_the_line_whose_title_has_the_word(generator):
    hiking = _line("var_wool_socks_l", "prod_wool_socks", "grey", "L")
    running = _line("var_run_socks_white_l", "prod_run_socks", "white", "L")

    commands = read(generator, "oh and make the hiking ones 2 pairs", _preview(hiking, running))

    assert _targets(commands) == [("set_slot", "quantity", "2", "var_wool_socks_l")]


@pytest.mark.parametrize(("said", "end"), [("take the cheaper one out", "lowest"), ("drop the pricier one", "highest")])
def test_the_cheaper_of_two_lines_is_for_the_shops_prices_to_say(generator, said, end):
    beanie = _line("var_beanie_red", "prod_beanie", "red")

    # which line is cheaper, the policy asks the shop's prices (it was not understood, and the yes placed both)
    assert read(generator, said, _preview(beanie, CAP)) == [RemoveItem(price=end)]


@pytest.mark.parametrize(
    "said", ["oh thats over 100, drop the cap", "hmm that's way over my $100 budget, drop the cap"]
)
def test_what_the_total_is_beside_a_limit_is_no_count(generator, said):
    runner = _line("var_trail_blazer_black_42", "prod_trail_blazer", "black", "42")

    assert _targets(read(generator, said, _preview(runner, CAP))) == [("remove_item", "", "", "var_run_cap_blue")]
    # a condition on the price stays one ("only if its under 60")
    assert any(
        getattr(c, "price_max", None) == 6000 for c in read(generator, "blue rain jacket L but only if its under 60")
    )


@pytest.mark.parametrize("said", ["thats under 50 right?", "that's over 100 right", "its less than 60 yeah?"])
def test_a_question_about_the_total_at_a_preview_is_never_a_yes(generator, said):
    bottles = _line("var_steel_bottle_black", "prod_steel_bottle", "black", quantity=2)

    # the total beside a limit was once dropped as a remark, and "right?" left over read as a yes (an order placed)
    assert not any(command.kind == "confirm" for command in read(generator, said, _preview(bottles)))


@pytest.mark.parametrize(
    ("said", "code"), [("is SAVE10 still a thing?", "SAVE10"), ("does RUN15 work on these?", "RUN15")]
)
def test_whether_a_code_works_is_asked_never_applied(generator, said, code):
    assert read(generator, said, _preview(CAP)) == [ListPromotions(code=code)]


@pytest.mark.parametrize(
    "said", ["oh wait, whats happening with my other order?", "what's up with the order i placed monday"]
)
def test_what_is_happening_with_an_order_is_its_status(generator, said):
    assert read(generator, said, _preview(CAP)) == [OrderStatus()]


def test_start_again_with_a_thing_is_the_cart_emptied_and_the_thing(generator):
    commands = read(generator, "forget it, start again. navy zip hoodie L", _preview(CAP))

    assert commands[0] == ClearCart()
    assert lines(commands) == [("prod_zip_hoodie", "navy", "L", None)]


@pytest.mark.parametrize("said", ["hmm is the beanie itchy?", "ok does the cap have a strap?"])
def test_a_question_about_a_line_with_a_sound_first_is_a_question(generator, said):
    beanie = _line("var_beanie_grey", "prod_beanie", "grey")

    # found trying the assistant as a shopper: it was read as a change to a beanie, and its colour asked
    assert [command.kind for command in read(generator, said, _preview(beanie, CAP))] == ["product_question"]
