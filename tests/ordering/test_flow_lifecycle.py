"""Confirming, declining, canceling, stale previews, risk, revocation, compensation failures."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

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
    merchant_token,
    merchant_tokens,
    session_order,
    session_status,
)
from tests.support.sandbox import BLUE_RUNNER_42


def _refresh(flow) -> OrderFlow:
    return OrderFlow.objects.get(pk=flow.pk)


def _drive(flow) -> OrderFlow:
    """Run the saga in this process until it stops moving (the queue itself is not under test here)."""
    for _ in range(20):
        if engine.flow_run_next_step(flow_id=flow.pk) == "skipped":
            break
    return _refresh(flow)


def test_every_status_has_a_row_in_the_transition_table():
    assert set(FLOW_TRANSITIONS) == set(FlowStatus.values)
    assert FLOW_TRANSITIONS[FlowStatus.PLACED] == frozenset()


def test_an_invalid_transition_is_refused_loudly(shop):
    flow = shop.start_flow()

    with pytest.raises(InvalidFlowTransition, match="previewed to placed"):
        flow_transition(flow, FlowStatus.PLACED, actor_type="agent")

    assert _refresh(flow).status == FlowStatus.PREVIEWED


def test_a_stale_preview_hash_is_refused_and_changes_nothing(shop):
    flow = shop.start_flow()

    with pytest.raises(StalePreview):
        flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash="0" * 64)

    flow = _refresh(flow)
    assert flow.status == FlowStatus.PREVIEWED and flow.confirmations == 0
    assert not FlowStep.objects.filter(flow=flow).exists()


def test_another_customer_cannot_confirm_alices_flow(shop, django_user_model):
    from ordering.errors import FlowNotFound

    mallory = django_user_model.objects.create_user("mallory", password="irrelevant-9")
    flow = shop.start_flow()

    with pytest.raises(FlowNotFound):
        flow_confirm(flow_id=flow.pk, customer_id=mallory.pk, preview_hash=flow.preview_hash)
    assert _refresh(flow).status == FlowStatus.PREVIEWED


@pytest.mark.usefixtures("eager_tasks")
def test_declining_the_preview_places_nothing_and_releases_the_stock(shop):
    before = available(BLUE_RUNNER_42)
    flow = shop.start_flow()

    flow_decline(flow_id=flow.pk, customer_id=shop.alice.pk)

    flow = _refresh(flow)
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
    assert _refresh(flow).confirmations == 1
    assert AuditEvent.objects.filter(action="flow.confirmed", target_id=str(flow.pk)).count() == 1


@pytest.mark.postgres
def test_ten_concurrent_confirms_and_ten_concurrent_workers_place_one_order(shop):
    flow = shop.start_flow()
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def confirm_then_run() -> None:
        try:
            barrier.wait()
            flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
            barrier.wait()
            # every thread also plays a worker that received the task (redelivery, duplicates)
            for _ in range(10):
                engine.flow_run_next_step(flow_id=flow.pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm_then_run) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flow = _drive(flow)

    assert errors == []
    assert flow.status == FlowStatus.PLACED
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    assert AuditEvent.objects.filter(action="flow.confirmed", target_id=str(flow.pk)).count() == 1
    assert FlowStep.objects.filter(flow=flow, name="complete_checkout", status="succeeded").count() == 1


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

    flow = _refresh(flow)
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
    assert _refresh(flow).status == FlowStatus.PLACING
    grant = grants_for_customer(user_id=shop.alice.pk).get(scope=Scope.PLACE_ORDERS, status="active")
    consent_revoke(user_id=shop.alice.pk, grant_id=grant.pk, via="settings_page")
    app.conf.task_always_eager = True

    flow = _drive(flow)

    assert (flow.status, flow.failure_code) == (FlowStatus.COMPENSATED, "consent_revoked")
    assert merchant_order_count() == 0
    assert session_status(flow.checkout_session_id) == "canceled"
    assert dict(flow.compensations.values_list("action", "status"))["release_spend"] == "done"


@pytest.mark.usefixtures("eager_tasks")
def test_a_compensation_that_keeps_failing_escalates_to_a_person_once_its_deadline_passed(shop, settings):
    from datetime import timedelta

    from django.db.models import F

    settings.ORDERING_STUCK_AFTER_SECONDS = 0
    shop.sandbox.add_fault("server_error", operation="cancel", times=50)
    flow = shop.start_flow(card="pm_alice_decline")

    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    # its quick retries are spent, but a short outage must not page anyone: it waits for the sweeper
    flow = _refresh(flow)
    assert flow.status == FlowStatus.COMPENSATING
    assert not Escalation.objects.filter(flow=flow).exists()
    # when it is still failing ORDERING_UNDO_GIVE_UP_SECONDS after its first failure
    flow.compensations.filter(action="cancel_checkout").update(
        failing_since=F("failing_since") - timedelta(seconds=settings.ORDERING_UNDO_GIVE_UP_SECONDS)
    )
    sweeper.flows_sweep()

    flow = _refresh(flow)
    assert flow.status == FlowStatus.ESCALATED
    escalation = Escalation.objects.get(flow=flow)
    assert escalation.reason == "compensation_failed"
    assert "cancel_checkout" in escalation.detail
    compensations = dict(flow.compensations.values_list("action", "status"))
    assert compensations["cancel_checkout"] == "failed"
    assert compensations["release_spend"] == "done" and compensations["revoke_token"] == "done"
    assert flow.compensations.get(action="cancel_checkout").gave_up_at is not None
    assert AuditEvent.objects.filter(action="compensation.cancel_checkout", outcome="failed").exists()
    # and from then on a person owns it: the sweeper leaves it alone
    cancels = len(shop.sandbox.received_requests(path_contains="/cancel"))
    assert sweeper.flows_sweep()["compensating"] == 0
    assert len(shop.sandbox.received_requests(path_contains="/cancel")) == cancels


@pytest.mark.usefixtures("eager_tasks")
def test_a_risky_order_needs_a_fresh_authenticator_code(shop, settings):
    settings.ORDERING_RISK_STEP_UP_SCORE = 10  # a first order is enough to ask
    flow = shop.start_flow()

    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    flow = _refresh(flow)
    assert (flow.status, flow.waiting_for) == (FlowStatus.REQUIRES_ACTION, "step_up")
    assert merchant_order_count() == 0
    assert "authenticator" in flow.conversation.messages.last().text


@pytest.mark.usefixtures("eager_tasks")
def test_a_very_risky_order_goes_to_human_review_and_staff_approval_places_it(shop, settings, django_user_model):
    settings.ORDERING_RISK_REVIEW_SCORE = 10
    flow = shop.start_flow()

    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    flow = _refresh(flow)
    assert flow.status == FlowStatus.ESCALATED
    assert Escalation.objects.get(flow=flow).reason == "risk_review"
    assert merchant_order_count() == 0
    risk = AuditEvent.objects.get(action="risk.assessed", target_id=str(flow.pk))
    assert risk.policy_version == "risk-v2" and risk.data["decision"] == "review"

    staff = django_user_model.objects.create_user("reviewer", password="irrelevant-9", is_staff=True)
    resumes.flow_staff_approve(flow_id=flow.pk, staff_id=staff.pk)

    flow = _refresh(flow)
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
    flow = _drive(flow)

    assert result["resumed"] == 1
    assert flow.status == FlowStatus.PLACED
    abandoned = FlowStep.objects.get(pk=claim.step_id)
    assert (abandoned.status, abandoned.error_class) == ("failed", "abandoned")
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1


@pytest.mark.usefixtures("eager_tasks")
def test_two_specialists_verify_a_3ds_payment_and_the_order_is_placed_once(shop, django_user_model):
    flow = shop.start_flow(card="pm_alice_3ds")
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    assert _refresh(flow).status == FlowStatus.REQUIRES_ACTION
    first = django_user_model.objects.create_user("specialist", password="irrelevant-9", is_staff=True)
    second = django_user_model.objects.create_user("colleague", password="irrelevant-9", is_staff=True)

    # one person alone cannot make it effective
    with pytest.raises(FlowNotConfirmable, match="second specialist"):
        resumes.flow_staff_verify_payment(flow_id=flow.pk, staff_id=first.pk, recorded_by=first.pk, note="called her")
    assert _refresh(flow).status == FlowStatus.REQUIRES_ACTION

    resumes.flow_staff_verify_payment(flow_id=flow.pk, staff_id=second.pk, recorded_by=first.pk, note="called her")

    flow = _refresh(flow)
    assert flow.status == FlowStatus.PLACED
    assert flow.payment_verification_evidence["kind"] == "staff_two_person"
    assert (flow.payment_verification_evidence["recorded_by"], flow.payment_verification_evidence["confirmed_by"]) == (
        first.pk,
        second.pk,
    )
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    completes = shop.sandbox.received_requests(path_contains=f"{flow.checkout_session_id}/complete")
    assert len({request.idempotency_key for request in completes}) == 2  # the authenticated retry is a new call
    with pytest.raises(FlowNotConfirmable):
        resumes.flow_staff_verify_payment(flow_id=flow.pk, staff_id=second.pk, recorded_by=first.pk, note="again")


@pytest.mark.usefixtures("eager_tasks")
def test_retrying_failed_compensations_after_the_merchant_recovers_compensates_the_flow(
    shop, django_user_model, settings
):
    settings.ORDERING_UNDO_GIVE_UP_SECONDS = 0  # give up at the first failure: a person has it at once
    shop.sandbox.add_fault("server_error", operation="cancel", times=50)
    flow = shop.start_flow(card="pm_alice_decline")
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    assert _refresh(flow).status == FlowStatus.ESCALATED
    shop.sandbox.clear_faults()
    staff = django_user_model.objects.create_user("specialist", password="irrelevant-9", is_staff=True)

    resumes.flow_staff_retry_compensations(flow_id=flow.pk, staff_id=staff.pk)

    flow = _refresh(flow)
    assert flow.status == FlowStatus.COMPENSATED
    assert session_status(flow.checkout_session_id) == "canceled"
    assert dict(flow.compensations.values_list("action", "status"))["cancel_checkout"] == "done"


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


@pytest.mark.usefixtures("eager_tasks")
def test_an_earlier_rounds_undo_never_touches_the_order_a_later_round_placed(shop, django_user_model):
    # round 1: the price changes at complete, and revoking its token keeps failing
    shop.sandbox.add_fault("price_change", operation="complete", times=1)
    shop.sandbox.add_fault("server_error", operation="revoke", times=50)
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    flow = _refresh(flow)
    assert flow.status == FlowStatus.PREVIEWED
    assert dict(flow.compensations.values_list("action", "status"))["revoke_token"] == "failed"
    shop.sandbox.clear_faults()

    # round 2 is confirmed and placed
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    flow = _refresh(flow)
    assert flow.status == FlowStatus.PLACED
    # then a specialist retries the undo steps that had given up
    staff = django_user_model.objects.create_user("specialist", password="irrelevant-9", is_staff=True)
    resumes.flow_staff_retry_compensations(flow_id=flow.pk, staff_id=staff.pk)

    flow = _refresh(flow)
    order = session_order(flow.checkout_session_id)
    assert flow.status == FlowStatus.PLACED and order.status == "confirmed"
    tokens = merchant_tokens(session_id=flow.checkout_session_id)
    assert [(t.used, t.revoked) for t in tokens] == [(False, True), (True, False)]
    by_round = {(c.action, c.placement_round): c.status for c in flow.compensations.all()}
    assert by_round[("revoke_token", 1)] == "done"
    assert by_round[("cancel_checkout", 0)] == "not_needed"
    assert by_round[("cancel_order", 2)] == "not_needed"


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
    assert _refresh(flow).status == FlowStatus.CONFIRMED


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
    assert _refresh(flow).status == FlowStatus.REQUIRES_ACTION
    # the specialist takes longer than the reservation lives
    SpendEntry.objects.filter(flow_reference=f"flow:{flow.pk}:r1", kind="reserve").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    staff = django_user_model.objects.create_user("specialist", password="irrelevant-9", is_staff=True)
    colleague = django_user_model.objects.create_user("colleague", password="irrelevant-9", is_staff=True)

    resumes.flow_staff_verify_payment(flow_id=flow.pk, staff_id=colleague.pk, recorded_by=staff.pk, note="by phone")

    flow = _refresh(flow)
    assert flow.failure_code == "spend_reservation_expired"
    assert flow.status == FlowStatus.COMPENSATED
    assert merchant_order_count() == 0


@pytest.mark.usefixtures("eager_tasks")
def test_payment_token_ids_stay_out_of_the_merchant_call_log(shop, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="catalog_adapters.http")
    flow = shop.start_flow(card="pm_alice_decline")

    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    token = merchant_token(flow.checkout_session_id)
    assert token.revoked
    lines = [str(vars(record)) for record in caplog.records if record.name == "catalog_adapters.http"]
    assert any("vt_[redacted]" in line for line in lines)
    assert not any(token.id in line for line in lines)
