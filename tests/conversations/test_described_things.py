"""Shoppers who describe a thing instead of naming it (held-out set 27): the one product a look finds is offered, a yes
to that offer puts it in the cart (never orders it), and "no, not those, the little ones" changes the line."""

from __future__ import annotations

import pytest

from ordering.models import AgentDecision, FlowStatus, OrderFlow
from tests.conversations.answers import preview_lines as _preview_lines
from tests.conversations.answers import texts as _texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_the_one_product_a_look_finds_is_offered_and_a_yes_puts_it_in_the_cart_without_ordering(shop, chat):
    chat.start()
    found = chat.say("black running shoes, 44")

    # only the Trail Blazer comes in black among the running shoes: it is offered with what was said
    # in the same message as what was found (still an answer, not a question of its own)
    assert found["messages"][-1]["kind"] == "products"
    assert found["messages"][-1]["text"] == (
        "Here is what I found: Trail Blazer ($95.00). Would you like the Trail Blazer in black size 44? Say yes and "
        "I'll put it in your cart (nothing is ordered until you confirm the preview)."
    )
    assert found["pending_confirmation"] is None

    added = chat.say("yes")

    assert _preview_lines(added) == [("var_trail_blazer_black_44", 1)]
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.status == FlowStatus.PREVIEWED  # in the cart and previewed; nothing placed on the offer's yes
    assert AgentDecision.objects.filter(conversation_id=chat.id, name="yes_to_an_offer").count() == 1

    chat.say("yes")  # the yes to the preview places it
    flow.refresh_from_db()
    assert flow.status == FlowStatus.PLACED


def test_an_offer_is_only_for_the_next_message(shop, chat):
    chat.start()
    chat.say("black running shoes, 44")
    chat.say("what sizes does it come in?")

    late = chat.say("yes")

    assert "nothing waiting for your confirmation" in _texts(late)
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()


def test_a_look_that_finds_several_offers_none(shop, chat):
    chat.start()
    found = chat.say("show me running shoes")

    assert "Would you like" not in _texts(found)
    answer = chat.say("yes")
    assert "nothing waiting for your confirmation" in _texts(answer)
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()


def test_a_long_message_read_only_in_part_offers_nothing(shop, chat):
    chat.start()
    found = chat.say(
        "kitting out for winter runs: warm leggings M, gloves that work with my phone M, and a woolly hat (grey)"
    )

    assert "Would you like" not in _texts(found)


def test_what_a_thing_is_for_is_no_second_thing(shop, chat):
    chat.start()
    answer = chat.say("earphones for the gym, black ones")

    # the gym says what they are for: it was the Gym Duffel beside the earbuds
    assert _preview_lines(answer) == [("var_earbuds_black", 1)]


def test_not_those_the_little_ones_changes_the_line_and_orders_nothing(shop, chat):
    chat.start()
    first = chat.say("headphones for the gym, black")
    assert _preview_lines(first) == [("var_headphones_black", 1)]

    changed = chat.say("no not those big ones, the little ones that go in your ears")

    assert _preview_lines(changed) == [("var_earbuds_black", 1)]
    assert OrderFlow.objects.get(conversation_id=chat.id).status == FlowStatus.PREVIEWED


def test_not_those_the_ones_for_hiking_after_a_look_adds_the_other_kind_with_its_size(shop, chat):
    chat.start()
    chat.say("show me the running socks")

    answer = chat.say("no not those, the ones for hiking, M")

    assert _preview_lines(answer) == [("var_wool_socks_m", 1)]


def test_yes_please_after_an_in_stock_answer_puts_that_one_in_the_cart(shop, chat):
    chat.start()
    answered = chat.say("is the down jacket in olive available in L?")
    assert answered["messages"][-1]["kind"] == "product_answer"
    assert answered["messages"][-1]["text"].startswith("Yes, the Down Jacket is in stock in olive size L")
    assert "Would you like the Down Jacket in olive size L?" in answered["messages"][-1]["text"]

    added = chat.say("yes please")  # read as thanks when nothing waits for a yes; here it answers the offer

    assert _preview_lines(added) == [("var_down_jacket_olive_l", 1)]
    assert OrderFlow.objects.get(conversation_id=chat.id).status == FlowStatus.PREVIEWED


def test_not_the_high_tops_after_a_look_at_two_takes_the_other(shop, chat):
    chat.start()
    chat.say("white sneakers 42")

    answer = chat.say("not the high tops")

    # it previewed the Street High: the one named after "not"
    assert _preview_lines(answer) == [("var_court_classic_42", 1)]


def test_a_look_with_a_code_said_is_not_offered(shop, chat):
    chat.start()
    found = chat.say("black trail trainers in 42 with the running shoe discount")

    # a yes to an offer would put the shoes in the cart without the discount the customer asked for
    assert "Would you like" not in _texts(found)


def test_a_look_with_a_count_said_is_not_offered(shop, chat):
    chat.start()
    found = chat.say("2 grey beanies, pack them separately theyre presents")

    # read as a look for the beanie (the packing is not something the shop does), which carries no count: a yes to an
    # offer would put one beanie in the cart
    assert any(message["kind"] == "products" for message in found["messages"])
    assert "Would you like" not in _texts(found)


def test_a_look_the_reader_took_for_several_things_is_not_offered_when_the_shop_finds_one(shop, chat):
    chat.start()
    found = chat.say("red shoes size 42")

    # "red shoes" are the Tempo Racer and the Street High; the shop's word search finds only the one whose text says
    # "shoes" (the Street High is "sneakers"), so both the reader named are shown, and neither is offered alone
    assert "Here is what I found: Street High ($80.00), Tempo Racer ($129.00)." in _texts(found)
    assert "Would you like" not in _texts(found)


def test_a_size_in_another_system_is_no_count_that_stops_the_offer(shop, chat):
    chat.start()
    found = chat.say("everyday road running trainers, UK 7")

    assert "Would you like the Blue Runner in size 41?" in _texts(found)


def test_an_offer_to_a_customer_with_auto_checkout_says_that_a_yes_may_place_it(shop, chat):
    from consent.services.grants import auto_checkout_set

    auto_checkout_set(user_id=shop.alice.pk, threshold=5000)
    chat.start()
    found = chat.say("a collapsible water bottle for running")

    # the offer must not promise a preview to confirm when the customer's own setting places it without asking
    assert "Would you like the Soft Flask 500ml?" in _texts(found)
    assert "nothing is ordered until you confirm" not in _texts(found)
    assert "your auto-checkout setting places orders under $50.00 without asking again" in _texts(found)

    chat.say("yes")
    assert OrderFlow.objects.get(conversation_id=chat.id).status != FlowStatus.PREVIEWED  # placed (or placing) at once


def test_thanks_after_an_offer_puts_nothing_in_the_cart(shop, chat):
    chat.start()
    chat.say("black running shoes, 44")

    answer = chat.say("thanks")

    assert _preview_lines(answer) == []
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()
    assert not AgentDecision.objects.filter(conversation_id=chat.id, name="yes_to_an_offer").exists()


def test_the_waterproof_one_instead_replaces_the_line_keeping_its_colour_and_size(shop, chat):
    chat.start()
    chat.say("running wind shell in blue, L")

    answer = chat.say("then the waterproof one instead, same colour and size")

    # the rain jacket (the shop's "waterproof jacket") in place of the wind shell, still blue L; it was 1 of something
    assert _preview_lines(answer) == [("var_rain_jacket_blue_l", 1)]


def test_i_meant_the_other_one_cancel_that_order_cancels_the_order_just_placed(shop, chat):
    chat.start()
    chat.say("the black rucksack")
    chat.say("yes")
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.status == FlowStatus.PLACED

    asked = chat.say("argh i meant the gym bag, cancel that order")

    # the order just placed, not "an order with the gym bag in it" (there is none: the charge stayed)
    assert "1x 20L Day Pack (black)" in _texts(asked) and "Should I ask the shop to cancel it?" in _texts(asked)
    done = chat.say("yes")
    assert "the shop canceled order" in _texts(done)


def test_the_sizes_a_product_comes_in_are_listed_as_a_person_reads_them(shop, chat):
    chat.start()
    answered = chat.say("what sizes does the rain jacket come in?")

    # S, M, L, XL (they were listed L, M, S, XL: by length, then alphabetically)
    assert answered["messages"][-1]["kind"] == "product_answer"
    assert "in stock in sizes S, M, L, XL" in answered["messages"][-1]["text"]
