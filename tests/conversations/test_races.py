"""Duplicate and concurrent customer turns on real PostgreSQL (threads, each with its own connection)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ordering.models import ConversationTurn, MessageRole, OrderFlow

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("eager_tasks")]


def _post_together(shop, conversation_id: str, bodies: list[tuple[str, str]]) -> list:
    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)

    def post(index: int, text: str, key: str) -> None:
        client = APIClient()
        client.force_login(shop.alice)
        try:
            barrier.wait(timeout=10)
            results[index] = client.post(
                f"/api/v1/conversations/{conversation_id}/messages/",
                {"text": text},
                format="json",
                headers={"Idempotency-Key": key},
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i, text, key)) for i, (text, key) in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_ten_concurrent_retries_of_one_message_make_one_turn(shop, chat, unique):
    chat.start()

    results = _post_together(shop, chat.id, [("Buy the Blue Runner in size 42", unique)] * 10)

    # every retry is answered with the one turn (202); only one of them ran it, the others replay it
    assert [result.status_code for result in results] == [202] * 10
    answers = [result.json() for result in results]
    assert len({answer["turn"]["id"] for answer in answers}) == 1
    ran = [result for result in results if "Idempotent-Replayed" not in result.headers]
    assert len(ran) == 1 and ran[0].json()["turn"]["status"] == "done"
    for answer in answers:
        assert answer["messages"][0]["role"] == "customer"
        # a replay answers the turn as it stands: still running (the customer's message alone), or the same answer
        still_running = answer["turn"]["status"] in ("queued", "running") and len(answer["messages"]) == 1
        assert answer == ran[0].json() or still_running
    assert ConversationTurn.objects.filter(conversation_id=chat.id).count() == 1
    assert chat.get()["messages"][1]["role"] == "customer"
    customer_messages = [m for m in chat.get()["messages"] if m["role"] == MessageRole.CUSTOMER]
    assert len(customer_messages) == 1
    assert OrderFlow.objects.filter(conversation_id=chat.id).count() == 1


def test_concurrent_different_messages_run_one_at_a_time(shop, chat, unique):
    chat.start()

    results = _post_together(
        shop, chat.id, [(f"Buy the Blue Runner in size {40 + i}", f"{unique}-{i}") for i in range(5)]
    )

    done = [result for result in results if result.status_code == 202]
    assert all(result.json()["turn"]["status"] == "done" for result in done)
    refused = [result for result in results if result.status_code == 409]
    assert len(done) + len(refused) == 5 and done
    # every turn that ran did so alone: one cart, one flow, as many turns as answers
    assert ConversationTurn.objects.filter(conversation_id=chat.id, status="done").count() == len(done)
    assert OrderFlow.objects.filter(conversation_id=chat.id).count() == 1
    assert len(chat.get()["pending_confirmation"]["preview"]["lines"]) == len(done)
