"""The cheapest of a kind, asked for to buy: "i'll take 2 of the cheapest socks in L" is the cheapest socks by the
shop's prices (never the reader's or the model's), in the size and count said; the preview is still confirmed."""

from __future__ import annotations

import pytest

from ordering.models import FlowStatus, OrderFlow
from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_the_cheapest_by_the_shops_prices_in_the_size_and_count_said(shop, chat):
    chat.start()

    answer = chat.say("i'll take 2 of the cheapest socks in L")

    # the running socks ($15) against the merino ($20): the running ones, which come in two colours
    assert "Which colour" in texts(answer) or "which colour" in texts(answer).lower()
    answer = chat.say("white")
    assert preview_lines(answer) == [("var_run_socks_white_l", 2)]
    assert OrderFlow.objects.get(conversation_id=chat.id).status == FlowStatus.PREVIEWED


def test_the_shops_price_decides_not_the_catalog_the_reader_knows(shop, chat):
    # the shop lowered the merino socks below the running ones: the shop's price decides
    shop.sandbox.products["prod_wool_socks"].price = 1200
    for variant in ("var_wool_socks_s", "var_wool_socks_m", "var_wool_socks_l"):
        shop.sandbox.set_price(variant, 1200)
    chat.start()

    answer = chat.say("i'll take 2 of the cheapest socks in L")

    assert preview_lines(answer) == [("var_wool_socks_l", 2)]


def test_the_one_product_made_in_the_colour_said_is_ordered_after_the_preview(shop, chat):
    chat.start()

    answer = chat.say("whatever your cheapest t-shirt is, white, S, two of them")

    assert preview_lines(answer) == [("var_cotton_tee_white_s", 2)]
    chat.say("yes")
    assert OrderFlow.objects.get(conversation_id=chat.id).status == FlowStatus.PLACED
