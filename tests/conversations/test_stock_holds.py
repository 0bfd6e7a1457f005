"""Stock holds (issue #16, "Undo and recovery"): what an unconfirmed cart or preview keeps reserved at the shop.

A preview that cannot be placed holds nothing; a customer keeps at most ORDERING_MAX_OPEN_PREVIEWS carts at a
time; a quiet conversation gives its hold back early; a "yes" to a released preview gets a fresh preview,
never an order from the released session. Real PostgreSQL, the sandbox merchant over real HTTP, and the
hold read where the sandbox keeps it (`CheckoutLine.reserved_quantity` of an open session).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Sum
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

BUY = "buy the blue runner in size 42"


def held(session_id: str) -> int:
    """Units the sandbox holds for this checkout session now, as it stores them (open, not lapsed)."""
    from sandbox_merchant.selectors import live_reservations

    lines = live_reservations(now=timezone.now()).filter(session_id=session_id)
    return lines.aggregate(units=Sum("reserved_quantity"))["units"] or 0


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


def post_together(shop, conversation_ids: list[str], text: str) -> list:
    """Post the same message to several of alice's conversations at once (threads, each its own connection)."""
    barrier = threading.Barrier(len(conversation_ids))
    answers: list = [None] * len(conversation_ids)

    def post(index: int) -> None:
        client = APIClient()
        client.force_login(shop.alice)
        try:
            barrier.wait(timeout=10)
            answers[index] = client.post(
                f"/api/v1/conversations/{conversation_ids[index]}/messages/", {"text": text}, format="json"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(conversation_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return answers


def released_event(flow: OrderFlow, status: str) -> AuditEvent:
    return AuditEvent.objects.get(action=f"flow.{status}", target_id=str(flow.pk))


# -- 1. a preview that cannot be placed holds nothing ------------------------------------------------


def test_a_preview_over_a_cap_holds_nothing_at_the_shop_and_says_why(shop, chat):
    spend_caps_set(user_id=shop.alice.pk, caps={"per_order": 10000})  # $100.00; two pairs cost more
    on_hand = shop.sandbox.available(BLUE_RUNNER_42)
    chat.start()

    answer = chat.say("2 blue runners in size 42")

    # the customer is told why, as before, and offered nothing to confirm
    assert "per-order cap of $100.00" in texts(answer) and "/settings/" in texts(answer)
    assert "preview_blocked" in kinds(answer)
    assert answer["pending_confirmation"] is None
    # ...and the shop holds nothing for it: the session is canceled and its units are back on sale
    [flow] = flows_of(chat)
    assert flow.status == FlowStatus.CANCELED and flow.failure_code == PREVIEW_BLOCKED
    assert session_status(flow.checkout_session_id) == "canceled"
    assert held(flow.checkout_session_id) == 0
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
    assert held(fresh.checkout_session_id) == 2
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
    assert held(fresh.checkout_session_id) == 1 and held(blocked.checkout_session_id) == 0


# -- 2. at most ORDERING_MAX_OPEN_PREVIEWS carts per customer ----------------------------------------------


def test_a_new_preview_over_the_limit_releases_the_customers_oldest(shop, settings):
    settings.ORDERING_MAX_OPEN_PREVIEWS = 2
    first, second, third = new_chat(shop), new_chat(shop), new_chat(shop)
    first.say(BUY)
    second.say(BUY)
    [oldest], [kept] = flows_of(first), flows_of(second)
    assert held(oldest.checkout_session_id) == held(kept.checkout_session_id) == 1

    answer = third.say(BUY)

    # the new preview is shown; the oldest was expired and canceled at the shop, the others still hold
    assert answer["pending_confirmation"] is not None
    oldest.refresh_from_db()
    assert oldest.status == FlowStatus.EXPIRED and oldest.failure_code == HOLD_LIMIT
    assert session_status(oldest.checkout_session_id) == "canceled" and held(oldest.checkout_session_id) == 0
    assert released_event(oldest, "expired").data["reason"] == HOLD_LIMIT
    assert {flow.pk for flow in open_holds(shop.alice)} == {kept.pk, flows_of(third)[0].pk}
    assert held(kept.checkout_session_id) == 1
    # the first conversation says what happened, and its preview can no longer be confirmed
    told = Message.objects.filter(conversation_id=first.id, data__kind="preview_released").get()
    assert "Nothing was ordered" in told.text and "at most 2" in told.text
    assert first.get()["pending_confirmation"] is None
    response = first.confirm(oldest.preview_hash)
    assert_refused_as_expired(response)
    assert merchant_order_count() == 0


def test_two_new_previews_racing_for_the_limit_never_leave_more_than_the_limit(shop, settings):
    settings.ORDERING_MAX_OPEN_PREVIEWS = 2
    new_chat(shop).say(BUY)

    for _ in range(3):
        chats = [new_chat(shop), new_chat(shop)]

        answers = post_together(shop, [chat.id for chat in chats], BUY)

        # both racing previews were made and shown; every older cart was released, at the shop too
        assert [answer.json()["turn"]["status"] for answer in answers] == ["done", "done"]
        holds = open_holds(shop.alice)
        assert {str(flow.conversation_id) for flow in holds} == {chat.id for chat in chats}
        assert all(held(flow.checkout_session_id) == 1 for flow in holds)
        released = OrderFlow.objects.filter(customer=shop.alice).exclude(pk__in=[flow.pk for flow in holds])
        assert released and all(flow.status == FlowStatus.EXPIRED for flow in released)
        assert sum(held(flow.checkout_session_id) for flow in released) == 0
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
    assert fresh.status == FlowStatus.PREVIEWED and held(fresh.checkout_session_id) == 1
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
    assert held(flow.checkout_session_id) == 1

    # quiet for longer than the setting (well under the shop's own 30 minutes)
    assert holds_release_idle(now=timezone.now() + idle + timedelta(seconds=1)) == {"released": 1}

    flow.refresh_from_db()
    assert flow.status == FlowStatus.EXPIRED and flow.failure_code == HOLD_IDLE
    assert session_status(flow.checkout_session_id) == "canceled" and held(flow.checkout_session_id) == 0
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
    assert held(fresh.checkout_session_id) == 1
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
    assert flows_of(quiet)[0].status == FlowStatus.EXPIRED and held(flows_of(quiet)[0].checkout_session_id) == 0
    assert flows_of(busy)[0].status == FlowStatus.PREVIEWED and held(flows_of(busy)[0].checkout_session_id) == 1


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


def test_a_confirmation_racing_a_release_places_the_exact_preview_or_nothing(shop, settings):
    settings.ORDERING_MAX_OPEN_PREVIEWS = 10
    outcomes = []
    # The release starts a little later in each round, so the rounds cover both orders and the moments
    # in between (the outcome of each round is checked whichever way it went).
    for release_delay in (0, 0.005, 0.02, 0.1, 0.3):
        chat = new_chat(shop)
        pending = chat.say(BUY)["pending_confirmation"]
        [flow] = flows_of(chat)
        barrier = threading.Barrier(2)
        results: dict = {}

        def confirm(chat=chat, pending=pending, results=results, barrier=barrier) -> None:
            try:
                barrier.wait(timeout=10)
                results["confirm"] = chat.confirm(pending["preview_hash"])
            finally:
                connection.close()

        def release(flow=flow, results=results, barrier=barrier, release_delay=release_delay) -> None:
            try:
                barrier.wait(timeout=10)
                time.sleep(release_delay)
                results["release"] = flow_hold_release(flow_id=flow.pk, reason=HOLD_IDLE)
            finally:
                connection.close()

        threads = [threading.Thread(target=confirm), threading.Thread(target=release)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)

        flow.refresh_from_db()
        placed = merchant_orders(session_id=flow.checkout_session_id)
        if results["confirm"].status_code == 202:
            # the confirmation won: the release found no hold, and the order is the exact preview confirmed
            assert results["release"] is None
            assert flow.status == FlowStatus.PLACED and flow.confirmed_hash == pending["preview_hash"]
            assert len(placed) == 1
            outcomes.append("placed")
        else:
            # the release won: the confirmation is refused in words, nothing is placed, the stock is back
            assert_refused_as_expired(results["confirm"])
            assert results["release"] is not None
            assert flow.status == FlowStatus.EXPIRED and flow.confirmations == 0 and placed == []
            assert session_status(flow.checkout_session_id) == "canceled" and held(flow.checkout_session_id) == 0
            outcomes.append("refused")
    assert len(outcomes) == 5
