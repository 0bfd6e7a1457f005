"""A chat turn's hand-written PostgreSQL statements (config/statements.py) and their ORM paths do the same thing.

The same conversation is held twice by the same customer, once with the statements and once with the ORM paths
forced (DATABASE_HAND_WRITTEN_SQL off, what SQLite always runs): the answers, and every row the turns leave
(turns, messages, decisions, the flow, its undo, its funnel event, the audit trail, the conversation's state),
are the same, ids and times aside. The ORM path cannot rot unnoticed while PostgreSQL deployments never run it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from catalog_adapters.registry import get_merchant
from config.celery import app as celery_app
from consent.selectors import payment_methods_for_customer
from ordering import services
from ordering.errors import AssistantPaused, RolloutCeilingExceeded
from ordering.models import (
    AgentDecision,
    Conversation,
    ConversationTurn,
    ExperimentEvent,
    FlowCompensation,
    FlowStatus,
    Message,
    OrderFlow,
    RolloutPhase,
    RolloutSettings,
    TurnStatus,
)
from ordering.rollout.assignment import rollout_settings_forget

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


SCRIPT = ["hi", "add the Blue Runner in size 42", "checkout", "yes"]

# Ids, references and moments that differ between two runs of the same conversation, and the stock left (the
# first run's order holds one pair).
_VOLATILE_KEYS = re.compile(
    r"(^id$|_id$|_ids$|_at$|hash|^url$|^trace|^sequence$|^xact$|expires|^created|^updated|^max_quantity$|^available$)"
)
_VOLATILE_TEXT = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b(cs|co|ord|chk)_[A-Za-z0-9]+|\b[0-9a-f]{12,64}\b"
)


@pytest.fixture(autouse=True)
def _no_leftover_tasks():
    # the confirmation enqueues the placement; no worker runs here, so drop it after
    yield
    celery_app.control.purge()


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _stable(item) for key, item in sorted(value.items()) if not _VOLATILE_KEYS.search(str(key))}
    if isinstance(value, list | tuple):
        return [_stable(item) for item in value]
    if isinstance(value, str):
        return _VOLATILE_TEXT.sub("<id>", value)
    return value


def _differences(one: Any, other: Any, path: str = "") -> list[str]:
    if isinstance(one, dict) and isinstance(other, dict):
        return [
            d
            for key in sorted(set(one) | set(other))
            for d in _differences(one.get(key), other.get(key), f"{path}.{key}")
        ]
    if isinstance(one, list) and isinstance(other, list) and len(one) == len(other):
        return [d for n, (a, b) in enumerate(zip(one, other, strict=True)) for d in _differences(a, b, f"{path}[{n}]")]
    return [] if one == other else [f"{path}: {one!r} != {other!r}"]


def _row(instance: Any, *skip: str) -> dict:
    fields = type(instance)._meta.concrete_fields
    return _stable({f.attname: getattr(instance, f.attname) for f in fields if f.attname not in skip})


def _hold(chat) -> dict:
    """The conversation as the API answered it and as the database keeps it."""
    chat.start()
    answers = [chat.say(text) for text in SCRIPT]
    conversation = Conversation.objects.get(pk=chat.id)
    flow = OrderFlow.objects.get(conversation=conversation)
    turns = list(ConversationTurn.objects.filter(conversation=conversation).order_by("id"))
    return {
        "answers": _stable(answers),
        "state": _stable(conversation.agent_state),
        "conversation": _row(conversation),
        "turns": [
            {**_row(turn), "messages": len(turn.response["message_ids"]), "status": turn.status} for turn in turns
        ],
        "messages": [_row(m) for m in Message.objects.filter(conversation=conversation).order_by("id")],
        "decisions": [_row(d) for d in AgentDecision.objects.filter(conversation=conversation).order_by("id")],
        "flow": _row(flow, "payment_method_id", "shipping_address_id", "confirmations"),
        "flow_card_and_address": (flow.payment_method_id, flow.shipping_address_id),
        "undo": [_row(c) for c in FlowCompensation.objects.filter(flow=flow).order_by("id")],
        "funnel": [_row(e) for e in ExperimentEvent.objects.filter(flow_id=flow.pk).order_by("id")],
        "audit": [
            (e.action, e.target_type, e.outcome, _stable(e.data))
            for e in AuditEvent.objects.filter(customer_id=conversation.customer_id).order_by("id")
            if e.target_id in {str(conversation.pk), str(flow.pk)}
        ],
    }


def test_the_statements_and_the_orm_leave_the_same_conversation(shop, chat, settings):
    # given the conversation held with the hand-written statements
    settings.DATABASE_HAND_WRITTEN_SQL = True
    with CaptureQueriesContext(connection) as statements_run:
        with_statements = _hold(chat)
    # when the same customer holds it again with the ORM paths
    settings.DATABASE_HAND_WRITTEN_SQL = False
    with CaptureQueriesContext(connection) as orm_run:
        with_orm = _hold(chat)

    # then each path ran its own code (the ORM's has no data-modifying WITH and takes more round trips)
    assert any(q["sql"].startswith("WITH ") for q in statements_run.captured_queries)
    assert not any(q["sql"].startswith("WITH ") for q in orm_run.captured_queries)
    assert len(orm_run.captured_queries) > len(statements_run.captured_queries)
    # and both left the same conversation: confirmed by a typed yes, with the same card and address
    assert with_statements["flow"]["status"] == FlowStatus.CONFIRMED
    assert with_statements["funnel"] and with_statements["undo"]
    differences = [d for part in with_statements for d in _differences(with_orm[part], with_statements[part], part)]
    assert differences == [], "\n".join(differences)


@pytest.mark.parametrize("hand_written", [True, False], ids=["statements", "orm"])
def test_a_post_while_a_turn_is_queued_and_to_another_customers_conversation(shop, chat, settings, hand_written):
    settings.DATABASE_HAND_WRITTEN_SQL = hand_written
    chat.start()
    conversation = Conversation.objects.get(pk=chat.id)
    record, fresh = services.turn_claim(conversation=conversation, idempotency_key="", text="hi", command=None)
    assert fresh and record.status == TurnStatus.QUEUED

    # a second message while the first turn is queued is refused, and writes nothing
    answer = chat.say("hello again", expect=409)
    assert answer["error"] == "turn_in_progress"
    assert Message.objects.filter(conversation=conversation, role="customer").count() == 1

    # the queued turn is taken once, with its message and the customer's saved details
    taken, took, question, saved = services._turn_take(turn_id=record.pk, merchant_id="sandbox")
    assert taken and took.status == TurnStatus.RUNNING and question.text == "hi"
    assert took.conversation.customer.username == "alice"
    cards = payment_methods_for_customer(user_id=conversation.customer_id).values_list("pk", flat=True)
    assert saved.payment_methods and [m.pk for m in saved.payment_methods] == list(cards)
    again = services._turn_take(turn_id=record.pk, merchant_id="sandbox")
    assert again[0] is False and again[1].status == TurnStatus.RUNNING and again[3] is None

    # another customer's conversation is not found
    assert services._turn_insert(
        conversation_id=conversation.pk, customer_id=conversation.customer_id + 1000, idempotency_key="",
        text="x", command=None,
    ) == (None, None)  # fmt: skip


@pytest.mark.parametrize("hand_written", [True, False], ids=["statements", "orm"])
def test_the_rollout_refuses_a_preview_either_way(shop, settings, hand_written):
    settings.DATABASE_HAND_WRITTEN_SQL = hand_written
    flow = shop.start_flow()
    try:
        # the kill switch: no new preview, whichever path would have written it
        _rollout(kill_switch=True, kill_switch_reason="test")
        with pytest.raises(AssistantPaused):
            _preview_again(flow)
        # a beta chat over its ceiling (the Blue Runner costs more than $1.00): refused as well
        _rollout(kill_switch=False, phase=RolloutPhase.BETA, beta_session_ceiling=100)
        OrderFlow.objects.filter(pk=flow.pk).update(rollout_phase=RolloutPhase.BETA, rollout_arm="assistant")
        flow.refresh_from_db()
        with pytest.raises(RolloutCeilingExceeded):
            _preview_again(flow)
        # under the ceiling: previewed again
        _rollout(beta_session_ceiling=10_000_000)
        assert _preview_again(flow).status == FlowStatus.PREVIEWED
    finally:
        rollout_settings_forget()


def _rollout(**values) -> None:
    RolloutSettings.objects.update_or_create(pk=1, defaults=values)
    rollout_settings_forget()


def _preview_again(flow: OrderFlow) -> OrderFlow:
    session = get_merchant(flow.merchant_id).checkout.get(session_id=flow.checkout_session_id)
    return services.flow_preview(
        flow_id=flow.pk,
        customer_id=flow.customer_id,
        session=session,
        payment_method_id=flow.payment_method_id,
        address_id=flow.shipping_address_id,
        known=flow,
    )
