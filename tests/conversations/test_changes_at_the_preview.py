"""Changes asked at the preview, through the conversation API on the fake merchant (held-out run 58, in words of our
own; the last case is from run 57).

"Could I get them in black?" of the one line in the cart was taken as one more of it in black: a colour the thing is
not made in was asked about ("which colour: …?"), and the answer then put a second line beside the first instead of
changing it; a colour it is made in went straight in as a second line. Asked of the line, it is a change of that
line: the question asked about it, answered, changes the line, and "keep the red" to a sold-out colour leaves the line
as it was. "Any codes for running shoes?" names one code for them, and "use the code then" next is that code, never
the customer's own in its place. And "my normal card" is the customer's default saved card: after a decline, the order
goes back on it and is shown again.
"""

from __future__ import annotations

import pytest

from ordering.agent import commands as c
from ordering.agent.tools import ToolCall
from ordering.agent.turn import Turn
from ordering.models import AgentDecision, FlowStatus, OrderFlow
from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def _post(chat, text: str, command: dict) -> dict:
    """A message whose command is given (what the reader should read from these words): the policy's part alone."""
    response = chat.client.post(
        f"/api/v1/conversations/{chat.id}/messages/", {"text": text, "command": command}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()


# -- a colour or size asked of the line in the cart ----------------------------------------------------------------


def test_a_colour_not_made_asked_of_the_line_and_answered_changes_that_line(shop, chat):
    chat.start()
    first = chat.say("beige slim chinos, size L")
    assert preview_lines(first) == [("var_chinos_beige_l", 1)], texts(first)

    asked = chat.say("could i get them in black?")
    assert "doesn't come in black" in texts(asked) and "beige or navy" in texts(asked), texts(asked)
    assert preview_lines(asked) == []  # a question, no preview

    answer = chat.say("the navy please")

    assert preview_lines(answer) == [("var_chinos_navy_l", 1)], texts(answer)
    assert shop.sandbox.order_records == {}


def test_a_colour_made_asked_of_the_line_changes_it_and_adds_none(shop, chat):
    chat.start()
    chat.say("beige slim chinos, size L")

    answer = chat.say("could i get them in navy?")

    assert preview_lines(answer) == [("var_chinos_navy_l", 1)], texts(answer)


def test_a_size_not_made_asked_of_the_line_and_answered_changes_that_line(shop, chat):
    chat.start()
    chat.say("olive down jacket M")

    asked = chat.say("can i have it in XXL?")
    assert "doesn't come in size XXL" in texts(asked), texts(asked)

    answer = chat.say("L then")

    assert preview_lines(answer) == [("var_down_jacket_olive_l", 1)], texts(answer)


def test_another_one_in_a_colour_is_still_one_more(shop, chat):
    chat.start()
    chat.say("beige slim chinos, size L")

    answer = chat.say("and another pair in navy too")

    assert sorted(preview_lines(answer)) == [("var_chinos_beige_l", 1), ("var_chinos_navy_l", 1)], texts(answer)


def test_keeping_the_colour_the_line_has_after_a_sold_out_change_leaves_it_as_it_was(shop, chat_bob):
    shop.sandbox.set_stock("var_tempo_racer_white_42", 0)
    chat_bob.start()
    chat_bob.say("red tempo racers in 42")

    asked = chat_bob.say("can i have them in white instead?")
    assert "sold out in white, size 42" in texts(asked), texts(asked)

    answer = chat_bob.say("nah keep the red")

    assert preview_lines(answer) == [("var_tempo_racer_red_42", 1)], texts(answer)
    assert "Sorry, I didn't get that" not in texts(answer)
    chat_bob.say("yes")
    flow = OrderFlow.objects.get(conversation_id=chat_bob.id)
    assert flow.status == FlowStatus.PLACED


# -- the one code an answer about codes named ----------------------------------------------------------------------


def test_the_code_for_what_was_asked_about_is_the_one_put_on_next(shop, chat):
    chat.start()
    chat.say("red tempo racers in 41")
    listed = chat.say("are there any codes for running shoes?")
    assert "RUN15" in texts(listed) and preview_lines(listed) == []

    answer = chat.say("use the discount then")

    # RUN15, the one code for running shoes; never alice's own ALICE10 in its place
    assert answer["pending_confirmation"]["preview"]["promo_codes"] == ["RUN15"], texts(answer)
    assert AgentDecision.objects.filter(conversation_id=chat.id, name="code_told").exists()


def test_that_one_said_of_the_code_named_puts_it_on(shop, chat_bob):
    chat_bob.start()
    chat_bob.say("red tempo racers in 41")
    chat_bob.say("are there any codes for running shoes?")

    # "put that one on": the reader's command for it (a bare use_my_promotion) through the policy
    answer = _post(chat_bob, "put that one on", {"kind": "use_my_promotion"})

    assert answer["pending_confirmation"]["preview"]["promo_codes"] == ["RUN15"], texts(answer)
    assert "I couldn't find a personal promotion" not in texts(answer)
    chat_bob.say("yes")
    assert OrderFlow.objects.get(conversation_id=chat_bob.id).status == FlowStatus.PLACED


def test_a_code_named_longer_ago_is_not_taken_for_the_code_meant_now(shop, chat_bob):
    chat_bob.start()
    chat_bob.say("red tempo racers in 41")
    chat_bob.say("are there any codes for running shoes?")
    chat_bob.say("what's in my cart?")

    answer = _post(chat_bob, "put that one on", {"kind": "use_my_promotion"})

    assert answer["pending_confirmation"]["preview"]["promo_codes"] == [], texts(answer)


# -- the customer's usual card ---------------------------------------------------------------------------------------


def test_after_a_decline_the_usual_card_shows_the_same_order_on_the_default_card(shop, chat):
    chat.start()
    chat.say("grey wool beanie, pay with the card ending 0002")
    chat.say("yes")
    assert any(m["kind"] == "flow_failed" for m in chat.events()["messages"])

    # "odd. just use my normal card": the reader's command for it (choose_card usual) through the policy
    answer = _post(chat, "odd. just use my normal card", {"kind": "choose_card", "usual": True})

    preview = answer["pending_confirmation"]["preview"]
    assert preview["payment"]["last4"] == "4242", texts(answer)
    assert preview_lines(answer) == [("var_beanie_grey", 1)]
    chat.say("yes")
    placed = OrderFlow.objects.filter(conversation_id=chat.id, status=FlowStatus.PLACED).get()
    assert placed.payment_method.last4 == "4242"


def test_the_usual_card_command_reads_and_writes_its_field():
    command = c.command_from_dict({"kind": "choose_card", "usual": True})
    assert command == c.ChooseCard(usual=True)
    assert c.command_to_dict(c.ChooseCard(usual=True, brand="visa")) == {
        "kind": "choose_card",
        "brand": "visa",
        "usual": True,
    }
    with pytest.raises(c.CommandError):
        c.command_from_dict({"kind": "choose_card", "usual": "yes"})


def _card_turn(shop) -> Turn:
    from ordering.services import conversation_open

    return Turn(conversation=conversation_open(customer_id=shop.alice.pk), record=None, customer_text="usual card")


def _choose(turn: Turn, **arguments):
    return turn.call_tool(ToolCall(name="choose_payment_method", arguments=arguments, rationale="the usual card"))


def test_the_usual_card_is_the_default_and_with_a_brand_that_brands_default_or_only_card(shop):
    turn = _card_turn(shop)

    usual = _choose(turn, usual=True)
    assert usual.ok and usual.data["payment"]["last4"] == "4242"  # alice's default Visa
    assert turn.state["payment_method_id"] == shop.card().pk

    usual_visa = _choose(turn, usual=True, brand="visa")
    assert usual_visa.ok and usual_visa.data["payment"]["last4"] == "4242"  # the default is a Visa

    usual_mastercard = _choose(turn, usual=True, brand="mastercard")
    assert usual_mastercard.ok and usual_mastercard.data["payment"]["last4"] == "3220"  # her only Mastercard


def test_the_usual_card_of_a_brand_with_two_cards_but_not_the_default_is_asked(shop):
    mastercard = _card_turn(shop)
    from consent.models import PaymentMethod

    PaymentMethod.objects.filter(user=shop.alice).update(is_default=False)
    PaymentMethod.objects.filter(user=shop.alice, last4="3220").update(is_default=True)

    result = _choose(mastercard, usual=True, brand="visa")

    assert not result.ok and result.data["ambiguous"] is True
    assert sorted(card["last4"] for card in result.data["matching"]) == ["0002", "4242"]


def test_no_default_card_is_said_and_nothing_chosen(shop):
    from consent.models import PaymentMethod

    PaymentMethod.objects.filter(user=shop.alice).update(is_default=False)
    turn = _card_turn(shop)

    result = _choose(turn, usual=True)

    assert not result.ok and result.data["no_default"] is True
    assert turn.state["payment_method_id"] is None


def test_whose_line_said_first_and_the_value_next_changes_that_line(shop, chat):
    chat.start()
    chat.say("tech tees, blue L for me and blue S for my daughter")
    asked = chat.say("mine's fine, change hers")
    assert "What should I change on hers" in texts(asked), texts(asked)

    answer = chat.say("to orange")

    # the value went to no line (not understood), and a yes placed both blue
    assert sorted(preview_lines(answer)) == [("var_tech_tee_blue_l", 1), ("var_tech_tee_orange_s", 1)], texts(answer)
