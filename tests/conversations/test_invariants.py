"""The dialog manager's invariants and the defects of issue #12, on both command generators.

Every test runs twice: with the offline reader (no LLM configured) and with the LLM generator against
a scripted OpenAI-compatible server on a real socket whose "model" reads like the offline reader. The
policy, not the generator, is what keeps the invariants; a separate set drives the policy with a model
that says the wrong thing on purpose.
"""

from __future__ import annotations

import pytest

from consent.models import Scope
from consent.selectors import grants_for_customer
from consent.services.grants import consent_revoke, spend_caps_set
from ordering.models import FlowStatus, OrderFlow
from tests.support.llm_server import ScriptedLLM, offline_brain, scripted, tool_calls
from tests.support.merchant_state import checkout_session, merchant_order, merchant_order_count, only_order

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """What the assistant understands is the subject here, not the wire: the in-memory fake merchant."""
    return fake_shop


@pytest.fixture(params=["offline", "llm"])
def generator(request, settings):
    if request.param == "offline":
        settings.LLM_BASE_URL = ""
        settings.LLM_MODEL = ""
        yield "offline"
        return
    with ScriptedLLM(offline_brain()) as llm:
        settings.LLM_BASE_URL = llm.base_url
        settings.LLM_MODEL = "scripted-model"
        settings.LLM_API_KEY = "test-key"
        settings.LLM_TIMEOUT_SECONDS = 5
        yield llm


def _texts(chat, answer) -> str:
    return " | ".join(chat.assistant_texts(answer))


def _placed_orders() -> int:
    return merchant_order_count()


def _preview_lines(answer) -> list[tuple[int, str]]:
    pending = answer["pending_confirmation"]
    assert pending is not None, answer
    return [(line["quantity"], line["variant"]) for line in pending["preview"]["lines"]]


# -- defects ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("polite", ["thanks", "please", "ok thanks", "thank you!", "cheers"])
def test_politeness_after_a_preview_never_places_the_order(shop, chat, generator, polite):
    chat.start()
    answer = chat.say("buy the blue runner in size 42")
    assert _preview_lines(answer) == [(1, "blue, 42")]

    answer = chat.say(polite)

    assert _placed_orders() == 0
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.status == FlowStatus.PREVIEWED and flow.confirmations == 0
    assert "Nothing is ordered yet" in _texts(chat, answer) or "nothing" in _texts(chat, answer).lower()


def test_a_yes_after_a_change_that_was_not_understood_places_nothing(shop, chat, generator):
    chat.start()
    chat.say("buy the blue runner in size 42")
    not_understood = chat.say("qwzx blorf 43 plz??")
    said = _texts(chat, not_understood)
    assert "didn't understand" in said or "couldn't find" in said, said

    answer = chat.say("yes")

    # the preview is shown again instead of placing the one from before the customer's attempt
    assert _placed_orders() == 0
    assert OrderFlow.objects.get(conversation_id=chat.id).confirmations == 0
    assert answer["pending_confirmation"] is not None
    assert any(m["kind"] == "preview" for m in answer["messages"])
    # and only a yes right after that preview places it
    chat.say("yes")
    assert _placed_orders() == 1


def test_a_correction_after_a_preview_is_applied_before_any_yes(shop, chat, generator):
    chat.start()
    chat.say("buy the blue runner in size 42")

    answer = chat.say("actually size 43")

    assert _preview_lines(answer) == [(1, "blue, 43")]
    chat.say("yes")
    order = only_order()
    sold = checkout_session(order.checkout_session_id).line_items
    assert [(line.item_id, line.quantity) for line in sold] == [("var_blue_runner_43", 1)]


@pytest.mark.parametrize(
    "words, expect",
    [
        ("buy 10000 blue runners in size 42", "only 8"),
        ("buy 25 running socks in size M white", "at most 20"),
        ("buy -2 blue runners in size 42", "can't order"),
        ("buy 9 blue runners in size 42", "only 8"),
    ],
)
def test_a_quantity_the_shop_cannot_sell_is_refused_in_words_not_replaced(shop, chat, generator, words, expect):
    chat.start()

    answer = chat.say(words)

    text = _texts(chat, answer)
    assert expect in text, text
    assert answer["pending_confirmation"] is None
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()  # nothing in a cart, not 1 of it


def test_a_bare_number_answers_the_quantity_question(shop, chat, generator):
    chat.start()
    chat.say("buy 9 blue runners in size 42")  # only 8 left: how many?

    answer = chat.say("2")

    assert _preview_lines(answer) == [(2, "blue, 42")]


def test_a_code_the_shop_refuses_in_the_first_message_is_answered(shop, chat, generator):
    chat.start()

    answer = chat.say("buy the blue runner in size 42 with code FAKE99")

    text = _texts(chat, answer)
    assert "FAKE99" in text and "not accept" in text
    assert answer["pending_confirmation"]["preview"]["promo_codes"] == []


def test_a_code_the_shop_accepts_in_the_first_message_is_in_the_preview(shop, chat, generator):
    chat.start()

    answer = chat.say("blue runner size 42 with code RUN15")

    assert answer["pending_confirmation"]["preview"]["promo_codes"] == ["RUN15"]
    assert answer["pending_confirmation"]["preview"]["discount"] > 0


def test_a_preview_over_a_cap_says_which_cap_and_cannot_be_confirmed(shop, chat, generator):
    spend_caps_set(user_id=shop.alice.pk, caps={"per_order": 10000})  # $100.00 per order
    chat.start()

    answer = chat.say("2 blue runners in size 42")

    text = _texts(chat, answer)
    assert "per-order cap of $100.00" in text, text
    assert "in your settings" in text and "/settings/" not in text  # the card's settings button, not a bare path
    assert answer["pending_confirmation"] is None  # no confirm buttons for it
    preview_message = next(m for m in answer["messages"] if m["kind"] == "preview_blocked")
    assert preview_message["preview"]["total"] > 10000

    # a typed yes places nothing, and the button is refused with the same reason
    chat.say("yes")
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    response = chat.confirm(flow.preview_hash)
    assert response.status_code == 409
    assert "per-order cap" in response.json()["message"]
    assert OrderFlow.objects.get(pk=flow.pk).confirmations == 0
    assert _placed_orders() == 0


def test_a_revoked_grant_is_named_before_the_preview_is_offered(shop, chat, generator):
    grant = grants_for_customer(user_id=shop.alice.pk).get(scope=Scope.PLACE_ORDERS, status="active")
    consent_revoke(user_id=shop.alice.pk, grant_id=grant.pk, via="settings_page")
    chat.start()

    answer = chat.say("buy the blue runner in size 42")

    assert "revoked" in _texts(chat, answer)
    assert answer["pending_confirmation"] is None
    response = chat.confirm(OrderFlow.objects.get(conversation_id=chat.id).preview_hash)
    assert response.status_code == 403


# -- invariants -------------------------------------------------------------------------------------


def test_invariant_1_a_question_in_between_withdraws_the_typed_yes(shop, chat, generator):
    chat.start()
    chat.say("buy the blue runner in size 42")
    chat.say("how much is the gps watch?")

    answer = chat.say("yes")

    assert _placed_orders() == 0
    assert any(m["kind"] == "preview" for m in answer["messages"])
    assert "check the order once more" in _texts(chat, answer)


def test_invariant_1_yes_with_nothing_previewed_places_nothing(shop, chat, generator):
    chat.start()

    answer = chat.say("yes")

    assert "nothing waiting" in _texts(chat, answer).lower()
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()


def test_invariant_2_an_unavailable_size_is_asked_naming_what_is_possible(shop, chat, generator):
    shop.sandbox.set_stock("var_blue_runner_43", 0)
    chat.start()

    answer = chat.say("buy the blue runner in size 43")

    text = _texts(chat, answer)
    assert "43" in text and "42" in text and "44" in text  # sold out in 43, names what is in stock
    assert answer["pending_confirmation"] is None
    sizes = [reply["label"] for m in answer["messages"] for reply in m["quick_replies"]]
    assert "42" in sizes and "43" not in sizes


def test_invariant_2_an_unknown_product_is_not_replaced_by_another(shop, chat, generator):
    chat.start()

    answer = chat.say("buy a surfboard")

    assert answer["pending_confirmation"] is None
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()
    assert "couldn't find" in _texts(chat, answer)


def test_invariant_3_card_and_address_named_are_applied_or_refused(shop, chat, generator):
    chat.start()

    answer = chat.say("blue runner size 42, ship it to my cottage and pay with the card ending 9999")

    # alice's address book has Home and Work: "cottage" is refused naming them; the card ending 9999 does not exist.
    # Nothing is previewed with another address or card in their place: she is asked instead.
    text = _texts(chat, answer)
    assert 'address called "cottage"' in text and "Home" in text and "Work" in text, text
    assert "saved card like that" in text and "4242" in text and "3220" in text, text
    assert answer["pending_confirmation"] is None
    assert not any(m["kind"] == "preview" for m in answer["messages"])

    answer = chat.say("use the card ending 3220")
    preview = answer["pending_confirmation"]["preview"]
    assert preview["payment"]["last4"] == "3220" and preview["ship_to"].startswith("Home")


def test_invariant_4_auto_checkout_never_places_an_order_over_a_cap(shop, chat, generator):
    from consent.services.grants import auto_checkout_set

    auto_checkout_set(user_id=shop.alice.pk, threshold=5000)
    spend_caps_set(user_id=shop.alice.pk, caps={"per_day": 1000})  # $10 a day: even a small order is over it
    chat.start()

    answer = chat.say("a running cap in blue")

    assert "daily cap" in _texts(chat, answer)
    assert _placed_orders() == 0
    assert not OrderFlow.objects.filter(conversation_id=chat.id, confirmations__gt=0).exists()


# -- a model that says the wrong thing: the policy still decides ------------------------------------------


@pytest.fixture
def wrong_model(settings):
    def run(*answers):
        llm = ScriptedLLM(scripted(*answers))
        llm.__enter__()
        settings.LLM_BASE_URL = llm.base_url
        settings.LLM_MODEL = "scripted-model"
        settings.LLM_API_KEY = "test-key"
        settings.LLM_TIMEOUT_SECONDS = 5
        return llm

    return run


def test_a_model_that_confirms_on_thanks_places_nothing(shop, chat, wrong_model):
    llm = wrong_model(
        tool_calls(("add_items", {"items": [{"product_ids": ["prod_blue_runner"], "size": "42"}]})),
        tool_calls(("confirm", {})),
    )
    try:
        chat.start()
        chat.say("buy the blue runner in size 42")
        answer = chat.say("thanks")
    finally:
        llm.__exit__(None, None, None)

    assert _placed_orders() == 0
    assert "Nothing is ordered yet" in _texts(chat, answer)


def test_a_model_that_invents_a_product_id_orders_nothing(shop, chat, wrong_model):
    llm = wrong_model(
        tool_calls(("add_items", {"items": [{"product_ids": ["prod_no_such_thing"], "quantity": 1}]})),
    )
    try:
        chat.start()
        answer = chat.say("buy a flux capacitor")
    finally:
        llm.__exit__(None, None, None)

    assert answer["pending_confirmation"] is None
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()
    # no checkout session was ever asked of the shop
    assert shop.sandbox.requests("checkout", "create") == shop.sandbox.requests("checkout", "update") == 0


def test_cancel_my_last_order_from_another_conversation_asks_then_cancels_at_the_shop(shop, chat, generator):
    chat.start()
    chat.say("buy the blue runner in size 42")
    chat.say("yes")
    order = only_order()

    chat.start()  # a new conversation
    asked = chat.say("please cancel my last order")
    assert order.id in _texts(chat, asked) and "cancel" in _texts(chat, asked)
    assert merchant_order(order.id).status == "confirmed"  # nothing before the yes

    done = chat.say("yes")

    assert merchant_order(order.id).status in ("canceled", "refunded")
    assert "canceled" in _texts(chat, done)
    status = chat.say("where is my order?")
    assert "canceled" in _texts(chat, status) or "refunded" in _texts(chat, status)


def test_after_a_declined_card_another_card_previews_the_same_items_again(shop, chat, generator):
    chat.start()
    chat.say("blue runner size 42, pay with the card ending 0002")
    declined = chat.say("yes")
    assert any(m["kind"] == "flow_failed" for m in chat.events()["messages"]), declined

    answer = chat.say("pay with the card ending 4242")

    preview = answer["pending_confirmation"]["preview"]
    assert [(line["quantity"], line["variant"]) for line in preview["lines"]] == [(1, "blue, 42")]
    assert preview["payment"]["last4"] == "4242"
    chat.say("yes")
    assert merchant_order_count() == 1


def test_a_model_that_names_a_real_but_wrong_product_id_gets_the_words_searched(shop, chat, wrong_model):
    llm = wrong_model(
        tool_calls(
            ("add_items", {"items": [{"product_ids": ["prod_tempo_racer"], "query": "blue runner", "size": "42"}]})
        ),
    )
    try:
        chat.start()
        answer = chat.say("buy the blue runner in 42")
    finally:
        llm.__exit__(None, None, None)

    assert _preview_lines(answer) == [(1, "blue, 42")]
    assert answer["pending_confirmation"]["preview"]["lines"][0]["title"] == "Blue Runner"


def test_a_model_can_cancel_a_placed_order_only_on_the_customers_yes(shop, chat, wrong_model):
    chat.start()
    chat.say("buy the blue runner in size 42")
    chat.say("yes")  # offline: placed
    order = only_order()
    llm = wrong_model(
        tool_calls(("cancel_order", {"which": "last"})),
        tool_calls(("confirm", {})),  # said to "thanks": nothing is canceled
        tool_calls(("cancel_order", {"which": "last"})),
        tool_calls(("confirm", {})),  # said to "yes, cancel it": canceled
    )
    try:
        chat.say("cancel my last order")
        chat.say("thanks")
        assert merchant_order(order.id).status == "confirmed"
        chat.say("cancel my last order")
        chat.say("yes, cancel it")
    finally:
        llm.__exit__(None, None, None)

    assert merchant_order(order.id).status in ("canceled", "refunded")


def test_a_product_change_carries_the_colour_said_with_it(shop, chat, wrong_model):
    llm = wrong_model(
        tool_calls(("add_items", {"items": [{"product_ids": ["prod_zip_hoodie"], "colour": "navy", "size": "L"}]})),
        tool_calls(
            ("set_slot", {"slot": "product", "value": "prod_pullover_hoodie", "correction": True}),
            ("set_slot", {"slot": "colour", "value": "black", "correction": True}),
        ),
    )
    try:
        chat.start()
        chat.say("zip hoodie navy L")
        answer = chat.say("no wait, the pullover hoodie instead, black")
    finally:
        llm.__exit__(None, None, None)

    assert _preview_lines(answer) == [(1, "black, L")]
    assert answer["pending_confirmation"]["preview"]["lines"][0]["title"] == "Pullover Hoodie"


def test_a_preview_over_a_cap_records_the_spend_policy_version_with_the_decision(shop, chat, generator):
    from consent.policies import active_policy
    from ordering.models import AgentDecision

    spend_caps_set(user_id=shop.alice.pk, caps={"per_day": 1000})
    chat.start()

    chat.say("a running cap in blue")

    decision = AgentDecision.objects.filter(conversation_id=chat.id, name="preview_order").latest("id")
    assert decision.result["blocked"]["reason"] == "spend_cap_exceeded"
    assert decision.result["blocked"]["policy_version"] == active_policy().version != ""
