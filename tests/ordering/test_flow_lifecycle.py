"""Confirming, declining, canceling, stale previews, risk, revocation, the sweeper: at the in-memory fake merchant
(the merchant is not the subject; the test rolls back). Races between threads, undo steps the sandbox's faults
make fail, what the sandbox received and the HTTP client's log are in test_flow_lifecycle_wire.py.
"""

from __future__ import annotations

import threading

import pytest

from audit.models import AuditEvent
from consent.models import Scope, SpendEntry
from consent.selectors import grants_for_customer
from consent.services.grants import consent_revoke
from escalations.models import Escalation
from ordering.errors import FlowNotConfirmable, InvalidFlowTransition, StalePreview
from ordering.models import FLOW_TRANSITIONS, FlowStatus, FlowStep, OrderFlow
from ordering.saga import engine, resumes, sweeper
from ordering.services import flow_confirm, flow_decline
from ordering.transitions import flow_transition
from tests.support.merchant_state import (
    available,
    merchant_order_count,
    merchant_tokens,
    session_status,
)
from tests.support.sandbox import BLUE_RUNNER_42
from tests.support.together import together


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def refresh_flow(flow) -> OrderFlow:
    return OrderFlow.objects.get(pk=flow.pk)


def drive(flow) -> OrderFlow:
    """Run the saga in this process until it stops moving (the queue itself is not under test here)."""
    for _ in range(20):
        if engine.flow_run_next_step(flow_id=flow.pk) == "skipped":
            break
    return refresh_flow(flow)


def confirm_and_run_at_once(flow, *, customer_id: int, threads: int, runs: int) -> list[BaseException]:
    """`threads` threads confirm the same preview at the same moment, then each plays a worker that got the task
    (redelivery, duplicates) and runs the saga `runs` times; what any of them raised."""
    confirmed = threading.Barrier(threads)

    def confirm_then_run() -> None:
        flow_confirm(flow_id=flow.pk, customer_id=customer_id, preview_hash=flow.preview_hash)
        confirmed.wait()
        for _ in range(runs):
            engine.flow_run_next_step(flow_id=flow.pk)

    return together(threads, confirm_then_run)[1]


def test_every_status_has_a_row_in_the_transition_table():
    assert set(FLOW_TRANSITIONS) == set(FlowStatus.values)
    assert FLOW_TRANSITIONS[FlowStatus.PLACED] == frozenset()


def test_an_invalid_transition_is_refused_loudly(shop):
    flow = shop.start_flow()

    with pytest.raises(InvalidFlowTransition, match="previewed to placed"):
        flow_transition(flow, FlowStatus.PLACED, actor_type="agent")

    assert refresh_flow(flow).status == FlowStatus.PREVIEWED


def test_a_stale_preview_hash_is_refused_and_changes_nothing(shop):
    flow = shop.start_flow()

    with pytest.raises(StalePreview):
        flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash="0" * 64)

    flow = refresh_flow(flow)
    assert flow.status == FlowStatus.PREVIEWED and flow.confirmations == 0
    assert not FlowStep.objects.filter(flow=flow).exists()


def test_another_customer_cannot_confirm_alices_flow(shop, django_user_model):
    from ordering.errors import FlowNotFound

    mallory = django_user_model.objects.create_user("mallory", password="irrelevant-9")
    flow = shop.start_flow()

    with pytest.raises(FlowNotFound):
        flow_confirm(flow_id=flow.pk, customer_id=mallory.pk, preview_hash=flow.preview_hash)
    assert refresh_flow(flow).status == FlowStatus.PREVIEWED


@pytest.mark.usefixtures("eager_tasks")
def test_declining_the_preview_places_nothing_and_releases_the_stock(shop):
    before = available(BLUE_RUNNER_42)
    flow = shop.start_flow()

    flow_decline(flow_id=flow.pk, customer_id=shop.alice.pk)

    flow = refresh_flow(flow)
    assert (flow.status, flow.failure_code) == (FlowStatus.CANCELED, "declined")
    assert session_status(flow.checkout_session_id) == "canceled"
    assert available(BLUE_RUNNER_42) == before
    assert merchant_order_count() == 0
    with pytest.raises(FlowNotConfirmable):
        flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)


def test_confirming_twice_starts_one_placement_round(shop):
    flow = shop.start_flow()

    first = flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    second = flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    assert first.pk == second.pk
    assert refresh_flow(flow).confirmations == 1
    assert AuditEvent.objects.filter(action="flow.confirmed", target_id=str(flow.pk)).count() == 1


@pytest.mark.usefixtures("eager_tasks")
def test_consent_revoked_between_confirm_and_placement_stops_the_flow(shop, settings):
    # given a confirmed flow whose placement has not run yet (no eager tasks until revocation)
    from config.celery import app

    app.conf.task_always_eager = False
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    app.conf.task_always_eager = True
    grant = grants_for_customer(user_id=shop.alice.pk).get(scope=Scope.PLACE_ORDERS, status="active")

    # when alice revokes the ordering grant (the hook halts her flows after commit)
    consent_revoke(user_id=shop.alice.pk, grant_id=grant.pk, via="settings_page")
    # and a worker picks the already-queued placement task up afterwards
    engine.flow_run_next_step(flow_id=flow.pk)

    flow = refresh_flow(flow)
    assert flow.status == FlowStatus.CANCELED
    assert flow.failure_code.startswith("consent_revoked")
    assert session_status(flow.checkout_session_id) == "canceled"
    assert merchant_order_count() == 0
    assert not FlowStep.objects.filter(flow=flow, name="complete_checkout").exists()
    assert not SpendEntry.objects.filter(flow_reference__startswith=f"flow:{flow.pk}:").exists()
    assert not merchant_tokens(session_id=flow.checkout_session_id)
    # and alice is told in her chat
    assert "revoked" in flow.conversation.messages.last().text


@pytest.mark.usefixtures("eager_tasks")
def test_consent_revoked_while_placing_is_caught_before_the_payment(shop):
    flow = shop.start_flow()
    from config.celery import app

    app.conf.task_always_eager = False
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    engine.flow_run_next_step(flow_id=flow.pk)  # check_consent, reserve_spend, score_risk: one transaction
    assert refresh_flow(flow).status == FlowStatus.PLACING
    grant = grants_for_customer(user_id=shop.alice.pk).get(scope=Scope.PLACE_ORDERS, status="active")
    consent_revoke(user_id=shop.alice.pk, grant_id=grant.pk, via="settings_page")
    app.conf.task_always_eager = True

    flow = drive(flow)

    assert (flow.status, flow.failure_code) == (FlowStatus.COMPENSATED, "consent_revoked")
    assert merchant_order_count() == 0
    assert session_status(flow.checkout_session_id) == "canceled"
    assert dict(flow.compensations.values_list("action", "status"))["release_spend"] == "done"


@pytest.mark.usefixtures("eager_tasks")
def test_a_risky_order_needs_a_fresh_authenticator_code(shop, settings):
    settings.ORDERING_RISK_STEP_UP_SCORE = 10  # a first order is enough to ask
    flow = shop.start_flow()

    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    flow = refresh_flow(flow)
    assert (flow.status, flow.waiting_for) == (FlowStatus.REQUIRES_ACTION, "step_up")
    assert merchant_order_count() == 0
    assert "authenticator" in flow.conversation.messages.last().text


@pytest.mark.usefixtures("eager_tasks")
def test_a_very_risky_order_goes_to_human_review_and_staff_approval_places_it(shop, settings, django_user_model):
    settings.ORDERING_RISK_REVIEW_SCORE = 10
    flow = shop.start_flow()

    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    flow = refresh_flow(flow)
    assert flow.status == FlowStatus.ESCALATED
    assert Escalation.objects.get(flow=flow).reason == "risk_review"
    assert merchant_order_count() == 0
    risk = AuditEvent.objects.get(action="risk.assessed", target_id=str(flow.pk))
    assert risk.policy_version == "risk-v2" and risk.data["decision"] == "review"

    staff = django_user_model.objects.create_user("reviewer", password="irrelevant-9", is_staff=True)
    resumes.flow_staff_approve(flow_id=flow.pk, staff_id=staff.pk)

    flow = refresh_flow(flow)
    assert flow.status == FlowStatus.PLACED
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1


def test_the_sweeper_resumes_a_flow_whose_worker_vanished(shop, settings):
    from datetime import timedelta

    from django.utils import timezone

    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    # a worker claimed the first step and died: its lease ran out long ago
    claim = engine._claim(flow.pk)
    assert claim is not None
    OrderFlow.objects.filter(pk=flow.pk).update(
        step_lease_until=timezone.now() - timedelta(seconds=1), updated_at=timezone.now() - timedelta(hours=1)
    )

    result = sweeper.flows_sweep()
    flow = drive(flow)

    assert result["resumed"] == 1
    assert flow.status == FlowStatus.PLACED
    abandoned = FlowStep.objects.get(pk=claim.step_id)
    assert (abandoned.status, abandoned.error_class) == ("failed", "abandoned")
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1


def test_staff_reply_and_hand_back_reach_the_conversation(shop, django_user_model):
    from ordering.models import ConversationStatus
    from ordering.services import conversation_hand_back, conversation_mark_escalated, conversation_staff_reply

    flow = shop.start_flow()
    staff = django_user_model.objects.create_user("specialist", password="irrelevant-9", is_staff=True)
    conversation_mark_escalated(conversation_id=flow.conversation_id)

    message = conversation_staff_reply(conversation_id=flow.conversation_id, staff_id=staff.pk, text=" Hi Alice! ")
    conversation = conversation_hand_back(conversation_id=flow.conversation_id, staff_id=staff.pk)

    assert (message.role, message.text) == ("staff", "Hi Alice!")
    assert conversation.status == ConversationStatus.ACTIVE
    assert conversation.messages.last().data == {"kind": "handed_back"}
    assert AuditEvent.objects.filter(action="conversation.staff_replied", actor_id=str(staff.pk)).count() == 1
    with pytest.raises(ValueError):
        conversation_staff_reply(conversation_id=flow.conversation_id, staff_id=staff.pk, text="   ")


def test_a_confirmed_flow_keeps_the_preview_that_was_confirmed(shop):
    from catalog_adapters.registry import get_merchant
    from ordering.services import flow_preview

    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    session = get_merchant("sandbox").checkout.get(session_id=flow.checkout_session_id)

    with pytest.raises(FlowNotConfirmable):
        flow_preview(
            flow_id=flow.pk,
            customer_id=shop.alice.pk,
            session=session,
            payment_method_id=shop.card().pk,
            address_id=shop.home().pk,
        )
    assert refresh_flow(flow).status == FlowStatus.CONFIRMED


def test_the_token_request_is_fixed_when_the_mint_step_is_claimed(shop):
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    engine.flow_run_next_step(flow_id=flow.pk)  # the local steps (consent, spend, risk) together
    engine.flow_run_next_step(flow_id=flow.pk)  # verify_price

    claim = engine._claim(flow.pk)

    assert claim.step == "mint_token"
    recorded = FlowStep.objects.get(pk=claim.step_id).result
    assert recorded["max_amount"] == flow.total_amount and "token_expires_at" in recorded
    assert not merchant_tokens()  # recorded before any call to the vault


@pytest.mark.usefixtures("eager_tasks")
def test_a_flow_that_outlived_its_spend_reservation_is_not_charged(shop, django_user_model):
    from datetime import timedelta

    from django.utils import timezone

    flow = shop.start_flow(card="pm_alice_3ds")
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    assert refresh_flow(flow).status == FlowStatus.REQUIRES_ACTION
    # the specialist takes longer than the reservation lives
    SpendEntry.objects.filter(flow_reference=f"flow:{flow.pk}:r1", kind="reserve").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    staff = django_user_model.objects.create_user("specialist", password="irrelevant-9", is_staff=True)
    colleague = django_user_model.objects.create_user("colleague", password="irrelevant-9", is_staff=True)

    resumes.flow_staff_verify_payment(flow_id=flow.pk, staff_id=colleague.pk, recorded_by=staff.pk, note="by phone")

    flow = refresh_flow(flow)
    assert flow.failure_code == "spend_reservation_expired"
    assert flow.status == FlowStatus.COMPENSATED
    assert merchant_order_count() == 0
