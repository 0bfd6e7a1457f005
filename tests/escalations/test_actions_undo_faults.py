"""Console actions on an order whose undo failed at the sandbox merchant over HTTP (its cancel answers 500 until
the faults are cleared): the merchant's faults are the subject, so these stay on the sandbox (test_actions.py has
the other actions, on the fake merchant).
"""

from __future__ import annotations

from audit.models import AuditEvent
from tests.escalations.conftest import fresh, press
from tests.support.merchant_state import session_status


def test_retrying_failed_undo_steps_after_the_merchant_recovers(compensation_failed, sam, sam_client, shop):
    escalation = compensation_failed
    shop.sandbox.clear_faults()

    response = press(sam_client, escalation, "retry_compensations")

    assert response == ["The failed undo steps are running again. The order is compensated now."]
    flow = fresh(escalation.flow)
    assert flow.status == "compensated"
    assert dict(flow.compensations.values_list("action", "status"))["cancel_checkout"] == "done"
    assert session_status(flow.checkout_session_id) == "canceled"
    assert AuditEvent.objects.filter(action="escalation.compensations_retried", target_id=str(escalation.pk)).exists()
    assert AuditEvent.objects.filter(
        action="compensation.cancel_checkout", target_id=str(flow.pk), outcome="ok"
    ).exists()
    assert AuditEvent.objects.filter(action="flow.compensating", target_id=str(flow.pk), actor_type="staff").exists()


def test_actions_that_do_not_fit_the_reason_are_refused(payment_verification, compensation_failed, sam_client):
    retry = press(sam_client, payment_verification, "retry_compensations")
    approve = press(sam_client, compensation_failed, "approve")

    assert retry == [
        "Retry the failed step is for failed undo steps (compensation failed), not for “Payment needs verification”."
    ]
    assert approve == [
        "Approve and place is for risk reviews and payment verifications, not for “Undoing a failed order failed”."
    ]
    # nothing changed: not even the implicit claim
    assert fresh(payment_verification).status == fresh(compensation_failed).status == "open"
    assert fresh(payment_verification.flow).status == "requires_action"
    assert fresh(compensation_failed.flow).status == "escalated"
    assert set(AuditEvent.objects.filter(outcome="denied").values_list("action", flat=True)) == {
        "escalation.retry_compensations",
        "escalation.approve",
    }
