"""Turns as background work: the 202 answer, the turn url, a real worker on the turn queue, the deadline,
and the recovery of turns whose task or process was lost (real PostgreSQL, Redis, sandbox merchant)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from catalog_adapters.errors import MerchantNetworkError
from catalog_adapters.registry import get_merchant
from config.deadline import DeadlineExceeded, deadline_check, deadline_scope, time_left, timeout_capped
from ordering import services
from ordering.models import (
    AgentDecision,
    Conversation,
    ConversationTurn,
    FlowStatus,
    MessageRole,
    OrderFlow,
    TurnStatus,
)
from tests.support.services import CeleryWorker, database_url_for

pytestmark = [pytest.mark.postgres]


def _wait_for_turn(chat, body: dict, *, timeout: float = 90) -> dict:
    until = time.monotonic() + timeout
    while body["turn"]["status"] in ("queued", "running"):
        assert time.monotonic() < until, f"the turn never finished: {body}"
        time.sleep(0.2)
        body = chat.turn(body["turn"]["url"])
    return body


def test_deadline_caps_timeouts_and_stops_new_work():
    assert time_left() is None and timeout_capped(20.0) == 20.0
    with deadline_scope(5) as _:
        assert 0 < time_left() <= 5
        assert timeout_capped(20.0) <= 5
        assert timeout_capped((3.0, 30.0))[0] == 3.0 and timeout_capped((3.0, 30.0))[1] <= 5
        with deadline_scope(60):
            assert time_left() <= 5  # an inner scope never extends the outer deadline
        deadline_check()
    with deadline_scope(0), pytest.raises(DeadlineExceeded):
        deadline_check()
    with deadline_scope(0):
        assert timeout_capped(20.0) > 0  # a request still gets a (tiny) timeout, never zero


def test_a_merchant_request_waits_no_longer_than_the_deadline(shop, settings):
    # the shop answers only after 3 s (six times the turn's deadline), well inside the client's own read timeout of 30 s
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "sandbox": {**settings.MERCHANTS["sandbox"], "READ_TIMEOUT": 30.0, "MAX_ATTEMPTS": 1},
    }
    from catalog_adapters.registry import reset_merchants

    reset_merchants()
    shop.sandbox.add_fault("slow", operation="any", times=1, delay_ms=3000)

    with deadline_scope(0.5), pytest.raises(MerchantNetworkError):
        get_merchant("sandbox").http.request("GET", "/products", operation="list_products")
    shop.sandbox.wait_until_answered()


def test_the_post_answers_202_with_the_turn_and_its_url(shop, chat):
    chat.start()

    answer = chat.say("Buy the Blue Runner in size 42")

    turn = ConversationTurn.objects.get(conversation_id=chat.id)
    assert answer["turn"] == {
        "id": turn.pk,
        "status": "done",
        "url": f"/api/v1/conversations/{chat.id}/turns/{turn.pk}/",
    }
    assert answer["messages"][0]["role"] == "customer" and answer["messages"][-1]["kind"] == "preview"
    assert answer["pending_confirmation"]["preview_hash"]
    # the turn url answers the same body, and only to the conversation's customer
    assert chat.turn(answer["turn"]["url"]) == answer
    bob = APIClient()
    bob.force_login(get_user_model().objects.create_user(username="bob-turns", password="x"))
    assert bob.get(answer["turn"]["url"]).status_code == 404
    assert chat.client.get(f"/api/v1/conversations/{chat.id}/turns/999999/").status_code == 404


@pytest.mark.redis
def test_a_real_worker_runs_the_turn_on_the_turn_queue_and_the_widget_polls_it(
    shop, chat, settings, live_server, tmp_path, unique
):
    # given turns as background work, and a worker consuming the default and the turn queue
    settings.ORDERING_TURNS_INLINE = False
    worker = CeleryWorker(
        database_url=database_url_for(connection.settings_dict),
        log_path=tmp_path / "worker.log",
        extra_env={
            "MERCHANT_SANDBOX_BASE_URL": shop.sandbox.base_url,
            "MERCHANT_SANDBOX_RATE_LIMIT": "0",
            "SANDBOX_MERCHANT_WEBHOOK_URL": f"{live_server.url}/webhooks/merchants/sandbox/",
        },
    )
    chat.start()
    worker.start()
    try:
        # when alice posts a message
        response = chat.client.post(
            f"/api/v1/conversations/{chat.id}/messages/",
            {"text": "Buy the Blue Runner in size 42"},
            format="json",
            headers={"Idempotency-Key": unique},
        )

        # then she gets 202 at once: her message, the turn queued, nothing answered yet
        assert response.status_code == 202, response.content
        accepted = response.json()
        assert accepted["turn"]["status"] == "queued"
        assert [m["role"] for m in accepted["messages"]] == ["customer"]
        assert accepted["pending_confirmation"] is None
        assert response.headers["Location"] == accepted["turn"]["url"]

        # a retry with the same key is the same turn, never a second one
        again = chat.client.post(
            f"/api/v1/conversations/{chat.id}/messages/",
            {"text": "Buy the Blue Runner in size 42"},
            format="json",
            headers={"Idempotency-Key": unique},
        )
        assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["turn"]["id"] == accepted["turn"]["id"]

        # and the worker answers it: polling the turn url shows the preview
        done = _wait_for_turn(chat, accepted)
        assert done["turn"]["status"] == "done", worker.log()[-3000:]
        assert done["messages"][-1]["kind"] == "preview"
        pending = done["pending_confirmation"]
        assert pending is not None
        assert chat.events()["pending_confirmation"]["preview_hash"] == pending["preview_hash"]

        # a typed yes runs on the worker too, and the placement (default queue) on the same worker
        confirmed = _wait_for_turn(chat, chat.say("yes"))
        assert confirmed["turn"]["status"] == "done"
        flow = OrderFlow.objects.get(pk=pending["flow_id"])
        until = time.monotonic() + 90
        while flow.status != FlowStatus.PLACED and time.monotonic() < until:
            time.sleep(0.3)
            flow.refresh_from_db()
        assert flow.status == FlowStatus.PLACED, worker.log()[-3000:]
    finally:
        worker.stop()
    assert ConversationTurn.objects.filter(conversation_id=chat.id).count() == 2
    assert set(ConversationTurn.objects.filter(conversation_id=chat.id).values_list("status", flat=True)) == {"done"}


def test_a_turn_past_its_deadline_fails_with_an_apology_and_leaves_nothing_pending(shop, chat, settings):
    settings.ORDERING_TURN_DEADLINE_SECONDS = 1
    chat.start()
    # the shop takes 3 s over the new checkout session: the turn's deadline passes while it waits
    shop.sandbox.add_fault("slow", operation="create", times=3, delay_ms=3000)

    answer = chat.say("Buy the Blue Runner in size 42")

    assert answer["turn"]["status"] == "failed"
    assert answer["messages"][0]["role"] == "customer"
    assert answer["messages"][-1]["kind"] == "turn_failed"
    assert not [m for m in answer["messages"] if m["kind"] == "preview"]
    assert "send it again" in answer["messages"][-1]["text"]
    assert answer["pending_confirmation"] is None
    shop.sandbox.wait_until_answered()
    # nothing half done: no cart flow waits, the state holds no cart, no preview can be confirmed
    assert not OrderFlow.objects.filter(
        conversation_id=chat.id, status__in=(FlowStatus.DRAFT, FlowStatus.PREVIEWED)
    ).exists()
    conversation = Conversation.objects.get(pk=chat.id)
    assert conversation.agent_state.get("cart", []) == [] and not conversation.agent_state.get("flow_id")
    assert chat.get()["pending_confirmation"] is None
    failed_turn = ConversationTurn.objects.get(conversation_id=chat.id)
    assert failed_turn.status == TurnStatus.FAILED
    # what the turn decided before it ran out of time is on record, each decision with its audit event
    decisions = list(AgentDecision.objects.filter(turn=failed_turn))
    assert decisions
    logged = set(
        AuditEvent.objects.filter(target_id=chat.id, action__startswith="agent.").values_list(
            "data__decision_id", flat=True
        )
    )
    assert {decision.pk for decision in decisions} <= logged

    # and the customer can simply send it again once the shop is quick again
    shop.sandbox.clear_faults()
    settings.ORDERING_TURN_DEADLINE_SECONDS = 30
    retried = chat.say("Buy the Blue Runner in size 42")
    assert retried["turn"]["status"] == "done"
    assert retried["pending_confirmation"] is not None


@pytest.mark.usefixtures("eager_tasks")
def test_a_queued_turn_whose_task_was_lost_is_run_by_the_sweep(shop, chat, settings):
    chat.start()
    conversation = Conversation.objects.get(pk=chat.id)
    # a turn committed as queued whose task never reached a worker (a crash between commit and enqueue)
    record, fresh = services.turn_claim(
        conversation=conversation, idempotency_key="", text="Buy the Blue Runner in size 42", command=None
    )
    assert fresh and record.status == TurnStatus.QUEUED
    # the next message waits for it: one turn at a time
    assert chat.say("hello", expect=409)["error"] == "turn_in_progress"

    assert services.turns_sweep() == {"requeued": 0, "abandoned": 0}  # not lost yet: just queued
    ConversationTurn.objects.filter(pk=record.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.ORDERING_TURN_REQUEUE_AFTER_SECONDS + 1)
    )
    assert services.turns_sweep() == {"requeued": 1, "abandoned": 0}

    record.refresh_from_db()
    assert record.status == TurnStatus.DONE
    assert chat.turn(f"/api/v1/conversations/{chat.id}/turns/{record.pk}/")["pending_confirmation"] is not None
    # a second delivery of the same task finds the turn no longer queued and does nothing
    assert services.turn_execute(turn_id=record.pk) == TurnStatus.DONE
    assert conversation.messages.filter(turn=record).count() == 2


def test_a_turn_lost_with_its_process_is_failed_with_an_apology_and_the_next_message_goes_ahead(shop, chat, settings):
    chat.start()
    conversation = Conversation.objects.get(pk=chat.id)
    record, _ = services.turn_claim(conversation=conversation, idempotency_key="", text="hi", command=None)
    # it was running when its worker died, long ago
    ConversationTurn.objects.filter(pk=record.pk).update(
        status=TurnStatus.RUNNING,
        started_at=timezone.now() - timedelta(seconds=settings.ORDERING_TURN_GIVE_UP_AFTER_SECONDS + 1),
    )

    answer = chat.say("Buy the Blue Runner in size 42")

    assert answer["turn"]["status"] == "done"
    record.refresh_from_db()
    assert record.status == TurnStatus.FAILED
    apology = conversation.messages.filter(turn=record, role=MessageRole.ASSISTANT).get()
    assert apology.data["kind"] == "turn_failed"
    # a redelivery of the dead worker's task does not run it again
    assert services.turn_execute(turn_id=record.pk) == TurnStatus.FAILED


@pytest.mark.usefixtures("eager_tasks")
def test_a_retried_post_of_a_turn_still_queued_sends_its_task_again(shop, chat, settings):
    """The broker was down when the message was posted (503 after the turn committed): the widget sends
    the same request again, and that retry, not the sweep 20 s later, gets the turn run."""
    settings.ORDERING_TURNS_INLINE = False
    chat.start()
    conversation = Conversation.objects.get(pk=chat.id)
    record, fresh = services.turn_claim(
        conversation=conversation, idempotency_key="retry-1", text="Buy the Blue Runner in size 42", command=None
    )
    assert fresh and record.status == TurnStatus.QUEUED
    # a retry within a moment of the post is a plain replay: the first task may still be on its way
    chat.say("Buy the Blue Runner in size 42", key="retry-1")
    record.refresh_from_db()
    assert record.status == TurnStatus.QUEUED

    ConversationTurn.objects.filter(pk=record.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.ORDERING_TURN_REPLAY_REQUEUE_AFTER_SECONDS + 1)
    )
    chat.say("Buy the Blue Runner in size 42", key="retry-1")
    record.refresh_from_db()
    assert record.status == TurnStatus.DONE
    assert chat.turn(f"/api/v1/conversations/{chat.id}/turns/{record.pk}/")["pending_confirmation"] is not None
    # one answer, however many times the request was sent
    assert conversation.messages.filter(turn=record, role="assistant").count() == 1
