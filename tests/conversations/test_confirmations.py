"""Declines, stale previews, and previews that changed under the customer."""

from __future__ import annotations

import pytest

from ordering.models import FlowStatus, OrderFlow
from tests.support.merchant_state import available, merchant_order_count, session_order, session_status
from tests.support.sandbox import BLUE_RUNNER_42

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def _preview(chat, text="Buy the Blue Runner in size 42") -> dict:
    chat.start()
    pending = chat.say(text)["pending_confirmation"]
    assert pending is not None
    return pending


def test_decline_with_the_button_orders_nothing_and_releases_the_stock(shop, chat):
    before = available(BLUE_RUNNER_42)
    pending = _preview(chat)
    assert available(BLUE_RUNNER_42) == before - 1

    response = chat.confirm(pending["preview_hash"], decision="decline")

    assert response.status_code == 200, response.content
    assert response.json()["decision"] == "declined"
    flow = OrderFlow.objects.get(pk=pending["flow_id"])
    assert flow.status == FlowStatus.CANCELED
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    assert session_status(flow.checkout_session_id) == "canceled"
    assert available(BLUE_RUNNER_42) == before
    state = chat.get()
    assert state["pending_confirmation"] is None
    assert "won't order" in state["messages"][-1]["text"]
    # a confirm after the decline is refused, not placed
    assert chat.confirm(pending["preview_hash"]).status_code == 409


def test_a_typed_no_declines_the_preview(shop, chat):
    pending = _preview(chat)

    answer = chat.say("no thanks")

    assert "won't order" in chat.assistant_texts(answer)[-1]
    assert OrderFlow.objects.get(pk=pending["flow_id"]).status == FlowStatus.CANCELED


def test_a_stale_hash_is_409_and_changes_nothing(shop, chat):
    # given a preview, then a change of quantity that makes a new one
    old = _preview(chat)
    new = chat.say("make it 2")["pending_confirmation"]
    assert new["preview"]["lines"][0]["quantity"] == 2
    assert new["preview_hash"] != old["preview_hash"]

    # when the old preview is confirmed
    response = chat.confirm(old["preview_hash"])

    # then it is refused with the current hash, and nothing moved
    assert response.status_code == 409, response.content
    assert response.json()["error"] == "stale_preview"
    assert response.json()["current_preview_hash"] == new["preview_hash"]
    flow = OrderFlow.objects.get(pk=new["flow_id"])
    assert flow.status == FlowStatus.PREVIEWED and flow.confirmations == 0
    # and the current one goes through
    assert chat.confirm(new["preview_hash"]).status_code == 202
    flow.refresh_from_db()
    assert flow.status == FlowStatus.PLACED
    assert session_order(flow.checkout_session_id).total().amount == new["preview"]["total"]


def test_a_confirmation_twice_starts_one_placement(shop, chat):
    pending = _preview(chat)

    first = chat.confirm(pending["preview_hash"])
    second = chat.confirm(pending["preview_hash"])

    assert first.status_code == second.status_code == 202
    flow = OrderFlow.objects.get(pk=pending["flow_id"])
    assert flow.confirmations == 1 and flow.status == FlowStatus.PLACED
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    kinds = [m["kind"] for m in chat.get()["messages"]]
    assert kinds.count("flow_confirmed") == 1


def test_a_typed_yes_with_no_preview_places_nothing(shop, chat):
    chat.start()
    answer = chat.say("yes")
    assert "nothing waiting for your confirmation" in chat.assistant_texts(answer)[0]
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()


def test_a_malformed_hash_is_a_400(shop, chat):
    _preview(chat)
    response = chat.confirm("not-a-hash")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"


def test_a_price_change_at_placement_shows_a_new_preview_and_a_typed_yes_confirms_that_one(shop, chat):
    # given the shop raises its prices when the order is completed (once)
    pending = _preview(chat)
    shop.sandbox.fault("price_change", times=1)

    # when alice confirms the first preview
    assert chat.confirm(pending["preview_hash"]).status_code == 202

    # then nothing is placed; the saga showed a new preview in the public shape
    flow = OrderFlow.objects.get(pk=pending["flow_id"])
    assert flow.status == FlowStatus.PREVIEWED
    events = chat.events()
    repreview = [m for m in events["messages"] if m["kind"] == "preview"][-1]
    assert repreview["preview"]["preview_hash"] == flow.preview_hash != pending["preview_hash"]
    assert isinstance(repreview["preview"]["ship_to"], str)
    assert set(repreview["preview"]["payment"]) == {"brand", "last4"}
    assert repreview["preview"]["total"] > pending["preview"]["total"]

    # when she types yes, the new preview (the one she was shown) is confirmed and placed
    chat.say("yes, go ahead")
    flow.refresh_from_db()
    assert flow.status == FlowStatus.PLACED
    assert flow.confirmed_hash == repreview["preview"]["preview_hash"]
    assert session_order(flow.checkout_session_id).total().amount == repreview["preview"]["total"]


def test_a_declined_card_offers_options_and_the_next_request_starts_a_new_cart(shop, chat):
    # given alice pays with the card that always declines
    chat.start()
    pending = chat.say("Buy the Blue Runner in size 42 with card ending 0002")["pending_confirmation"]
    assert pending["preview"]["payment"]["last4"] == "0002"

    assert chat.confirm(pending["preview_hash"]).status_code == 202

    # then the failure reaches the widget with what she can do next
    failed = [m for m in chat.events()["messages"] if m["kind"] == "flow_failed"]
    assert failed and failed[-1]["options"] == ["another_card", "manual_checkout", "talk_to_human"]
    first = OrderFlow.objects.get(pk=pending["flow_id"])
    assert first.status in (FlowStatus.COMPENSATED, FlowStatus.COMPENSATING, FlowStatus.FAILED)

    # when she asks again with her working card, a new cart and flow are made and placed
    again = chat.say("Buy the Blue Runner in size 42 with card ending 4242")["pending_confirmation"]
    assert again["flow_id"] != pending["flow_id"]
    assert [line["quantity"] for line in again["preview"]["lines"]] == [1]
    chat.say("confirm")
    assert OrderFlow.objects.get(pk=again["flow_id"]).status == FlowStatus.PLACED
    placed = [m for m in chat.events()["messages"] if m["kind"] == "flow_placed"]
    assert placed[-1]["merchant_order_id"] == OrderFlow.objects.get(pk=again["flow_id"]).merchant_order_id
