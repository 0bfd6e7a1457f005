"""Commands posted by the widget (the preview card's controls, chips): the same policy as typed words."""

from __future__ import annotations

import pytest

from ordering.models import AgentDecision, FlowStatus, OrderFlow

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def _post(chat, text, command):
    return chat.client.post(
        f"/api/v1/conversations/{chat.id}/messages/", {"text": text, "command": command}, format="json"
    )


def test_the_preview_card_changes_quantity_and_size_and_removes_through_commands(shop, chat):
    chat.start()
    answer = chat.say("buy the blue runner in size 42")
    edit = next(m for m in answer["messages"] if m["kind"] == "preview")["cart_edit"]
    assert edit == [
        {
            "variant_id": "var_blue_runner_42",
            "product_id": "prod_blue_runner",
            "title": "Blue Runner",
            "quantity": 1,
            "max_quantity": 8,
            "size": "42",
            "sizes": ["40", "41", "42", "43", "44", "45"],
            "colour": "blue",
            "colours": ["blue"],
        }
    ]

    # + on the card
    response = _post(
        chat,
        "2 x Blue Runner",
        {"kind": "set_slot", "slot": "quantity", "value": "2", "target": {"variant_id": "var_blue_runner_42"}},
    )
    assert response.status_code == 202, response.content
    lines = response.json()["pending_confirmation"]["preview"]["lines"]
    assert [(line["quantity"], line["variant"]) for line in lines] == [(2, "blue, 42")]

    # the size select on the card swaps the variant in place, keeping the quantity
    response = _post(
        chat,
        "Size 44",
        {"kind": "set_slot", "slot": "size", "value": "44", "target": {"variant_id": "var_blue_runner_42"}},
    )
    lines = response.json()["pending_confirmation"]["preview"]["lines"]
    assert [(line["quantity"], line["variant"]) for line in lines] == [(2, "blue, 44")]
    assert chat.get()["messages"][-2]["text"] == "Size 44"  # the transcript shows the words, not the command

    # Remove
    response = _post(
        chat, "Remove Blue Runner", {"kind": "remove_item", "target": {"variant_id": "var_blue_runner_44"}}
    )
    assert response.json()["pending_confirmation"] is None
    assert OrderFlow.objects.get(conversation_id=chat.id).status == FlowStatus.CANCELED
    assert AgentDecision.objects.filter(conversation_id=chat.id, name="read_commands", ok=True).count() == 4


def test_a_posted_confirm_command_is_not_a_confirmation_unless_the_words_are(shop, chat):
    chat.start()
    chat.say("buy the blue runner in size 42")

    response = _post(chat, "thanks", {"kind": "confirm"})

    assert response.status_code == 202
    assert OrderFlow.objects.get(conversation_id=chat.id).confirmations == 0
    assert "Nothing is ordered yet" in " ".join(m["text"] for m in response.json()["messages"])


@pytest.mark.parametrize(
    "command, field",
    [
        ({"kind": "fly_to_the_moon"}, "Unknown command kind"),
        ({"kind": "set_slot", "slot": "price", "value": "1"}, "slot"),
        ({"kind": "apply_code", "code": "no spaces allowed"}, "code"),
        ({"kind": "add_items", "items": []}, "items"),
        ("add_items", "JSON object"),
    ],
)
def test_a_command_that_does_not_fit_is_400_naming_the_field_and_runs_nothing(shop, chat, command, field):
    chat.start()

    response = _post(chat, "hello", command)

    assert response.status_code == 400
    assert field in response.json()["message"]
    assert not AgentDecision.objects.filter(conversation_id=chat.id).exists()
    assert [m["role"] for m in chat.get()["messages"]] == ["assistant"]  # only the greeting: nothing was lost or run


def test_every_item_of_a_message_is_added_after_the_question_about_the_first(shop, chat):
    chat.start()
    asked = _post(
        chat,
        "Blue Runner, US 8.5, and the Trail Blazer US 11 in green",
        {
            "kind": "add_items",
            "items": [
                {"product_ids": ["prod_blue_runner"], "size_said": "8.5", "size_options": ["41", "42"]},
                {"product_ids": ["prod_trail_blazer"], "colour": "green", "size": "45"},
            ],
        },
    ).json()
    assert "41 or 42" in asked["messages"][-1]["text"]

    answer = _post(chat, "42", {"kind": "set_slot", "slot": "size", "value": "42"}).json()

    lines = answer["pending_confirmation"]["preview"]["lines"]
    assert [(line["title"], line["variant"]) for line in lines] == [
        ("Blue Runner", "blue, 42"),
        ("Trail Blazer", "green, 45"),
    ]


def test_a_change_after_the_order_is_placed_never_builds_a_second_order(shop, chat):
    chat.start()
    chat.say("buy the blue runner in size 42")
    chat.say("yes")
    assert OrderFlow.objects.get(conversation_id=chat.id).status == FlowStatus.PLACED

    answer = _post(chat, "oops i meant 43", {"kind": "set_slot", "slot": "size", "value": "43", "correction": True})

    texts = " ".join(m["text"] for m in answer.json()["messages"])
    assert "already with the shop" in texts and "cancel my last order" in texts
    assert answer.json()["pending_confirmation"] is None
    assert OrderFlow.objects.filter(conversation_id=chat.id).count() == 1  # no new cart was started


def test_remove_the_code_takes_the_code_off_not_the_item(shop, chat):
    chat.start()
    chat.say("blue runner size 42 with code RUN15")

    answer = _post(chat, "remove the code", {"kind": "remove_code"}).json()

    preview = answer["pending_confirmation"]["preview"]
    assert preview["promo_codes"] == [] and preview["discount"] == 0
    assert [line["variant"] for line in preview["lines"]] == ["blue, 42"]


def test_another_card_lists_the_saved_ones_but_the_one_just_used(shop, chat):
    chat.start()
    chat.say("blue runner size 42, pay with the card ending 0002")
    chat.say("yes")  # declined

    answer = _post(chat, "try another card", {"kind": "choose_card"}).json()

    question = answer["messages"][-1]
    assert question["text"].startswith("Which card should I use?")
    assert [reply["label"] for reply in question["quick_replies"]] == [
        "Pay with the card ending 4242",
        "Pay with the card ending 3220",
    ]
    assert answer["pending_confirmation"] is None  # nothing previewed with a card she did not choose


def test_the_visa_with_two_visas_saved_asks_which_naming_only_the_visas(shop, chat):
    chat.start()
    chat.say("blue runner size 42")

    answer = chat.say("pay with the visa")

    question = answer["messages"][-1]
    assert question["text"] == "You have 2 Visa cards: ending 4242 or ending 0002. Which one should I use?"
    assert [reply["label"] for reply in question["quick_replies"]] == [
        "Pay with the card ending 4242",
        "Pay with the card ending 0002",
    ]
    answer = chat.say("the one ending 0002")
    assert answer["pending_confirmation"]["preview"]["payment"]["last4"] == "0002"


def test_checkout_while_an_item_waits_on_its_colour_asks_first(shop, chat):
    chat.start()
    answer = chat.say("blue runner size 42")
    assert answer["pending_confirmation"] is not None
    asked = chat.say("and a running socks 3-pack")
    assert "black or white" in asked["messages"][-1]["text"]

    # "check out" now would preview the shoes alone, and the socks would silently be left out
    answer = chat.say("ok checkout")
    text = answer["messages"][-1]["text"]
    assert text.startswith("Before I show your order:") and "black or white" in text, text
    assert not any(m["kind"] == "preview" for m in answer["messages"])
    assert [reply["label"] for reply in answer["messages"][-1]["quick_replies"]] == ["black", "white"]

    # answering puts the socks in, and the preview has both
    answer = chat.say("white, size M")
    lines = answer["pending_confirmation"]["preview"]["lines"]
    assert sorted(line["title"] for line in lines) == ["Blue Runner", "Running Socks 3-pack"]


def test_a_second_checkout_orders_without_the_item_still_waiting(shop, chat):
    chat.start()
    chat.say("blue runner size 42")
    chat.say("and a running socks 3-pack")
    chat.say("checkout")

    answer = chat.say("checkout")

    lines = answer["pending_confirmation"]["preview"]["lines"]
    assert [line["title"] for line in lines] == ["Blue Runner"]
    assert "black or white" not in " ".join(m["text"] for m in answer["messages"])


@pytest.mark.usefixtures("eager_tasks")
def test_cancel_everything_while_choosing_an_item_drops_it_and_leaves_the_placed_order_alone(shop, chat):
    chat.start()
    chat.say("blue runner size 42")
    placed = chat.say("yes")
    assert any(m["kind"] == "flow_placed" for m in chat.get()["messages"]), placed
    asked = chat.say("now the cloud jogger in 43")
    assert "blue or grey" in asked["messages"][-1]["text"]

    answer = chat.say("actually cancel everything")

    text = " ".join(m["text"] for m in answer["messages"] if m["role"] == "assistant")
    assert "dropped that" in text and "nothing will be ordered" in text, text
    assert "cancel it?" not in text  # the order placed before is not offered for cancelling
    assert OrderFlow.objects.filter(conversation_id=chat.id, status=FlowStatus.PLACED).count() == 1


def test_an_unknown_address_is_named_as_the_customer_said_it(shop, chat):
    chat.start()
    chat.say("blue runner size 42")

    answer = chat.say("ship to my cabin")

    text = answer["messages"][-1]["text"]
    assert text.startswith('You have no saved address called "cabin". Your saved addresses: Home or Work.'), text
    assert "settings page" in text
    assert [reply["label"] for reply in answer["messages"][-1]["quick_replies"]] == ["Ship to Home", "Ship to Work"]


def test_a_yes_while_an_item_waits_on_its_colour_places_nothing_and_asks_again(shop, chat):
    chat.start()
    chat.say("blue runner size 42")
    chat.say("and a running socks 3-pack")

    answer = chat.say("yes")

    text = answer["messages"][-1]["text"]
    assert text.startswith("Nothing is ordered yet.") and "black or white" in text, text
    assert not OrderFlow.objects.filter(conversation_id=chat.id, confirmations__gt=0).exists()
    # "check out" then orders without the socks: the preview has the shoes alone
    answer = chat.say("check out")
    assert [line["title"] for line in answer["pending_confirmation"]["preview"]["lines"]] == ["Blue Runner"]


def test_an_order_that_depends_on_a_price_follows_the_shops_price(shop, chat):
    chat.start()

    # the Down Jacket is $199.00 at the shop: nothing is added, the customer hears the price
    answer = chat.say("if the down jacket is under $150 I'll take it in black M, otherwise forget it")

    text = answer["messages"][-1]["text"]
    assert text.startswith("The Down Jacket is $199.00, more than the $150.00 you said, so I haven't added it."), text
    assert answer["pending_confirmation"] is None
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()

    # the Zip Hoodie is $49.00: within the limit, it is added as asked and previewed
    answer = chat.say("if the zip hoodie is less than 60 bucks get me one in grey L")

    texts = [m["text"] for m in answer["messages"] if m["role"] == "assistant"]
    assert "The Zip Hoodie is $49.00, within the $60.00 you said." in texts, texts
    lines = answer["pending_confirmation"]["preview"]["lines"]
    assert [(line["title"], line["quantity"]) for line in lines] == [("Zip Hoodie", 1)]


def test_asked_for_their_spending_cap_the_customer_gets_the_numbers_and_where_to_change_them(shop, chat):
    from consent.services.grants import spend_caps_set

    spend_caps_set(user_id=shop.alice.pk, caps={"per_order": 12345}, actor_type="system")
    chat.start()

    answer = chat.say("whats my spending cap?")

    text = answer["messages"][-1]["text"]
    assert text.startswith("Your limits now: $123.45 per order"), text
    assert "settings page" in text
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()  # the Running Cap was not asked about


def test_a_question_about_a_code_is_answered_and_the_code_is_not_applied(shop, chat):
    chat.start()
    chat.say("blue runner size 42")

    answer = chat.say("what does SAVE10 give me?")

    text = answer["messages"][-1]["text"]
    assert "SAVE10" in text and 'say "apply SAVE10"' in text, text
    assert [reply["label"] for reply in answer["messages"][-1]["quick_replies"]] == ["Apply SAVE10"]
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.preview["promo_codes"] == []  # asked about, not applied

    chat.say("apply SAVE10")
    assert OrderFlow.objects.get(pk=flow.pk).preview["promo_codes"] == ["SAVE10"]


def test_a_question_about_the_customers_own_code_describes_it(shop, chat):
    chat.start()

    answer = chat.say("what's ALICE10?")

    text = answer["messages"][-1]["text"]
    assert text.startswith("ALICE10 is yours:"), text
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()


def test_a_question_about_express_is_answered_and_the_shipping_stays(shop, chat):
    chat.start()
    first = chat.say("blue runner size 42")
    shipping = first["pending_confirmation"]["preview"]["shipping"]

    answer = chat.say("how much extra is express?")

    text = answer["messages"][-1]["text"]
    assert text.startswith("This order goes by standard shipping:"), text
    # the express price is the shop's own, quoted from its offer for this cart (it was not said at all)
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    express = next(option for option in flow.preview["shipping_options"] if option["id"] == "ship_express")
    assert not express["chosen"] and express["amount"] == 1499 and express["latest"]
    assert f"The shop also offers Express shipping: $14.99, by {express['latest']}." in text, text
    assert 'say "express" or "standard"' in text
    assert [reply["label"] for reply in answer["messages"][-1]["quick_replies"]] == [
        "Express shipping",
        "Standard shipping",
    ]
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.preview["shipping"] == shipping  # nothing was chosen


def test_a_product_named_with_its_size_to_what_would_you_like_keeps_the_size(shop, chat):
    chat.start()
    asked = chat.say("and is it free?")
    assert asked["messages"][-1]["text"] == "What would you like to buy?"

    answer = chat.say("ok, running gloves in M then")

    preview = answer["pending_confirmation"]["preview"]
    assert [(line["title"], line["variant"]) for line in preview["lines"]] == [
        ("Touchscreen Running Gloves", "black, M")
    ]


def test_a_thing_sent_to_someone_elses_address_is_not_shipped_home_unsaid(shop, chat):
    chat.start()

    answer = chat.say("ship a grey beanie to my mom's")

    texts = " ".join(message["text"] for message in answer["messages"])
    assert "You have no saved address called" in texts and "mom" in texts, texts
    assert "Your saved addresses: Home or Work." in texts


def test_what_waited_behind_a_dropped_question_still_comes(shop, chat):
    chat.start()
    chat.say("a wool beanie")  # which colour?
    queued = chat.say("oh also add a headlamp")
    assert queued["messages"][-1]["text"].startswith("I'll add that too."), queued["messages"][-1]["text"]

    answer = chat.say("give me a blue running cap")  # something else: the question about the beanie is dropped

    preview = answer["pending_confirmation"]["preview"]
    assert sorted(line["title"] for line in preview["lines"]) == ["Running Cap", "Running Headlamp"]
