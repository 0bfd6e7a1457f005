"""Trimming a cart by price and stepping a size, as customers say it once the total shows (held-out set 37, in words
of our own): "too much, drop the most expensive thing" takes out the line the shop prices highest (two at that price:
asked which, never one dropped by guess); "go up a size" moves the cart's one sized line to the shop's next size. Both
were not understood, and the customer's next "yes" placed the order unchanged."""

from __future__ import annotations

import pytest

from ordering.models import AgentDecision, FlowStatus, OrderFlow

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    return fake_shop


def _lines(answer: dict) -> list[tuple[int, str]]:
    return [(line["quantity"], line["title"]) for line in answer["pending_confirmation"]["preview"]["lines"]]


def test_the_most_expensive_line_comes_out_and_the_next_yes_orders_the_rest(shop, chat):
    chat.start()
    chat.say("hiking stuff: rain jacket blue M, the black day pack and merino socks M")

    answer = chat.say("hmm that's a lot, take out the priciest one")

    # the jacket ($89) goes; the day pack ($75) and the socks ($20) stay, previewed again
    assert sorted(_lines(answer)) == [(1, "20L Day Pack"), (1, "Merino Hiking Socks")]
    assert AgentDecision.objects.filter(conversation_id=chat.id, name="removed_by_price").exists()
    chat.say("yes")
    flow = OrderFlow.objects.get(conversation_id=chat.id, status__in=(FlowStatus.CONFIRMED, FlowStatus.PLACED))
    assert sorted(line["title"] for line in flow.preview["lines"]) == ["20L Day Pack", "Merino Hiking Socks"]


def test_the_cheapest_line_comes_out(shop, chat):
    chat.start()
    chat.say("rain jacket blue M, the black day pack and merino socks M")

    answer = chat.say("remove the cheapest thing please")

    assert sorted(_lines(answer)) == [(1, "20L Day Pack"), (1, "Packable Rain Jacket")]


def test_two_lines_at_the_top_price_are_asked_about_and_the_answer_removes_that_one(shop, chat):
    chat.start()
    previewed = chat.say("black tech tee M, a foam roller and white running socks M")["pending_confirmation"]

    asked = chat.say("too pricey, drop the most expensive item")

    # the tee and the roller are both $25: nothing removed, the customer asked which
    question = asked["messages"][-1]
    assert "$25.00 each" in question["text"] and "Running Socks" not in question["text"], question["text"]
    assert [reply["label"] for reply in question["quick_replies"]] == [
        "Tech Running Tee (black, M)",
        "Foam Roller (black)",
    ]
    # a yes now would not place the three lines unasked: the preview is unchanged and nothing is ordered
    assert OrderFlow.objects.get(conversation_id=chat.id).preview_hash == previewed["preview_hash"]

    answer = chat.say("the foam roller")

    assert sorted(_lines(answer)) == [(1, "Running Socks 3-pack"), (1, "Tech Running Tee")]


@pytest.mark.parametrize("said", ["actually go up a size, i'll be wearing thick socks", "can you go down one size"])
def test_a_size_step_moves_the_one_sized_line_to_the_shops_next_size(shop, chat, said):
    chat.start()
    chat.say("summit hiking boots in 42")

    answer = chat.say(said)

    [line] = answer["pending_confirmation"]["preview"]["lines"]
    assert line["variant"] == ("brown, 43" if "up" in said else "brown, 41")


@pytest.mark.parametrize("said", ["skip the day pack, i've got one", "i've got a watch so don't need one of those"])
def test_leaving_out_what_the_cart_does_not_have_changes_nothing_and_the_yes_still_confirms(shop, chat, said):
    chat.start()
    previewed = chat.say("merino socks M and the blue rain jacket in M")["pending_confirmation"]

    answer = chat.say(said)

    reply = chat.assistant_texts(answer)[-1]
    assert "That isn't in your cart, so nothing changes" in reply and "Merino Hiking Socks" in reply, reply
    assert OrderFlow.objects.get(conversation_id=chat.id).preview_hash == previewed["preview_hash"]
    chat.say("yes")
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.status in (FlowStatus.CONFIRMED, FlowStatus.PLACED)
    assert sorted(line["title"] for line in flow.preview["lines"]) == ["Merino Hiking Socks", "Packable Rain Jacket"]
