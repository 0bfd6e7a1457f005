"""Every turn ends with an answer (issue #16, "Bad input"): a quantity over what can be ordered is refused
in words that name the maximum, with the cart left as it was, and a turn that would end without a word to
the customer gets a fallback answer with the reason on record. Through the conversation API, with the
sandbox merchant over HTTP."""

from __future__ import annotations

import pytest
from django.db import DatabaseError

from audit.models import AuditEvent
from ordering.agent import metrics as agent_metrics
from ordering.agent.pipeline import NO_ANSWER_TEXT
from ordering.models import AgentDecision, ConversationStatus, OrderFlow
from tests.support.merchant_state import checkout_session

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def _cart(chat) -> tuple[str, list[tuple[str, int]]]:
    pending = chat.get()["pending_confirmation"]
    assert pending is not None
    return pending["preview_hash"], [(line["product_id"], line["quantity"]) for line in pending["preview"]["lines"]]


@pytest.mark.parametrize(
    "first, maximum",
    [
        # 30 in stock: the line maximum (20) is what stops it
        ("buy the soft flask", "at most 20"),
        # 8 in stock: the shop's stock is the maximum; "50" was read as a shoe size before (issue #16)
        ("buy the blue runner in size 42", "only 8"),
    ],
)
@pytest.mark.parametrize(
    "words", ["make it 50", "actually 50 of them", "change the quantity to 500", "change the quantity to 50"]
)
def test_a_quantity_over_the_maximum_is_answered_with_the_maximum_and_the_cart_stays(shop, chat, first, maximum, words):
    chat.start()
    chat.say(first)
    hash_before, lines_before = _cart(chat)
    flow_id = chat.get()["pending_confirmation"]["flow_id"]

    answer = chat.say(words)

    texts = chat.assistant_texts(answer)
    assert len(texts) == 1, texts
    assert maximum in texts[0], texts
    assert "size" not in texts[0].replace("in size 42", ""), texts  # about how many, not a size question
    assert answer["turn"]["status"] == "done"
    # the cart is what it was, here and at the shop
    assert _cart(chat) == (hash_before, lines_before)
    session = checkout_session(OrderFlow.objects.get(pk=flow_id).checkout_session_id)
    assert [line.quantity for line in session.line_items] == [1]


def test_a_turn_that_would_end_silently_answers_and_records_why(shop, chat, monkeypatch):
    # given the hand-over cannot be written (a database fault in the escalation's insert): the tool fails
    # on a path that returns without speaking, which left the customer with no reply at all
    def escalation_insert_fails(**kwargs):
        raise DatabaseError("could not write the escalation")

    monkeypatch.setattr("escalations.handlers.escalation_open", escalation_insert_fails)
    chat.start()
    unanswered_before = agent_metrics.turns_unanswered.labels(planner="offline")._value.get()

    # when alice asks for a person
    answer = chat.say("talk to a person")

    # then she gets an answer that says what she can do, with chips for it
    [message] = [m for m in answer["messages"] if m["role"] == "assistant"]
    assert message["text"] == NO_ANSWER_TEXT
    assert message["kind"] == "no_answer"
    assert [reply["text"] for reply in message["quick_replies"]] == ["Show my order", "Talk to a person"]
    assert answer["turn"]["status"] == "done"
    assert chat.get()["status"] == ConversationStatus.ACTIVE
    # and staff read why, in the decision and in the audit log; operators see the counter move
    fallback = AgentDecision.objects.get(conversation_id=chat.id, name="no_answer_fallback")
    assert not fallback.ok
    assert "hand_over" in fallback.error and "did not work on our side" in fallback.error
    assert AuditEvent.objects.filter(
        action="agent.decided", target_id=chat.id, data__name="no_answer_fallback", outcome="failed"
    ).exists()
    assert agent_metrics.turns_unanswered.labels(planner="offline")._value.get() == unanswered_before + 1


def test_a_conversation_with_a_specialist_stays_quiet(shop, chat):
    # the one turn without an answer on purpose: a person has the conversation and is told once
    chat.start()
    chat.say("talk to a person")

    answer = chat.say("make it 50")

    assert chat.assistant_texts(answer) == []
    assert not AgentDecision.objects.filter(conversation_id=chat.id, name="no_answer_fallback").exists()
