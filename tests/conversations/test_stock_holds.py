"""Stock holds (issue #16, "Undo and recovery"): what an unconfirmed cart or preview keeps reserved at the shop.

A preview that cannot be placed holds nothing; a customer keeps at most ORDERING_MAX_OPEN_PREVIEWS carts at a
time; a quiet conversation gives its hold back early; a "yes" to a released preview gets a fresh preview,
never an order from the released session. Real PostgreSQL and the in-memory fake merchant (the merchant is
not the subject; the test rolls back), the hold read where the fake keeps it, as the sandbox does (its
`session_held`, parity-tested); the races between threads are in test_stock_hold_races.py, on the sandbox.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from consent.services.grants import spend_caps_set
from ordering import tasks
from ordering.holds import (
    EXPIRED_CONFIRM_TEXT,
    HOLD_IDLE,
    HOLD_LIMIT,
    PREVIEW_BLOCKED,
    flow_hold_release,
    holds_release_idle,
)
from ordering.models import FlowStatus, Message, OrderFlow
from tests.conversations.conftest import Chat
from tests.support.merchant_state import merchant_order_count, merchant_orders, session_status
from tests.support.sandbox import BLUE_RUNNER_42

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


BUY = "buy the blue runner in size 42"


def texts(answer: dict) -> str:
    return " ".join(m["text"] for m in answer["messages"] if m["role"] != "customer")


def kinds(answer: dict) -> list[str]:
    return [m["kind"] for m in answer["messages"] if m["role"] != "customer"]


def flows_of(chat: Chat) -> list[OrderFlow]:
    return list(OrderFlow.objects.filter(conversation_id=chat.id).order_by("created_at"))


def open_holds(customer) -> list[OrderFlow]:
    return list(OrderFlow.objects.filter(customer=customer, status__in=(FlowStatus.DRAFT, FlowStatus.PREVIEWED)))


def new_chat(shop) -> Chat:
    client = APIClient()
    client.force_login(shop.alice)
    chat = Chat(client)
    chat.start()
    return chat


def assert_refused_as_expired(response) -> None:
    """The Confirm button of a released preview: refused, saying it expired and how to get a fresh one."""
    assert response.status_code == 409, response.content
    assert response.json()["error"] == "preview_expired"
    assert response.json()["message"] == EXPIRED_CONFIRM_TEXT


def released_event(flow: OrderFlow, status: str) -> AuditEvent:
    return AuditEvent.objects.get(action=f"flow.{status}", target_id=str(flow.pk))


# -- 1. a preview that cannot be placed holds nothing ------------------------------------------------


def test_a_preview_over_a_cap_holds_nothing_at_the_shop_and_says_why(shop, chat):
    spend_caps_set(user_id=shop.alice.pk, caps={"per_order": 10000})  # $100.00; two pairs cost more
    on_hand = shop.sandbox.available(BLUE_RUNNER_42)
    chat.start()

    answer = chat.say("2 blue runners in size 42")

    # the customer is told why, as before, and offered nothing to confirm
    assert "per-order cap of $100.00" in texts(answer) and "in your settings" in texts(answer)
    assert "preview_blocked" in kinds(answer)
    assert answer["pending_confirmation"] is None
    # ...and the shop holds nothing for it: the session is canceled and its units are back on sale
    [flow] = flows_of(chat)
    assert flow.status == FlowStatus.CANCELED and flow.failure_code == PREVIEW_BLOCKED
    assert session_status(flow.checkout_session_id) == "canceled"
    assert shop.held(flow.checkout_session_id) == 0
    assert shop.sandbox.available(BLUE_RUNNER_42) == on_hand
    event = released_event(flow, "canceled")
    assert event.data["reason"] == PREVIEW_BLOCKED and event.data["hold_released"] is True

    # a typed yes places nothing and does not hold the items again while the cap still stands
    answer = chat.say("yes")
    assert "per-order cap" in texts(answer)
    assert flows_of(chat) == [flow]
    # the button of the blocked preview is refused with the same reason
    response = chat.confirm(flow.preview_hash)
    assert response.status_code == 409 and "per-order cap" in response.json()["message"]
    assert merchant_order_count() == 0


def test_once_the_cap_allows_it_a_yes_gets_a_fresh_preview_and_a_second_yes_places_that_one(shop, chat):
    spend_caps_set(user_id=shop.alice.pk, caps={"per_order": 10000})
    chat.start()
    chat.say("2 blue runners in size 42")
    [blocked] = flows_of(chat)
    spend_caps_set(user_id=shop.alice.pk, caps={"per_order": 50000})  # the customer raised it on the settings page

    answer = chat.say("yes")

    # nothing is placed from the yes: a fresh session and preview, which holds the two pairs again
    assert "check the order once more" in texts(answer)
    assert "preview" in kinds(answer)
    blocked_again, fresh = flows_of(chat)
    assert blocked_again.pk == blocked.pk and blocked_again.status == FlowStatus.CANCELED
    assert fresh.status == FlowStatus.PREVIEWED and fresh.checkout_session_id != blocked.checkout_session_id
    assert shop.held(fresh.checkout_session_id) == 2
    assert answer["pending_confirmation"]["preview_hash"] == fresh.preview_hash
    assert merchant_order_count() == 0

    chat.say("yes")

    fresh.refresh_from_db()
    assert fresh.status == FlowStatus.PLACED and fresh.confirmed_hash == fresh.preview_hash
    assert [order.checkout_session_id for order in merchant_orders()] == [fresh.checkout_session_id]


def test_changing_a_blocked_cart_holds_the_new_cart_only(shop, chat):
    spend_caps_set(user_id=shop.alice.pk, caps={"per_order": 10000})
    chat.start()
    chat.say("2 blue runners in size 42")
    [blocked] = flows_of(chat)

    answer = chat.say("make it 1")

    # the lines were kept without a hold; the change opens a new session for the one pair, placeable now
    assert answer["pending_confirmation"] is not None
    assert [line["quantity"] for line in answer["pending_confirmation"]["preview"]["lines"]] == [1]
    _, fresh = flows_of(chat)
    assert shop.held(fresh.checkout_session_id) == 1 and shop.held(blocked.checkout_session_id) == 0


# -- 2. at most ORDERING_MAX_OPEN_PREVIEWS carts per customer ----------------------------------------------


def test_a_new_preview_over_the_limit_releases_the_customers_oldest(shop, settings):
    settings.ORDERING_MAX_OPEN_PREVIEWS = 2
    first, second, third = new_chat(shop), new_chat(shop), new_chat(shop)
    first.say(BUY)
    second.say(BUY)
    [oldest], [kept] = flows_of(first), flows_of(second)
    assert shop.held(oldest.checkout_session_id) == shop.held(kept.checkout_session_id) == 1

    answer = third.say(BUY)

    # the new preview is shown; the oldest was expired and canceled at the shop, the others still hold
    assert answer["pending_confirmation"] is not None
    oldest.refresh_from_db()
    assert oldest.status == FlowStatus.EXPIRED and oldest.failure_code == HOLD_LIMIT
    assert session_status(oldest.checkout_session_id) == "canceled" and shop.held(oldest.checkout_session_id) == 0
    assert released_event(oldest, "expired").data["reason"] == HOLD_LIMIT
    assert {flow.pk for flow in open_holds(shop.alice)} == {kept.pk, flows_of(third)[0].pk}
    assert shop.held(kept.checkout_session_id) == 1
    # the first conversation says what happened, and its preview can no longer be confirmed
    told = Message.objects.filter(conversation_id=first.id, data__kind="preview_released").get()
    assert "Nothing was ordered" in told.text and "at most 2" in told.text
    assert first.get()["pending_confirmation"] is None
    response = first.confirm(oldest.preview_hash)
    assert_refused_as_expired(response)
    assert merchant_order_count() == 0


def test_a_yes_in_a_conversation_whose_preview_was_released_gets_a_fresh_preview(shop, settings):
    settings.ORDERING_MAX_OPEN_PREVIEWS = 1
    first, second = new_chat(shop), new_chat(shop)
    first.say(BUY)
    second.say(BUY)  # releases the first
    [released] = flows_of(first)
    assert released.status == FlowStatus.EXPIRED

    answer = first.say("yes")

    # told it expired, shown a fresh preview (whose hold in turn releases the second conversation's), nothing placed
    assert "preview expired" in texts(answer)
    assert kinds(answer)[-1] == "preview"
    _, fresh = flows_of(first)
    assert fresh.status == FlowStatus.PREVIEWED and shop.held(fresh.checkout_session_id) == 1
    assert flows_of(second)[0].status == FlowStatus.EXPIRED
    assert merchant_order_count() == 0


# -- 3. a quiet conversation releases its hold early ----------------------------------------------------


def test_an_idle_conversation_releases_its_preview_and_a_later_yes_gets_a_fresh_one(shop, chat, settings):
    chat.start()
    chat.say(BUY)
    [flow] = flows_of(chat)
    idle = timedelta(seconds=settings.ORDERING_PREVIEW_IDLE_RELEASE_SECONDS)

    # not quiet long enough yet: nothing happens
    assert holds_release_idle(now=timezone.now() + idle - timedelta(seconds=60)) == {"released": 0}
    assert shop.held(flow.checkout_session_id) == 1

    # quiet for longer than the setting (well under the shop's own 30 minutes)
    assert holds_release_idle(now=timezone.now() + idle + timedelta(seconds=1)) == {"released": 1}

    flow.refresh_from_db()
    assert flow.status == FlowStatus.EXPIRED and flow.failure_code == HOLD_IDLE
    assert session_status(flow.checkout_session_id) == "canceled" and shop.held(flow.checkout_session_id) == 0
    assert released_event(flow, "expired").data["reason"] == HOLD_IDLE
    told = chat.events()["messages"][-1]
    assert told["kind"] == "preview_released" and "haven't talked for 10 minutes" in told["text"]
    # a second sweep finds nothing more to do
    assert holds_release_idle(now=timezone.now() + idle + timedelta(seconds=1)) == {"released": 0}

    # the old preview's Confirm button is refused with a clear message
    response = chat.confirm(flow.preview_hash)
    assert_refused_as_expired(response)

    # a typed yes: told it expired, and a fresh preview (today's session) to confirm; nothing placed from the old one
    answer = chat.say("yes")
    assert "preview expired" in texts(answer) and kinds(answer)[-1] == "preview"
    old, fresh = flows_of(chat)
    assert old.status == FlowStatus.EXPIRED and fresh.status == FlowStatus.PREVIEWED
    assert shop.held(fresh.checkout_session_id) == 1
    assert answer["pending_confirmation"]["preview_hash"] == fresh.preview_hash
    assert merchant_order_count() == 0

    chat.say("yes")

    fresh.refresh_from_db()
    assert fresh.status == FlowStatus.PLACED and fresh.confirmed_hash == fresh.preview_hash
    assert [order.checkout_session_id for order in merchant_orders()] == [fresh.checkout_session_id]


def test_the_beat_task_releases_quiet_carts_only(shop, settings):
    settings.ORDERING_PREVIEW_IDLE_RELEASE_SECONDS = 0  # everything said so far is "before now"
    assert settings.CELERY_BEAT_SCHEDULE["ordering-release-idle-holds"]["task"] == "ordering.holds_release_idle"
    quiet, busy = new_chat(shop), new_chat(shop)
    quiet.say(BUY)
    busy.say(BUY)
    # the other conversation has a turn waiting for a worker: someone is there
    from ordering.models import ConversationTurn

    ConversationTurn.objects.create(conversation_id=busy.id, idempotency_key="waiting")

    result = tasks.holds_release_idle.apply().result

    assert result == {"released": 1}
    assert flows_of(quiet)[0].status == FlowStatus.EXPIRED and shop.held(flows_of(quiet)[0].checkout_session_id) == 0
    assert flows_of(busy)[0].status == FlowStatus.PREVIEWED and shop.held(flows_of(busy)[0].checkout_session_id) == 1


def test_a_released_cart_can_be_dropped(shop, chat, settings):
    chat.start()
    chat.say(BUY)
    [flow] = flows_of(chat)
    holds_release_idle(now=timezone.now() + timedelta(seconds=settings.ORDERING_PREVIEW_IDLE_RELEASE_SECONDS + 1))

    answer = chat.say("cancel")

    assert "Nothing was ordered" in texts(answer)
    assert flows_of(chat) == [flow]  # no new session was opened to drop it
    assert "empty" in texts(chat.say("what's in my cart?")).lower()
    assert flows_of(chat) == [flow]


# -- a confirmation racing a release ---------------------------------------------------------------------


def test_a_confirmation_before_the_release_places_that_preview_and_the_release_leaves_it(shop, chat):
    chat.start()
    pending = chat.say(BUY)["pending_confirmation"]
    [flow] = flows_of(chat)

    assert chat.confirm(pending["preview_hash"]).status_code == 202
    assert flow_hold_release(flow_id=flow.pk, reason=HOLD_IDLE) is None

    flow.refresh_from_db()
    assert flow.status == FlowStatus.PLACED and flow.confirmed_hash == pending["preview_hash"]
    assert session_status(flow.checkout_session_id) == "completed"


def test_a_confirmation_after_the_release_is_refused_and_places_nothing(shop, chat):
    chat.start()
    pending = chat.say(BUY)["pending_confirmation"]
    [flow] = flows_of(chat)

    assert flow_hold_release(flow_id=flow.pk, reason=HOLD_IDLE) is not None
    response = chat.confirm(pending["preview_hash"])

    assert_refused_as_expired(response)
    flow.refresh_from_db()
    assert flow.status == FlowStatus.EXPIRED and flow.confirmations == 0
    assert session_status(flow.checkout_session_id) == "canceled"
    assert merchant_order_count() == 0
