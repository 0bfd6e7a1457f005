"""The reader on held-out run 21 (shoppers who dictate, or write British, Australian or Indian English), in words of
our own: numbers a dictation engine writes as words, measures that are part of a name, homophones, punctuation said
aloud, "no the …" corrections, and the phrasings of other Englishes. Each case here was read wrong before, most of
them as a wrong count or a wrong thing in the cart."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AccountInfo,
    AddItems,
    CancelOrder,
    CartLine,
    ChooseAddress,
    ChooseCard,
    ChooseShipping,
    Confirm,
    Decline,
    DialogueContext,
    Option,
    PendingQuestion,
    ProductQuestion,
    RemoveItem,
    SetSlot,
    Thanks,
)
from ordering.agent.understand import OfflineGenerator
from ordering.agent.understand.text import normalize

CARDS = (Option("4242", "Visa ending 4242"), Option("0002", "Visa ending 0002"))
EMPTY = DialogueContext(cards=CARDS, addresses=("Home", "Work"))


def _line(variant: str, product: str, title: str, colour: str | None = None, size: str | None = None) -> CartLine:
    return CartLine(variant_id=variant, product_id=product, title=title, colour=colour, size=size, quantity=1)


MAT = _line("var_yoga_mat_purple", "prod_yoga_mat", "Yoga Mat", "purple")
CAP_BLUE = _line("var_run_cap_blue", "prod_run_cap", "Running Cap", "blue")
CAP_WHITE = _line("var_run_cap_white", "prod_run_cap", "Running Cap", "white")
BOOT_TAN_41 = _line("var_chelsea_boot_tan_41", "prod_chelsea_boot", "Chelsea Boot", "tan", "41")


def _preview(*lines: CartLine, ordered: tuple[CartLine, ...] = ()) -> DialogueContext:
    return DialogueContext(
        cart=lines, awaiting_confirmation=True, ordered=ordered, cards=CARDS, addresses=("Home", "Work")
    )


def _read(generator: OfflineGenerator, text: str, context: DialogueContext = EMPTY) -> list:
    return list(generator.generate(text=text, context=context))


def _item(commands: list):
    adds = [command for command in commands if isinstance(command, AddItems)]
    assert len(adds) == 1 and len(adds[0].items) == 1, commands
    return adds[0].items[0]


@pytest.mark.parametrize(
    ("text", "product", "size"),
    [
        # a measure in a product's name, said in words: never a count (they were 12 kettlebells, 5 pairs of shorts)
        ("grab me a twelve kg kettlebell", "prod_kettlebell", None),
        ("black five-inch shorts, medium", "prod_run_shorts", "M"),
        ("the twenty liter day pack in green", "prod_day_pack", None),
        ("soft flask five hundred millilitres", "prod_soft_flask", None),
        # a pack's size said after the socks' name
        ("black running socks three pack size M", "prod_run_socks", "M"),
    ],
)
def test_a_measure_said_in_words_is_part_of_the_name_not_a_count(generator, text, product, size):
    item = _item(_read(generator, text))

    assert item.product_ids == (product,)
    assert item.quantity in (None, 1)
    assert item.size == size


def test_one_pack_and_two_packs_stay_counts(generator):
    (command,) = _read(generator, "3 packs of white running socks M and one pack grey L")

    assert isinstance(command, AddItems)
    assert [(item.colour, item.size, item.quantity) for item in command.items] == [("white", "M", 3), ("grey", "L", 1)]


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("chelsea boot black size forty three", "43"),
        ("a pair of forty ones in the tan chelsea boot", "41"),
        ("chelsea boots, black, uk nine", "43"),  # UK 9 is EU 43
        ("chelsea boot in black, I'm a 42", "42"),
    ],
)
def test_a_shoe_size_said_in_words_is_the_size_and_one_pair(generator, text, size):
    item = _item(_read(generator, text))

    assert item.product_ids == ("prod_chelsea_boot",)
    assert item.size == size
    assert item.quantity in (None, 1)


@pytest.mark.parametrize(
    "text",
    [
        "my daughter is ten and wants the graphic tee in small",
        "the eighty dollar graphic tee in small",
    ],
)
def test_an_age_or_a_price_in_words_is_no_count(generator, text):
    item = _item(_read(generator, text))

    assert item.product_ids == ("prod_graphic_tee",)
    assert item.quantity in (None, 1)


def test_card_digits_dictated_one_by_one_and_as_homophones_name_the_card(generator):
    for text in ("headlamp on the card ending in four two four two", "a headlamp please, card ends with for to for to"):
        commands = _read(generator, text)
        assert ChooseCard(last4="4242", brand=None) in commands or any(
            isinstance(command, ChooseCard) and command.last4 == "4242" for command in commands
        ), commands


def test_how_many_said_with_the_colour_answer_is_kept(generator):
    question = DialogueContext(
        pending=PendingQuestion(
            slot="colour", product_id="prod_gym_duffel", options=(Option("black", "black"), Option("grey", "grey"))
        )
    )

    commands = _read(generator, "three of the black please", question)

    assert SetSlot(slot="colour", value="black") in commands
    assert SetSlot(slot="quantity", value="3") in commands


@pytest.mark.parametrize(
    ("text", "colour", "quantity"),
    [
        ("the chelsea boot in the black no the tan one size forty one", "tan", None),  # spoken self-correction
        ("a read yoga mat", "red", None),  # "read": red
        ("blew yoga mat please", "blue", None),
        ("add too pairs of the grey hiking socks size M", "grey", 2),  # "too pairs of": two
    ],
)
def test_dictation_homophones_and_spoken_corrections(generator, text, colour, quantity):
    item = _item(_read(generator, text))

    assert item.colour == colour
    assert item.quantity == quantity


def test_punctuation_said_aloud_separates_and_ends(generator):
    assert normalize("white cap comma grey beanie full stop") == "white cap , grey beanie"
    (command,) = _read(generator, "white running cap new line grey beanie")
    assert isinstance(command, AddItems) and len(command.items) == 2
    assert _read(generator, "yes go ahead full stop", _preview(MAT)) == [Confirm()]


def test_a_verb_read_is_no_colour():
    assert normalize("i read the reviews, a red cap please") == "i read the reviews , a red cap please"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("is yoga mat available in purple colour", ProductQuestion),
        ("please confirm the stock", ProductQuestion),
        ("tell me the rate", ProductQuestion),
        ("nah thanks, that's way too expensive", Decline),
        ("yeah nah, i'm sweet", Decline),
        ("kindly do the needful", Confirm),
        ("thanks a lot for all your help", Thanks),
    ],
)
def test_other_englishes_at_a_preview(generator, text, expected):
    commands = _read(generator, text, _preview(MAT))

    assert [type(command) for command in commands] == [expected], commands


def test_the_rate_of_two_products_asks_about_both(generator):
    (command,) = _read(generator, "what's the rate for the kettlebell and the foam roller")

    assert isinstance(command, ProductQuestion) and command.aspect == "price"
    assert set(command.item.product_ids) == {"prod_kettlebell", "prod_foam_roller"}


def test_a_heart_rate_stays_one():
    assert "heart rate" in normalize("does the band show heart rate")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 nos. yoga mat purple", 3),  # "nos.": numbers (a count)
    ],
)
def test_indian_english_counts(generator, text, expected):
    assert _item(_read(generator, text)).quantity == expected


def test_addresses_shipping_and_cards_in_other_englishes(generator):
    assert _read(generator, "deliver to work please, postcode 94105", _preview(MAT)) == [ChooseAddress(label="work")]
    assert _read(generator, "home address only, not work", _preview(MAT)) == [ChooseAddress(label="home")]
    assert _read(generator, "normal post is ok", _preview(MAT)) == [ChooseShipping(option="standard")]
    assert [type(command) for command in _read(generator, "pay through my visa 4242", _preview(MAT))] == [ChooseCard]
    assert _read(generator, "which all addresses i am having") == [AccountInfo(topic="addresses")]


def test_fillers_and_a_leading_do_one_thing_leave_the_edit(generator):
    commands = _read(generator, "do one thing, take out the mat and add a grey beanie", _preview(MAT))

    assert [type(command) for command in commands] == [RemoveItem, AddItems]


def test_no_the_something_at_a_preview_is_a_correction(generator):
    commands = _read(generator, "no the black ones", _preview(BOOT_TAN_41))

    assert commands == [SetSlot(slot="colour", value="black", correction=True)]


def test_the_same_one_more_for_someone_is_one_more_of_the_cart_line(generator):
    (command,) = _read(generator, "same to same, one more for my sister", _preview(MAT))

    assert isinstance(command, SetSlot) and command.slot == "quantity" and command.value == "2"


def test_a_cancel_that_keeps_what_is_in_the_cart_is_about_the_order_just_placed(generator):
    context = _preview(CAP_BLUE, ordered=(CAP_WHITE,))

    commands = _read(generator, "scrap the first one, all i need is the blue", context)

    assert commands == [CancelOrder(which="last")]


def test_a_cancel_that_keeps_one_of_two_lines_removes_the_other(generator):
    commands = _read(generator, "cancel the white, i only want the blue one", _preview(CAP_WHITE, CAP_BLUE))

    assert commands == [RemoveItem(target=_target(CAP_WHITE))]


def test_cancel_the_second_one_of_a_two_line_preview_removes_that_line(generator):
    commands = _read(generator, "cancel the second one", _preview(CAP_WHITE, CAP_BLUE))

    assert commands == [RemoveItem(target=_target(CAP_BLUE))]


def _target(line: CartLine):
    from ordering.agent.commands import ItemSpec

    return ItemSpec(product_ids=(line.product_id,), variant_id=line.variant_id)


def test_a_two_pack_said_after_the_name_is_two_packs(generator):
    assert _item(_read(generator, "grey running socks 2 pack L")).quantity == 2


def test_blew_as_a_verb_is_no_colour():
    assert "blue" not in normalize("the wind blew my cap away, need a new white one")
    assert normalize("the blew one") == "the blue one"


def test_a_kind_of_thing_then_the_product_it_is_after_a_comma_is_one_item(generator):
    item = _item(_read(generator, "running shoes, the trail blazer, black 42"))

    assert (item.product_ids, item.colour, item.size) == (("prod_trail_blazer",), "black", "42")


def test_a_kind_of_thing_and_a_product_stay_what_they_were(generator):
    (command,) = _read(generator, "running shoes, the trail blazer in 42 and a cap")

    assert isinstance(command, AddItems)
    assert [item.product_ids for item in command.items][-1] == ("prod_run_cap",) and len(command.items) == 2
