"""The reader on held-out run 24 (budget and bulk shoppers: a number may be a price, a count, a size, an address or a
limit), in words of our own. Each case here was read wrong before: a yes to a price of the customer's own placed the
order at the shop's total, a price said back or a street number became the count, "two dozen" was two, "44s" 44
pairs of no size, a bulk deal asked of a person added the things instead."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    ApplyCode,
    CannotHandle,
    CartLine,
    Confirm,
    DialogueContext,
    Human,
    ListPromotions,
    Search,
    SetSlot,
    UseMyPromotion,
)
from ordering.agent.understand import OfflineGenerator
from ordering.agent.understand.text import normalize

RUNNER_42 = CartLine(
    variant_id="var_blue_runner_42", product_id="prod_blue_runner", title="Blue Runner", colour="blue", size="42",
    quantity=1,
)  # fmt: skip
PREVIEW = DialogueContext(cart=(RUNNER_42,), awaiting_confirmation=True, addresses=("Home", "Work"))


def _read(generator: OfflineGenerator, text: str, context: DialogueContext | None = None) -> list:
    return list(generator.generate(text=text, context=context or DialogueContext()))


@pytest.mark.parametrize("said", ["yes for $30", "ok at 60 bucks, go ahead", "fine, place it for 45 dollars"])
def test_a_yes_to_a_price_of_the_customers_own_is_no_yes(generator, said):
    [command] = _read(generator, said, PREVIEW)
    assert isinstance(command, CannotHandle) and "price" in command.reason


@pytest.mark.parametrize("said", ["yes", "yes for my sister", "yes please go ahead"])
def test_a_yes_without_a_price_still_confirms(generator, said):
    assert _read(generator, said, PREVIEW) == [Confirm()]


def test_a_price_said_back_is_a_price_remark_not_a_count(generator):
    [command] = _read(generator, "hmm 72 is a lot", PREVIEW)
    assert isinstance(command, Search) and command.sort == "price_asc"


@pytest.mark.parametrize(
    ("said", "read"),
    [
        ("two dozen caps", "24 caps"),
        ("a dozen socks", "12 socks"),
        ("44s, two pairs", "size 44 , two pairs"),
        ("send it to 500 howard street", "send it to howard street"),
        ("ship to the 94105 address", "ship to the address"),
        # a product named by its price is no count of it; a shoe size stays
        ("blue runners, the 72 ones, size 44", "blue runners , , size 44"),
        ("the 42 ones", "the 42 ones"),
        # a number said with "and" is no street number ("court" is a product's word)
        ("street high 42 and the court classic 42", "street high 42 and the court classic 42"),
    ],
)
def test_numbers_that_are_no_count(said, read):
    assert normalize(said) == read


def test_dozens_and_plural_sizes_are_read_as_counts_and_sizes(generator):
    [add] = _read(generator, "3 dozen white running caps")
    assert isinstance(add, AddItems) and add.items[0].quantity == 36
    [add] = _read(generator, "canvas low black, 44s, two pairs")
    assert isinstance(add, AddItems) and (add.items[0].size, add.items[0].quantity) == ("44", 2)


def test_a_street_number_at_a_preview_changes_no_count(generator):
    assert not any(isinstance(command, SetSlot) for command in _read(generator, "deliver to 77 park avenue", PREVIEW))


@pytest.mark.parametrize(
    "said", ["can i talk to someone about a bulk order of 200 tees", "who can i speak to about a club order of 30 caps"]
)
def test_a_bulk_deal_asked_of_a_person_goes_to_a_person(generator, said):
    assert _read(generator, said) == [Human()]


def test_the_packs_the_customer_worked_out_are_the_count(generator):
    socks = CartLine(
        variant_id="var_run_socks_black_m", product_id="prod_run_socks", title="Running Socks 3-pack", colour="black",
        size="M", quantity=6,
    )  # fmt: skip
    context = DialogueContext(cart=(socks,), awaiting_confirmation=True)
    [command] = _read(generator, "sorry, 9 pairs, that is 3 packs", context)
    assert isinstance(command, SetSlot) and (command.slot, command.value) == ("quantity", "3")


def test_a_percentage_off_asked_for_is_the_customers_own_promotion(generator):
    [command] = _read(generator, "15% off pls", PREVIEW)
    assert command == UseMyPromotion(percent=15)


def test_a_cards_four_digits_are_no_price(generator):
    assert normalize("ugh ok use the 4242 one") == "ugh ok use the 4242 one"


def test_a_vague_count_to_how_many_is_asked_again(generator):
    from ordering.agent.commands import PendingQuestion

    asked = DialogueContext(pending=PendingQuestion(slot="quantity", product_id="prod_run_cap", title="Running Cap"))
    [command] = _read(generator, "a few i guess", asked)
    assert isinstance(command, CannotHandle)
    assert _read(generator, "a couple", asked) == [SetSlot(slot="quantity", value="2")]


def test_the_product_shown_at_the_price_quoted_is_the_one_meant(generator):
    from ordering.agent.commands import Option

    shown = DialogueContext(
        last_shown=(Option("prod_blue_runner", "Blue Runner"), Option("prod_cloud_jogger", "Cloud Jogger"))
    )
    [add] = _read(generator, "the 88 ones, grey 43", shown)
    assert isinstance(add, AddItems)
    assert (add.items[0].product_ids, add.items[0].size, add.items[0].quantity) == (("prod_cloud_jogger",), "43", None)
    # a price nothing shown costs names nothing, and is no count
    [said] = _read(generator, "the 61 ones", shown)
    assert not isinstance(said, AddItems) or said.items[0].quantity is None


@pytest.mark.parametrize(
    ("said", "most"),
    [
        ("i have $100 to spend on running shoes", 10000),
        ("got 60 bucks to spend on a hoodie", 6000),
        ("40 is all i have for a jacket", 4000),
    ],
)
def test_money_the_customer_has_to_spend_is_a_price_limit_not_a_count(generator, said, most):
    [command] = _read(generator, said)
    assert isinstance(command, Search) and command.price_max == most


@pytest.mark.parametrize(
    ("said", "code"),
    [
        ("what does BIG20 give me?", "BIG20"),
        ("whats save10", "SAVE10"),
        ("how much does the RUN15 code take off?", "RUN15"),
        ("what do i get with Save10", "SAVE10"),
    ],
)
def test_a_question_about_a_code_asks_about_it_and_applies_nothing(generator, said, code):
    assert _read(generator, said, PREVIEW) == [ListPromotions(code=code)]


@pytest.mark.parametrize("said", ["apply BIG20", "big20 code please", "use save10"])
def test_a_code_said_to_be_used_is_applied(generator, said):
    [command] = _read(generator, said, PREVIEW)
    assert isinstance(command, ApplyCode)


@pytest.mark.parametrize(
    ("said", "least", "most"),
    [
        ("jackets 80 to 100 dollars", 8000, 10000),
        ("a hoodie around 40-60", 4000, 6000),
        ("show me hoodies 40-60 bucks", 4000, 6000),
        ("caps $20-30", 2000, 3000),
    ],
)
def test_a_price_range_is_a_search_between_its_ends_never_a_count(generator, said, least, most):
    [command] = _read(generator, said)
    assert isinstance(command, Search) and (command.price_min, command.price_max) == (least, most), command


def test_a_range_with_no_money_word_is_not_read_as_prices(generator):
    [command] = _read(generator, "blue runners 42-43")
    assert isinstance(command, AddItems) and command.items[0].quantity is None
