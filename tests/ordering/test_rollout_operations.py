"""Operating the rollout (#17): the gates (met / not met / not enough data, from the database), advancing a
phase only through its gates (or forced, with a reason, audited), the settings' validation, the admin page
(OTP staff, permissions, audited changes) and the kill switch's command."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from escalations.models import Escalation
from ordering.models import (
    Conversation,
    EscalationReason,
    ExperimentEvent,
    FlowStatus,
    FlowStep,
    OrderFlow,
    RolloutSettings,
    StepStatus,
)
from ordering.rollout.assignment import rollout_settings_forget, rollout_state
from ordering.rollout.gates import MET, NO_DATA, NOT_MET, gates_evaluate
from ordering.rollout.services import RolloutChangeRefused, kill_switch_set, rollout_settings_update

pytestmark = [pytest.mark.django_db]

ADMIN = "/admin/ordering/rolloutsettings/"


@pytest.fixture(autouse=True)
def _fresh_rollout_copy():
    rollout_settings_forget()
    yield
    rollout_settings_forget()


@pytest.fixture
def customer():
    return get_user_model().objects.create_user("cora", "cora@example.com", "x")


def _row(**values) -> RolloutSettings:
    row, _ = RolloutSettings.objects.update_or_create(pk=1, defaults=values)
    return row


def _flows(customer, *, phase: int, count: int, placed: int, payment_ms: int = 500, arm: str = "assistant"):
    """`count` flows started in `phase` an hour ago, `placed` of them placed, each paid in `payment_ms`."""
    conversation = Conversation.objects.create(customer=customer, rollout_phase=phase, rollout_arm=arm)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    flows = []
    for n in range(count):
        flow = OrderFlow.objects.create(
            customer=customer,
            conversation=conversation,
            merchant_id="sandbox",
            checkout_session_id=f"cs_gate_{phase}_{arm}_{n}",
            status=FlowStatus.PLACED if n < placed else FlowStatus.FAILED,
            merchant_order_id=f"ord_gate_{phase}_{arm}_{n}" if n < placed else "",
            rollout_phase=phase,
            rollout_arm=arm,
        )
        if n < placed:
            FlowStep.objects.create(
                flow=flow,
                name="complete_checkout",
                status=StepStatus.SUCCEEDED,
                attempt=1,
                started_at=an_hour_ago,
                finished_at=an_hour_ago + timedelta(milliseconds=payment_ms),
            )
        flows.append(flow)
    OrderFlow.objects.filter(pk__in=[f.pk for f in flows]).update(created_at=an_hour_ago)
    return flows


def _status(gates) -> dict[str, str]:
    return {gate.name: gate.status for gate in gates}


def test_gates_without_enough_flows_say_so_and_keep_the_phase(customer):
    row = _row(phase=1, gate_min_flows=20)
    _flows(customer, phase=1, count=5, placed=5)
    gates = gates_evaluate(row=row)
    assert _status(gates) == {"ocr": NO_DATA, "payment_p95": NO_DATA, "escalation_rate": NO_DATA}
    assert "5 flows in the last 24 h; 20 needed" in gates[0].detail

    with pytest.raises(RolloutChangeRefused) as refused:
        rollout_settings_update(staff_id=1, staff_name="olga", changes={"phase": 2})
    assert "Phase 1 cannot be advanced to 2 yet" in refused.value.message
    assert "not enough data" in refused.value.message
    with pytest.raises(RolloutChangeRefused, match="needs a reason"):
        rollout_settings_update(staff_id=1, staff_name="olga", changes={"phase": 2}, force=True)
    assert RolloutSettings.objects.get(pk=1).phase == 1

    # forced, with a reason: done, and the audit log says it was forced past which gates
    rollout_settings_update(staff_id=1, staff_name="olga", changes={"phase": 2}, force=True, reason="board decision")
    assert RolloutSettings.objects.get(pk=1).phase == 2
    event = AuditEvent.objects.get(action="rollout.settings_changed")
    assert event.data["changes"] == {"phase": {"from": 1, "to": 2}}
    assert event.data["forced"] is True and event.data["reason"] == "board decision" and event.data["by"] == "olga"
    assert {gate["name"]: gate["status"] for gate in event.data["gates"]}["ocr"] == NO_DATA
    assert rollout_state().phase == 2  # this process' copy was dropped


def test_gates_met_let_the_phase_advance_one_step(customer):
    row = _row(phase=1, gate_min_flows=20)
    _flows(customer, phase=1, count=20, placed=19, payment_ms=400)
    _flows(customer, phase=1, count=30, placed=0, arm="internal")  # staff's flows do not count in phase 1
    gates = gates_evaluate(row=row)
    assert _status(gates) == {"ocr": MET, "payment_p95": MET, "escalation_rate": MET}
    assert gates[0].value == pytest.approx(95.0)
    assert gates[1].value == pytest.approx(400.0)

    with pytest.raises(RolloutChangeRefused, match="one at a time"):
        rollout_settings_update(staff_id=1, staff_name="olga", changes={"phase": 3})
    rollout_settings_update(staff_id=1, staff_name="olga", changes={"phase": 2})
    assert RolloutSettings.objects.get(pk=1).phase == 2
    assert AuditEvent.objects.get(action="rollout.settings_changed").data["forced"] is False
    # going back is never gated
    rollout_settings_update(staff_id=1, staff_name="olga", changes={"phase": 0})
    assert RolloutSettings.objects.get(pk=1).phase == 0


def test_gates_not_met_show_their_numbers(customer):
    row = _row(phase=1, gate_min_flows=20, gate_escalation_percent=5)
    flows = _flows(customer, phase=1, count=20, placed=10, payment_ms=3000)
    for flow in flows[:3]:
        Escalation.objects.create(reason=EscalationReason.AGENT_STUCK, customer=customer, flow=flow)
    gates = gates_evaluate(row=row)
    assert _status(gates) == {"ocr": NOT_MET, "payment_p95": NOT_MET, "escalation_rate": NOT_MET}
    assert gates[0].detail == "10 placed of 20 flows (50.0 %), floor 60 %"
    assert gates[1].detail == "p95 3000 ms over 10 payments, limit 2000 ms"
    assert gates[2].detail == "3 escalations for 20 flows, limit 5"
    # flows older than the window are not counted
    _row(gate_window_hours=1)
    assert _status(gates_evaluate(row=RolloutSettings.objects.get(pk=1)))["ocr"] == NO_DATA


def test_the_ab_phase_compares_the_assistant_with_the_control_arm(customer):
    row = _row(phase=2, gate_min_flows=10)
    _flows(customer, phase=2, count=10, placed=8)  # 80 %
    for n in range(10):
        ExperimentEvent.objects.create(experiment="assistant-vs-checkout", arm="control", phase=2, customer=customer,
                                       kind="checkout_started", channel="storefront")  # fmt: skip
        if n < 9:
            ExperimentEvent.objects.create(experiment="assistant-vs-checkout", arm="control", phase=2,
                                           customer=customer, kind="order_placed", channel="storefront")  # fmt: skip
    gates = {gate.name: gate for gate in gates_evaluate(row=row)}
    assert gates["ocr_vs_control"].status == NOT_MET  # 80 % < 90 %
    assert gates["ocr_vs_control"].detail == "assistant 80.0 % (8/10), control 90.0 % (9/10)"
    assert gates["ocr"].status == MET


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"beta_percent": 101}, "beta_percent"),
        ({"assistant_percent": -1}, "assistant_percent"),
        ({"phase": 7}, "phase"),
        ({"gate_window_hours": 0}, "gate_window_hours"),
    ],
)
def test_out_of_range_settings_are_refused_with_a_clear_message(changes, field):
    _row(phase=1)
    with pytest.raises(RolloutChangeRefused) as refused:
        rollout_settings_update(staff_id=1, staff_name="olga", changes=changes)
    assert field in refused.value.details["fields"]
    assert not AuditEvent.objects.filter(action="rollout.settings_changed").exists()


def _operator(otp_login, *, change: bool = True):
    user = get_user_model().objects.create_user("olga", "olga@example.com", "irrelevant-pass-9", is_staff=True)
    codes = ["view_rolloutsettings", "change_rolloutsettings"] if change else ["view_rolloutsettings"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codes))
    return otp_login(user)


def _form(row: RolloutSettings, **changes) -> dict:
    fields = ["phase", "beta_percent", "assistant_percent", "beta_session_ceiling", "gate_window_hours",
              "gate_min_flows", "gate_ocr_floor_percent", "gate_payment_p95_ms", "gate_escalation_percent"]  # fmt: skip
    return {**{name: getattr(row, name) for name in fields}, **changes}


def test_the_admin_page_shows_the_gates_and_saves_audited_changes(otp_login, customer):
    row = _row(phase=1, gate_min_flows=20)
    _flows(customer, phase=1, count=4, placed=4)
    client = _operator(otp_login)

    page = client.get(ADMIN)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-gate="ocr" data-status="no_data"' in html and "4 flows in the last 24 h; 20 needed" in html
    assert "Off: the assistant takes orders." in html

    response = client.post(ADMIN, _form(row, beta_percent=10))
    assert response.status_code == 302
    assert RolloutSettings.objects.get(pk=1).beta_percent == 10
    event = AuditEvent.objects.get(action="rollout.settings_changed")
    assert event.data["changes"] == {"beta_percent": {"from": 5, "to": 10}} and event.data["by"] == "olga"
    assert event.actor_type == "staff"

    # a bad value: the form says which and why, nothing changes
    response = client.post(ADMIN, _form(row, beta_percent=150))
    assert response.status_code == 200
    assert "A percentage is a whole number from 0 to 100." in response.content.decode()
    # advancing past unmet gates: refused on the page
    response = client.post(ADMIN, _form(row, beta_percent=10, phase=2))
    assert "Phase 1 cannot be advanced to 2 yet" in response.content.decode()
    assert RolloutSettings.objects.get(pk=1).phase == 1


def test_the_admin_kill_switch_needs_a_reason_and_is_audited(otp_login):
    _row(phase=3)
    client = _operator(otp_login)
    response = client.post(ADMIN, {"kill_switch": "1", "on": "True", "reason": ""})
    assert "Say why the assistant is being stopped" in response.content.decode()
    assert RolloutSettings.objects.get(pk=1).kill_switch is False

    response = client.post(ADMIN, {"kill_switch": "1", "on": "True", "reason": "merchant incident"}, follow=True)
    assert "The kill switch is ON" in response.content.decode()
    row = RolloutSettings.objects.get(pk=1)
    assert row.kill_switch and row.kill_switch_reason == "merchant incident" and row.updated_by == "olga"
    assert rollout_state().kill_switch is True  # at once in this process
    event = AuditEvent.objects.get(action="rollout.kill_switch_on")
    assert event.data == {"from": False, "to": True, "by": "olga", "reason": "merchant incident"}


def test_only_otp_verified_staff_with_the_permission_change_the_rollout(client, otp_login):
    _row(phase=3)
    # not signed in / not OTP-verified: the admin's login
    assert client.get(ADMIN)["Location"].startswith("/admin/login/")
    staff = get_user_model().objects.create_user("sid", "sid@example.com", "irrelevant-pass-9", is_staff=True)
    client.force_login(staff)
    assert client.get(ADMIN)["Location"].startswith("/admin/login/")
    # verified, but allowed to look only: sees, cannot change
    viewer = _operator(otp_login, change=False)
    assert viewer.get(ADMIN).status_code == 200
    assert viewer.post(ADMIN, {"kill_switch": "1", "on": "True", "reason": "x"}).status_code == 403
    assert RolloutSettings.objects.get(pk=1).kill_switch is False


def test_the_kill_switch_command_is_the_same_audited_action():
    call_command("assistant_kill_switch", "on", "--reason", "payments incident", "--by", "pat")
    row = RolloutSettings.objects.get(pk=1)
    assert row.kill_switch and row.kill_switch_reason == "payments incident" and row.updated_by == "pat"
    assert rollout_state().kill_switch is True
    with pytest.raises(CommandError, match="Say why"):
        call_command("assistant_kill_switch", "on")
    call_command("assistant_kill_switch", "off", "--by", "pat")
    assert RolloutSettings.objects.get(pk=1).kill_switch is False
    events = AuditEvent.objects.filter(action__startswith="rollout.").order_by("id")
    actions = list(events.values_list("action", flat=True))
    assert actions == ["rollout.kill_switch_on", "rollout.kill_switch_off"]


def test_kill_switch_set_refuses_no_reason_when_turning_on():
    with pytest.raises(RolloutChangeRefused):
        kill_switch_set(on=True, reason="  ", actor_type="system", actor_id=None, actor_name="x")
