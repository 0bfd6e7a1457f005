"""The flow's lifecycle where the merchant over the wire is the subject, at the sandbox merchant over HTTP: ten
threads confirming and running at once, undo steps that keep failing at the sandbox (its faults) and their retry,
what the sandbox received, and the HTTP client's call log (test_flow_lifecycle.py has the rest, on the fake).
"""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from escalations.models import Escalation
from ordering.errors import FlowNotConfirmable
from ordering.models import FlowStatus, FlowStep
from ordering.saga import resumes, sweeper
from ordering.services import flow_confirm
from tests.ordering.test_flow_lifecycle import confirm_and_run_at_once, drive, refresh_flow
from tests.support.merchant_state import (
    merchant_order_count,
    merchant_token,
    merchant_tokens,
    session_order,
    session_status,
)


@pytest.mark.postgres
def test_ten_concurrent_confirms_and_ten_concurrent_workers_place_one_order(shop):
    flow = shop.start_flow()

    errors = confirm_and_run_at_once(flow, customer_id=shop.alice.pk, threads=10, runs=10)
    flow = drive(flow)

    assert errors == []
    assert flow.status == FlowStatus.PLACED
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    assert AuditEvent.objects.filter(action="flow.confirmed", target_id=str(flow.pk)).count() == 1
    assert FlowStep.objects.filter(flow=flow, name="complete_checkout", status="succeeded").count() == 1


@pytest.mark.usefixtures("eager_tasks")
def test_a_compensation_that_keeps_failing_escalates_to_a_person_once_its_deadline_passed(shop, settings):
    from datetime import timedelta

    from django.db.models import F

    settings.ORDERING_STUCK_AFTER_SECONDS = 0
    shop.sandbox.add_fault("server_error", operation="cancel", times=50)
    flow = shop.start_flow(card="pm_alice_decline")

    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    # its quick retries are spent, but a short outage must not page anyone: it waits for the sweeper
    flow = refresh_flow(flow)
    assert flow.status == FlowStatus.COMPENSATING
    assert not Escalation.objects.filter(flow=flow).exists()
    # when it is still failing ORDERING_UNDO_GIVE_UP_SECONDS after its first failure
    flow.compensations.filter(action="cancel_checkout").update(
        failing_since=F("failing_since") - timedelta(seconds=settings.ORDERING_UNDO_GIVE_UP_SECONDS)
    )
    sweeper.flows_sweep()

    flow = refresh_flow(flow)
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
def test_two_specialists_verify_a_3ds_payment_and_the_order_is_placed_once(shop, django_user_model):
    # a challenge the merchant prefers (not one the card's issuer mandates): it takes an out-of-band verification
    shop.merchant_prefers_3ds()
    flow = shop.start_flow(card="pm_alice_visa")
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    assert refresh_flow(flow).status == FlowStatus.REQUIRES_ACTION
    first = django_user_model.objects.create_user("specialist", password="irrelevant-9", is_staff=True)
    second = django_user_model.objects.create_user("colleague", password="irrelevant-9", is_staff=True)

    # one person alone cannot make it effective
    with pytest.raises(FlowNotConfirmable, match="second specialist"):
        resumes.flow_staff_verify_payment(flow_id=flow.pk, staff_id=first.pk, recorded_by=first.pk, note="called her")
    assert refresh_flow(flow).status == FlowStatus.REQUIRES_ACTION

    resumes.flow_staff_verify_payment(flow_id=flow.pk, staff_id=second.pk, recorded_by=first.pk, note="called her")

    flow = refresh_flow(flow)
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
def test_two_specialists_cannot_pay_where_the_cards_issuer_mandates_the_challenge(shop, django_user_model):
    # given alice's 3-D Secure card: its issuer mandates the challenge (flow_preference challenge/mandated)
    flow = shop.start_flow(card="pm_alice_3ds")
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    first = django_user_model.objects.create_user("specialist", password="irrelevant-9", is_staff=True)
    second = django_user_model.objects.create_user("colleague", password="irrelevant-9", is_staff=True)

    # when two specialists verify it out of band
    resumes.flow_staff_verify_payment(flow_id=flow.pk, staff_id=second.pk, recorded_by=first.pk, note="called her")

    # then the sandbox refused their `not_supported` over HTTP: nothing charged, the order waits for her bank
    flow = refresh_flow(flow)
    assert (flow.status, flow.waiting_for) == (FlowStatus.REQUIRES_ACTION, "payment_verification")
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    assert "mandates 3-D Secure" in flow.failure_detail
    completes = shop.sandbox.received_requests(path_contains=f"{flow.checkout_session_id}/complete")
    assert [request.status for request in completes] == [400, 200]  # requires_3ds, then the refusal


@pytest.mark.usefixtures("eager_tasks")
def test_retrying_failed_compensations_after_the_merchant_recovers_compensates_the_flow(
    shop, django_user_model, settings
):
    settings.ORDERING_UNDO_GIVE_UP_SECONDS = 0  # give up at the first failure: a person has it at once
    shop.sandbox.add_fault("server_error", operation="cancel", times=50)
    flow = shop.start_flow(card="pm_alice_decline")
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    assert refresh_flow(flow).status == FlowStatus.ESCALATED
    shop.sandbox.clear_faults()
    staff = django_user_model.objects.create_user("specialist", password="irrelevant-9", is_staff=True)

    resumes.flow_staff_retry_compensations(flow_id=flow.pk, staff_id=staff.pk)

    flow = refresh_flow(flow)
    assert flow.status == FlowStatus.COMPENSATED
    assert session_status(flow.checkout_session_id) == "canceled"
    assert dict(flow.compensations.values_list("action", "status"))["cancel_checkout"] == "done"


@pytest.mark.usefixtures("eager_tasks")
def test_an_earlier_rounds_undo_never_touches_the_order_a_later_round_placed(shop, django_user_model):
    # round 1: the price changes at complete, and revoking its token keeps failing
    shop.sandbox.add_fault("price_change", operation="complete", times=1)
    shop.sandbox.add_fault("server_error", operation="revoke", times=50)
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    flow = refresh_flow(flow)
    assert flow.status == FlowStatus.PREVIEWED
    assert dict(flow.compensations.values_list("action", "status"))["revoke_token"] == "failed"
    shop.sandbox.clear_faults()

    # round 2 is confirmed and placed
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    flow = refresh_flow(flow)
    assert flow.status == FlowStatus.PLACED
    # then a specialist retries the undo steps that had given up
    staff = django_user_model.objects.create_user("specialist", password="irrelevant-9", is_staff=True)
    resumes.flow_staff_retry_compensations(flow_id=flow.pk, staff_id=staff.pk)

    flow = refresh_flow(flow)
    order = session_order(flow.checkout_session_id)
    assert flow.status == FlowStatus.PLACED and order.status == "confirmed"
    tokens = merchant_tokens(session_id=flow.checkout_session_id)
    assert [(t.used, t.revoked) for t in tokens] == [(False, True), (True, False)]
    by_round = {(c.action, c.placement_round): c.status for c in flow.compensations.all()}
    assert by_round[("revoke_token", 1)] == "done"
    assert by_round[("cancel_checkout", 0)] == "not_needed"
    assert by_round[("cancel_order", 2)] == "not_needed"


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
