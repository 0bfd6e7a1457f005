"""The seed conversation, end to end through the HTTP API with the offline command generator."""

from __future__ import annotations

import pytest

from ordering.models import AgentDecision, FlowStatus, OrderFlow
from tests.support.merchant_state import merchant_order_count, session_order

pytestmark = pytest.mark.usefixtures("eager_tasks")

SEED = "Buy the blue running shoes I liked last week and apply my 10% promo"


def test_seed_conversation_confirmed_with_the_button_is_placed(shop, chat):
    # given a new conversation
    started = chat.start()
    assert "ordering assistant" in started["messages"][0]["text"]
    assert "for you" in started["messages"][0]["text"]

    # when alice asks for the blue running shoes she liked, with her 10% promo
    answer = chat.say(SEED)

    # then she sees one preview, priced by the merchant, with her promo applied
    pending = answer["pending_confirmation"]
    assert pending is not None, chat.assistant_texts(answer)
    preview = pending["preview"]
    assert preview["promo_codes"] == ["ALICE10"]
    assert [(line["title"], line["variant"], line["quantity"]) for line in preview["lines"]] == [
        ("Blue Runner", "blue, 42", 1)
    ]
    flow = OrderFlow.objects.get(pk=pending["flow_id"])
    merchant = shop.sandbox.get(f"/checkout_sessions/{flow.checkout_session_id}").json()
    totals = {total["type"]: total["amount"] for total in merchant["totals"]}
    assert preview["total"] == totals["total"]
    assert preview["tax"] == totals["tax"]
    assert preview["shipping"] == totals["fulfillment"]
    assert preview["subtotal"] == totals["items_base_amount"] == 7200
    assert [(a["code"], a["amount"]) for a in merchant["discounts"]["applied"]] == [("ALICE10", 720)]
    assert preview["discount"] == 720
    preview_message = [m for m in answer["messages"] if m["preview"]][-1]
    assert preview_message["text"].startswith("I'll order 1x Blue Runner (blue, 42)")
    assert preview_message["text"].endswith("Confirm?")
    assert preview_message["preview"]["preview_hash"] == pending["preview_hash"]
    assert flow.status == FlowStatus.PREVIEWED

    # when she confirms with the button
    response = chat.confirm(pending["preview_hash"])

    # then the flow is accepted and placed at the merchant at the previewed total
    assert response.status_code == 202, response.content
    flow.refresh_from_db()
    assert flow.status == FlowStatus.PLACED
    order = session_order(flow.checkout_session_id)
    assert order.total().amount == preview["total"]
    assert flow.confirmed_via == "button"
    events = chat.events()
    assert any(f["id"] == str(flow.pk) and f["status"] == "placed" for f in events["flows"])
    assert any(order.id in m["text"] for m in events["messages"])
    # the flow detail endpoint tells the same story
    detail = chat.client.get(f"/api/v1/flows/{flow.pk}/").json()
    assert detail["status"] == "placed" and detail["merchant_order_id"] == order.id
    assert [step["name"] for step in detail["steps"]][-1] == "complete_checkout"
    # and every decision was recorded with a rationale naming the customer's words
    rationales = list(AgentDecision.objects.filter(conversation_id=chat.id).values_list("name", "rationale"))
    assert any(name == "list_saved_items" and '"liked"' in why for name, why in rationales)
    assert any(name == "apply_promo" and "ALICE10" in why and "10%" in why for name, why in rationales)


def test_seed_conversation_with_a_size_question_and_a_typed_yes_is_placed(shop, chat):
    # given a conversation where alice names the product but not the size
    chat.start()
    answer = chat.say("Buy the Blue Runner and apply my 10% promo")

    # then she is asked exactly one question, which size, and told the code waits for the cart
    texts = chat.assistant_texts(answer)
    questions = [m for m in answer["messages"] if m["kind"] == "question"]
    assert len(questions) == 1 and "size" in questions[0]["text"].lower() and "42" in questions[0]["text"]
    assert any("ALICE10" in text for text in texts)
    assert answer["pending_confirmation"] is None
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()

    # when she answers "42"
    answer = chat.say("42")

    # then the preview shows size 42 with her promo, priced by the merchant
    pending = answer["pending_confirmation"]
    assert pending is not None, chat.assistant_texts(answer)
    assert pending["preview"]["lines"][0]["variant"] == "blue, 42"
    assert pending["preview"]["promo_codes"] == ["ALICE10"]
    flow = OrderFlow.objects.get(pk=pending["flow_id"])
    merchant = shop.sandbox.get(f"/checkout_sessions/{flow.checkout_session_id}").json()
    assert pending["preview"]["total"] == {t["type"]: t["amount"] for t in merchant["totals"]}["total"]

    # when she types "yes"
    answer = chat.say("yes")

    # then deterministic code confirmed that exact preview and the flow is placed
    assert any("placing your order" in text for text in chat.assistant_texts(answer))
    flow.refresh_from_db()
    assert flow.status == FlowStatus.PLACED
    assert flow.confirmed_via == "typed"
    assert flow.confirmed_hash == pending["preview_hash"]
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    decision = AgentDecision.objects.get(conversation_id=chat.id, name="confirm_typed")
    assert '"yes"' in decision.rationale and pending["preview_hash"][:12] in decision.rationale
    # the rationale reaches alice's activity log too
    from audit.models import AuditEvent

    logged = AuditEvent.objects.filter(customer_id=shop.alice.pk, action__startswith="agent.")
    assert logged.filter(action="agent.decided", data__name="confirm_typed").exists()
    assert logged.filter(action="agent.tool_called", data__name="add_to_cart").exists()


def test_my_usual_under_the_auto_checkout_amount_is_placed_without_asking_and_says_so(shop, chat):
    from consent.services.grants import auto_checkout_set

    # given alice lets orders under $50.00 skip the confirmation
    auto_checkout_set(user_id=shop.alice.pk, threshold=5000)
    chat.start()

    # when she asks for her usual (her last purchase: running socks, white, M)
    answer = chat.say("my usual please")

    # then the preview is confirmed by her grant, and the message says so
    texts = chat.assistant_texts(answer)
    assert any("Running Socks 3-pack (white, M)" in text for text in texts)
    assert any("auto-checkout" in text for text in texts)
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.confirmed_via == "auto_checkout"
    assert flow.total_amount < 5000
    assert flow.status == FlowStatus.PLACED
