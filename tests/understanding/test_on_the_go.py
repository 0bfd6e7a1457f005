"""The reader on held-out run 41 (on the go: phone thumbs and voice dictation), in words of our own. Each case was a
wrong order, a lost order or a question asked back before: a code said aloud ("save ten on …") was the count, "to"
and "for" said for two and four were no count, a curse between two sizes ordered both, a message for someone else
("tell him I'll be there in five") gave the count, a word misheard beside a product's title ("steal bottle", "marina
socks") was searched for, and a pause before a change ("hang on make it two") searched for "hang"."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    ApplyCode,
    CartLine,
    Confirm,
    DialogueContext,
    Option,
    OrderStatus,
    OutOfScope,
    PendingQuestion,
    Preview,
    ProductQuestion,
    SetSlot,
    Thanks,
)
from ordering.agent.understand.generator import spoken_codes, spoken_counts
from ordering.evaluation.messages import demo_lexicon
from tests.understanding.reading import lines, read


def _cart(*lines_: tuple[str, str, str | None, str | None], waiting: bool = True) -> DialogueContext:
    cart = tuple(
        CartLine(variant_id=variant, product_id=product, title=product, colour=colour, size=size, quantity=1)
        for variant, product, colour, size in lines_
    )
    return DialogueContext(cart=cart, awaiting_confirmation=waiting)


@pytest.mark.parametrize(
    ("said", "code", "expected"),
    [
        ("use ten off code on a grey beanie", None, None),  # no code word beside a round number: left alone
        ("save twenty on the navy zip hoodie L", "SAVE20", ("prod_zip_hoodie", "navy", "L", None)),
        ("winter fifteen code on a black running cap", "WINTER15", ("prod_run_cap", "black", None, None)),
        ("spring 10 on the blue runners 43", "SPRING10", ("prod_blue_runner", None, "43", None)),
    ],
)  # fmt: skip
def test_a_code_said_aloud_is_a_code_never_a_count(generator, said, code, expected):
    commands = read(generator, said)
    codes = [command.code for command in commands if isinstance(command, ApplyCode)]
    if code is None:
        assert codes == []
        return
    assert codes == [code]
    assert lines(commands) == [expected]


@pytest.mark.parametrize(
    "said",
    ["ten on the blue caps", "get 5 on the caps", "blue runners size ten", "grey beanie x5 please"],
)
def test_a_count_or_a_size_said_with_a_number_is_no_code(generator, said):
    assert not any(isinstance(command, ApplyCode) for command in read(generator, said))


def test_spoken_codes_leaves_the_words_of_a_cap_and_a_minimum_alone():
    lexicon = demo_lexicon()
    assert spoken_codes("wait the code needs 40? ok add a white cap then", lexicon) == (
        "wait the code needs 40? ok add a white cap then"
    )
    assert spoken_codes("use big twenty", lexicon) == "use BIG20"


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("could i get to white running caps", ("prod_run_cap", "white", None, 2)),
        ("i need for pairs of black touchscreen gloves M", ("prod_gloves", "black", "M", 4)),
        ("i want to order the black cap", ("prod_run_cap", "black", None, None)),  # "want to order" stays a verb
    ],
)
def test_to_and_for_dictated_before_a_thing_are_counts(generator, said, expected):
    assert lines(read(generator, said)) == [expected]


def test_spoken_counts_reads_to_as_two_only_before_a_colour_or_a_plural():
    lexicon = demo_lexicon()
    assert spoken_counts("can i get to the shop", lexicon) == "can i get to the shop"
    assert spoken_counts("i need to buy blue caps", lexicon) == "i need to buy blue caps"
    assert spoken_counts("can i get to blue caps", lexicon) == "can i get two blue caps"


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("black steal bottle please", ("prod_steel_bottle", "black", None, None)),
        ("merina socks in medium", ("prod_wool_socks", None, "M", None)),
        ("the black fitness bans", ("prod_fitness_band", "black", None, None)),
        ("bkack running cap", ("prod_run_cap", "black", None, None)),  # k beside l on the keyboard: black, not back
    ],
)
def test_a_word_misheard_beside_its_products_title_is_that_title(generator, said, expected):
    assert lines(read(generator, said)) == [expected]


def test_a_little_word_beside_a_title_word_is_never_corrected():
    # "which" is one edit from "watch" (the GPS Running Watch): it was a search for watches
    lexicon = demo_lexicon()
    assert lexicon.dictation_corrected("earbuds or headphones for running, which do u think") == (
        "earbuds or headphones for running, which do u think"
    )


@pytest.mark.parametrize(
    "said",
    ["white tempo racers in 41 ducking hell, 42", "white tempo racers 41 argh 42", "white tempo racers 41 damn it 42"],
)
def test_a_curse_at_the_slip_is_a_self_correction(generator, said):
    assert lines(read(generator, said)) == [("prod_tempo_racer", "white", "42", None)]


@pytest.mark.parametrize(
    "said",
    [
        "Black running cap. Tell her I'll be there in ten.",
        "black running cap, i'll be back in 5",
        "black running cap see you at 7 x",
    ],
)
def test_a_message_for_someone_else_is_no_part_of_the_order(generator, said):
    assert lines(read(generator, said)) == [("prod_run_cap", "black", None, None)]


@pytest.mark.parametrize("said", ["hang on make it three", "hold on can you make it 3", "wait a sec make it 3"])
def test_a_pause_said_before_a_change_is_the_change(generator, said):
    [command] = read(generator, said, _cart(("var_soft_flask", "prod_soft_flask", None, None)))
    assert isinstance(command, SetSlot)
    assert (command.slot, command.value) == ("quantity", "3")


@pytest.mark.parametrize(
    "said", ["on a call, will sort it later", "in a meeting will do it later", "driving, will do it later"]
)
def test_busy_at_a_preview_is_no_answer(generator, said):
    commands = read(generator, said, _cart(("var_gym_duffel_black", "prod_gym_duffel", "black", None)))
    assert not any(isinstance(command, Confirm) for command in commands)
    assert [type(command) for command in commands] == [Thanks]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("on the train, so be quick - grey beanie", ("prod_beanie", "grey", None, None)),
        ("between calls so quick pls, yoga mat", ("prod_yoga_mat", None, None, None)),
    ],
)
def test_where_the_customer_is_said_first_is_no_search(generator, said, expected):
    assert lines(read(generator, said)) == [expected]


def test_go_ahead_and_order_that_at_a_preview_is_a_yes(generator):
    context = _cart(("var_gym_duffel_black", "prod_gym_duffel", "black", None))
    assert read(generator, "Yes, go ahead and order that.", context) == [Confirm()]
    assert read(generator, "ok go ahead and get them", context) == [Confirm()]


def test_a_reminder_is_not_the_shops_and_remind_me_what_i_ordered_is_my_orders(generator):
    assert read(generator, "could you remind me to stretch at 7") == [OutOfScope(topic="reminders")]
    assert read(generator, "remind me what i bought") == [OrderStatus(which="all")]


def test_a_message_to_the_wrong_chat_is_nothing_to_do(generator):
    context = _cart(("var_gym_duffel_black", "prod_gym_duffel", "black", None))
    assert read(generator, "oops wrong chat", context) == [Thanks()]


def test_home_is_fine_said_short_is_the_home_address(generator):
    context = _cart(("var_run_cap_blue", "prod_run_cap", "blue", None), waiting=False)
    [command] = read(generator, "ah ok homes fine")
    assert command.kind == "choose_address" and command.label.lower() == "home"
    [command] = read(generator, "works better then", context)
    assert command.kind != "choose_address"  # "works" alone is no address


def test_a_size_or_another_if_none_is_the_first_with_the_second_to_fall_back_on(generator):
    [command] = read(generator, "navy zip hoodie S or M if no S")
    assert isinstance(command, AddItems)
    [item] = command.items
    assert (item.size, item.otherwise_size) == ("S", "M")


def test_is_this_the_described_one_asks_about_the_thing_in_the_cart(generator):
    context = _cart(("var_cloud_jogger_blue_41", "prod_cloud_jogger", "blue", "41"))
    [command] = read(generator, "are these the cushioned ones", context)
    assert isinstance(command, ProductQuestion)
    assert command.item.product_ids == ("prod_cloud_jogger",)


def test_nothing_over_an_amount_is_the_most_it_may_cost(generator):
    [command] = read(generator, "what hoodies have you got, nothing over 60 quid")
    assert command.kind == "search"
    assert (command.price_min, command.price_max) == (None, 6000)


def test_grab_a_pair_after_a_product_was_answered_about_is_that_product(generator):
    context = DialogueContext(last_shown=(Option(value="prod_trail_blazer", label="Trail Blazer"),))
    assert lines(read(generator, "sweet, grab a pair in 44 then", context)) == [("prod_trail_blazer", None, "44", None)]


def test_just_mine_after_a_question_about_one_for_someone_else_previews_the_cart(generator):
    context = DialogueContext(
        cart=(CartLine(variant_id="var_cloud_jogger_blue_44", product_id="prod_cloud_jogger", title="Cloud Jogger",
                       colour="blue", size="44", quantity=1),),
        pending=PendingQuestion(slot="size", product_id="prod_cloud_jogger", title="Cloud Jogger"),
    )  # fmt: skip
    for said in ("oh well, just mine then", "forget his", "only mine please"):
        assert read(generator, said, context) == [Preview(without_open_question=True)], said


@pytest.mark.parametrize(
    ("said", "size_said"),
    [
        ("green trail blazers a pair of tens", "10"),
        ("court classics in a nine and a half please", "9.5"),
        ("blue runners in an eight", "8"),  # it was eight pairs
    ],
)
def test_a_shoe_size_said_as_a_word_is_a_size_said_never_a_count(generator, said, size_said):
    [command] = read(generator, said)
    assert isinstance(command, AddItems)
    [item] = command.items
    assert (item.size_said, item.quantity) == (size_said, None)
    assert item.size_options  # the shop's sizes it could be, asked about


def test_in_a_ten_beside_a_thing_without_shoe_sizes_stays_as_it_was(generator):
    [command] = read(generator, "2 caps in a ten")
    assert [(item.size_said, item.quantity) for item in command.items] == [(None, 2)]


def test_the_order_then_a_polite_request_to_send_it_is_the_order_and_the_address(generator):
    commands = read(generator, "grey running cap, could you send it to my work?")
    assert [command.kind for command in commands] == ["add_items", "choose_address"]


def test_asking_to_send_it_to_someone_else_stays_a_question(generator):
    # their address is not the shop's to know: never a silent preview to the customer's own home
    commands = read(generator, "navy zip hoodie M for my brother, can you send it straight to him?")
    assert not any(isinstance(command, AddItems) for command in commands)


@pytest.mark.parametrize("said", ["whats good to where for a wet hike", "what's best for running in the rain"])
def test_what_is_good_to_wear_is_a_look_at_what_the_shop_has(generator, said):
    [command] = read(generator, said)
    assert command.kind == "search"
