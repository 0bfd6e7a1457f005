"""Stock holds under races between threads (issue #16, "Undo and recovery"): two previews racing for the
customer's limit, a confirmation racing a release. Each thread is its own connection, so these need real
commits: the sandbox merchant over real HTTP (test_stock_holds.py has the rest, on the fake merchant).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ordering.holds import HOLD_IDLE, flow_hold_release
from ordering.models import FlowStatus, OrderFlow
from tests.conversations.test_stock_holds import BUY, assert_refused_as_expired, flows_of, new_chat, open_holds
from tests.support.merchant_state import merchant_order_count, merchant_orders, session_status

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("eager_tasks")]


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
        assert all(shop.held(flow.checkout_session_id) == 1 for flow in holds)
        released = OrderFlow.objects.filter(customer=shop.alice).exclude(pk__in=[flow.pk for flow in holds])
        assert released and all(flow.status == FlowStatus.EXPIRED for flow in released)
        assert sum(shop.held(flow.checkout_session_id) for flow in released) == 0
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
            assert session_status(flow.checkout_session_id) == "canceled" and shop.held(flow.checkout_session_id) == 0
            outcomes.append("refused")
    assert len(outcomes) == 5
