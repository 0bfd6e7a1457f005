"""Statuses, priorities and SLAs, the support group, metrics, and a race between two specialists."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, connections, transaction
from prometheus_client import REGISTRY

from audit.models import AuditEvent
from escalations.models import (
    ESCALATION_TRANSITIONS,
    Escalation,
    EscalationReason,
    EscalationStatus,
    PaymentVerification,
)
from escalations.services import (
    EscalationActionRefused,
    escalation_claim,
    escalation_open,
    escalation_payment_verification_record,
    escalation_release,
    escalation_reply,
    escalation_resolve,
)
from ordering.services import conversation_start
from tests.escalations.conftest import act_url, fresh
from tests.support.merchant_state import merchant_order_count


@pytest.fixture
def carol(db):
    return get_user_model().objects.create_user("carol", password="irrelevant-pass-9")


def test_the_transition_table_is_the_documented_lifecycle():
    assert set(ESCALATION_TRANSITIONS) == set(EscalationStatus.values)
    assert ESCALATION_TRANSITIONS["open"] == {"claimed"}
    assert ESCALATION_TRANSITIONS["claimed"] == {"claimed", "open", "resolved", "handed_back"}
    assert ESCALATION_TRANSITIONS["resolved"] == ESCALATION_TRANSITIONS["handed_back"] == frozenset()


@pytest.mark.parametrize(
    ("reason", "priority", "minutes"),
    [
        ("compensation_failed", "urgent", 15),
        ("payment_verification", "high", 30),
        ("risk_review", "high", 30),
        ("merchant_unavailable", "normal", 120),
        ("customer_request", "normal", 120),
        ("agent_stuck", "low", 480),
    ],
)
def test_priority_comes_from_the_reason_and_the_sla_from_the_priority(carol, reason, priority, minutes):
    escalation = escalation_open(reason=reason, customer_id=carol.pk)

    assert escalation.priority == priority
    assert escalation.sla_due_at - escalation.created_at == pytest.approx(
        timedelta(minutes=minutes), abs=timedelta(seconds=1)
    )
    assert escalation.status == "open" and escalation.assignee is None


def test_sla_minutes_come_from_settings(carol, settings):
    settings.ESCALATIONS_SLA_MINUTES = {**settings.ESCALATIONS_SLA_MINUTES, "normal": 45}

    escalation = escalation_open(reason="customer_request", customer_id=carol.pk)

    assert round((escalation.sla_due_at - escalation.created_at).total_seconds() / 60) == 45


def test_the_database_refuses_a_claimed_escalation_without_an_assignee(carol):
    escalation = escalation_open(reason="customer_request", customer_id=carol.pk)

    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.filter(pk=escalation.pk).update(status="claimed")


def test_release_puts_a_claimed_escalation_back_in_the_queue(carol, make_staff):
    sam = make_staff("sam")
    escalation = escalation_open(reason="customer_request", customer_id=carol.pk)
    escalation_claim(escalation_id=escalation.pk, staff_id=sam.pk)

    escalation_release(escalation_id=escalation.pk, staff_id=sam.pk)

    escalation = fresh(escalation)
    assert (escalation.status, escalation.assignee_id, escalation.claimed_at) == ("open", None, None)
    with pytest.raises(EscalationActionRefused, match="Nobody holds this escalation"):
        escalation_release(escalation_id=escalation.pk, staff_id=sam.pk)


def test_an_escalation_without_a_conversation_cannot_be_replied_to(carol, make_staff):
    sam = make_staff("sam")
    escalation = escalation_open(reason="customer_request", customer_id=carol.pk)

    with pytest.raises(EscalationActionRefused, match="no conversation to reply in"):
        escalation_reply(escalation_id=escalation.pk, staff_id=sam.pk, text="hello")
    assert fresh(escalation).status == "open"


def test_the_migration_creates_the_support_group_with_its_permissions(db):
    # The group is the migration's data, which a transactional test's flush earlier in this process may have
    # emptied: run the migration's own step on its historical models, from no group at all.
    import importlib

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    migration = importlib.import_module("escalations.migrations.0003_support_group")
    historical = MigrationLoader(connection).project_state(("escalations", "0003_support_group")).apps
    Group.objects.filter(name="support").delete()

    migration.create_support_group(historical, None)

    group = Group.objects.get(name="support")

    assert set(group.permissions.values_list("content_type__app_label", "codename")) == {
        ("escalations", "view_escalation"),
        ("escalations", "work_escalation"),
        ("audit", "view_auditevent"),
    }


def test_create_staff_user_can_enrol_a_support_specialist(db, monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", "correct-horse-battery-9")

    call_command("create_staff_user", "sam", "--email", "sam@support.example", "--support", "--no-qr")

    sam = get_user_model().objects.get(username="sam")
    assert sam.is_staff and not sam.is_superuser
    assert sam.has_perm("escalations.work_escalation") and sam.has_perm("audit.view_auditevent")
    assert not sam.has_perm("audit.export_auditevent")


# -- metrics -------------------------------------------------------------------------------------


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_open_escalations_by_reason_are_counted_from_the_database(carol, make_staff, client):
    conversation = conversation_start(customer_id=carol.pk)
    first = escalation_open(reason="customer_request", customer_id=carol.pk, conversation_id=conversation.pk)
    escalation_open(reason="agent_stuck", customer_id=carol.pk)
    Escalation.objects.filter(pk=first.pk).update(sla_due_at=first.created_at - timedelta(minutes=1))

    assert _sample("escalations_open", reason="customer_request") == 1
    assert _sample("escalations_open", reason="agent_stuck") == 1
    assert _sample("escalations_open", reason="risk_review") == 0
    assert _sample("escalations_sla_breached", reason="customer_request") == 1

    sam = make_staff("sam")
    escalation_reply(escalation_id=first.pk, staff_id=sam.pk, text="Hello Carol")
    escalation_resolve(escalation_id=first.pk, staff_id=sam.pk, code="customer_helped", note="Answered.")

    assert _sample("escalations_open", reason="customer_request") == 0
    scraped = client.get("/metrics").content.decode()
    assert 'escalations_open{reason="agent_stuck"} 1.0' in scraped


def test_time_to_first_response_and_to_resolution_are_observed_once(payment_verification, sam_client):
    reason = EscalationReason.PAYMENT_VERIFICATION
    responses_before = _sample("escalations_time_to_first_response_seconds_count", reason=reason)
    resolutions_before = _sample("escalations_time_to_resolution_seconds_count", reason=reason, outcome="resolved")

    sam_client.post(act_url(payment_verification, "reply"), {"text": "Checking with your bank."})
    sam_client.post(act_url(payment_verification, "reply"), {"text": "Still on it."})
    sam_client.post(act_url(payment_verification, "cancel_flow"))
    sam_client.post(act_url(payment_verification, "resolve"), {"code": "order_canceled", "note": "Bank refused."})

    assert fresh(payment_verification).status == "resolved"
    assert _sample("escalations_time_to_first_response_seconds_count", reason=reason) == responses_before + 1
    assert (
        _sample("escalations_time_to_resolution_seconds_count", reason=reason, outcome="resolved")
        == resolutions_before + 1
    )
    assert _sample("escalations_opened_total", reason=reason, priority="high") >= 1


# -- a race --------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_two_specialists_recording_a_verification_at_once_record_one(payment_verification_preferred, make_staff):
    specialists = [make_staff("sam"), make_staff("kim")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def record(staff) -> None:
        try:
            barrier.wait()
            escalation_payment_verification_record(
                escalation_id=payment_verification_preferred.pk,
                staff_id=staff.pk,
                note=f"{staff.username} called alice",
            )
            outcomes.append("recorded")
        except EscalationActionRefused as refusal:
            outcomes.append(refusal.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=record, args=(staff,)) for staff in specialists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert "recorded" in outcomes and len(outcomes) == 2
    # the loser finds the escalation held by the winner; nothing is paid by recording
    loser = next(outcome for outcome in outcomes if outcome != "recorded")
    assert loser.endswith("is working on this escalation. Take it over first if you need to act on it.")
    flow = fresh(payment_verification_preferred.flow)
    assert flow.status == "requires_action"
    assert PaymentVerification.objects.filter(flow=flow).count() == 1
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0


@pytest.mark.postgres
def test_one_reply_form_sent_twice_at_once_posts_one_message(payment_verification, make_staff):
    sam = make_staff("sam")
    escalation_claim(escalation_id=payment_verification.pk, staff_id=sam.pk)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait()
            escalation_reply(
                escalation_id=payment_verification.pk, staff_id=sam.pk, text="Hi Alice", reply_key="form-1"
            )
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    conversation = payment_verification.flow.conversation
    assert conversation.messages.filter(role="staff").count() == 1
    assert AuditEvent.objects.filter(action="escalation.replied", target_id=str(payment_verification.pk)).count() == 1


@pytest.mark.postgres
def test_the_same_reply_sent_from_two_pages_at_once_posts_one_message(payment_verification, make_staff):
    # Back and "Send reply" while the first sending is still on its way: two forms (two keys), the same words
    sam = make_staff("sam")
    escalation_claim(escalation_id=payment_verification.pk, staff_id=sam.pk)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send(reply_key: str) -> None:
        try:
            barrier.wait()
            escalation_reply(
                escalation_id=payment_verification.pk, staff_id=sam.pk, text="Hi Alice", reply_key=reply_key
            )
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(key,)) for key in ("page-1", "page-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    conversation = payment_verification.flow.conversation
    assert conversation.messages.filter(role="staff").count() == 1
    assert AuditEvent.objects.filter(action="escalation.replied", target_id=str(payment_verification.pk)).count() == 1


def test_asking_twice_for_a_person_in_one_conversation_opens_one_escalation(carol):
    conversation = conversation_start(customer_id=carol.pk)

    first = escalation_open(reason="customer_request", customer_id=carol.pk, conversation_id=conversation.pk)
    second = escalation_open(reason="customer_request", customer_id=carol.pk, conversation_id=conversation.pk)
    other_reason = escalation_open(reason="agent_stuck", customer_id=carol.pk, conversation_id=conversation.pk)

    assert second.pk == first.pk and other_reason.pk != first.pk
    assert Escalation.objects.filter(conversation=conversation).count() == 2
    # the database holds the line against a racing second insert
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(
            reason="customer_request", customer=carol, conversation=conversation, sla_due_at=first.sla_due_at
        )
