"""Ordering asks for a person through `ordering.hooks.person_needed`; escalations answers (#18).

The escalation is opened in the caller's transaction: the flow's move and its escalation commit or roll
back together. Nobody answering is an error, and escalations' answers are registered at start-up.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from audit.models import AuditEvent
from config.hooks import HookNotSubscribed
from escalations import handlers, ops, selectors
from escalations.models import Escalation
from ordering import hooks
from ordering.hooks import PersonNeeded
from ordering.models import EscalationReason, FlowStatus, OrderFlow, WaitingFor
from ordering.ops.selectors import ops_panels
from ordering.saga import outcomes
from ordering.services import conversation_start
from tests.consent.factories import UserFactory

pytestmark = [pytest.mark.django_db]


class RolledBack(Exception):
    pass


def placing_flow(user) -> OrderFlow:
    conversation = conversation_start(customer_id=user.pk)
    return OrderFlow.objects.create(
        customer=user,
        conversation=conversation,
        merchant_id="sandbox",
        checkout_session_id="cs_hook",
        status=FlowStatus.PLACING,
        confirmations=1,
        total_amount=5_000,
        currency="USD",
        next_step="score_risk",
    )


def risk_review() -> outcomes.Escalate:
    return outcomes.Escalate(
        reason=EscalationReason.RISK_REVIEW,
        code="risk_review",
        detail="Risk review: first order, high value",
        waiting_for=WaitingFor.RISK_REVIEW,
    )


def test_escalations_answers_ordering_from_start_up():
    assert hooks.person_needed.handler is handlers.open_escalation_for
    assert hooks.escalation_records.provider is selectors.escalation_records
    assert set(ops.OPS_PANELS) <= set(ops_panels())


def test_the_saga_escalating_a_flow_opens_its_escalation_in_the_same_transaction():
    flow = placing_flow(UserFactory(username="risky"))

    with transaction.atomic():
        outcomes._escalate(flow, risk_review())

    flow.refresh_from_db()
    assert (flow.status, flow.waiting_for, flow.failure_code) == (FlowStatus.ESCALATED, "risk_review", "")
    escalation = Escalation.objects.get(flow=flow)
    assert (escalation.reason, escalation.conversation_id) == ("risk_review", flow.conversation_id)


def test_a_rolled_back_escalation_of_a_flow_leaves_neither_the_move_nor_the_escalation():
    flow = placing_flow(UserFactory(username="riskier"))

    # when the flow's transaction rolls back after the saga escalated it
    with pytest.raises(RolledBack), transaction.atomic():
        outcomes._escalate(flow, risk_review())
        assert Escalation.objects.filter(flow=flow).exists()  # written inside the transaction
        raise RolledBack

    # then nothing of it stays: no escalation, no audit event, the flow as it was
    assert not Escalation.objects.filter(flow=flow).exists()
    assert not AuditEvent.objects.filter(action="escalation.opened", customer_id=flow.customer_id).exists()
    flow.refresh_from_db()
    assert (flow.status, flow.waiting_for) == (FlowStatus.PLACING, "")


def test_asking_for_a_person_with_nobody_answering_is_an_error_and_writes_nothing():
    flow = placing_flow(UserFactory(username="nobody"))
    handler = hooks.person_needed.handler
    hooks.person_needed.unregister(handler)
    try:
        with pytest.raises(HookNotSubscribed), transaction.atomic():
            outcomes._escalate(flow, risk_review())
    finally:
        hooks.person_needed.register(handler)

    flow.refresh_from_db()
    assert flow.status == FlowStatus.PLACING
    assert not Escalation.objects.exists()


def test_a_second_answer_is_refused():
    with pytest.raises(RuntimeError, match="one answer only"):
        hooks.person_needed.register(lambda event: 0)


def test_the_answer_is_the_escalation_opened_or_the_one_already_open():
    user = UserFactory(username="asker")
    conversation = conversation_start(customer_id=user.pk)
    ask = PersonNeeded(
        reason=EscalationReason.CUSTOMER_REQUEST,
        customer_id=user.pk,
        conversation_id=conversation.pk,
        actor_type="agent",
    )

    first = hooks.person_needed.ask(ask)
    again = hooks.person_needed.ask(ask)

    assert first == again == Escalation.objects.get(conversation=conversation).pk


def test_ordering_reads_escalations_through_the_provider():
    flow = placing_flow(UserFactory(username="reader"))
    with transaction.atomic():
        outcomes._escalate(flow, risk_review())

    [summary] = hooks.escalation_records.get().escalations_of(flow_ids=[flow.pk], conversation_ids=[], limit=10)

    assert (summary.reason, summary.reason_label, summary.status) == ("risk_review", "Risk review", "open")
