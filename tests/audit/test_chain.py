import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from audit import triggers
from audit.models import ActorType, AuditEvent
from audit.selectors import audit_chain_verify, audit_events_for_customer, audit_events_for_trace
from audit.services import GENESIS_HASH, Origin, audit_record
from config.tracing import trace_context


def _record(n: int, **extra) -> list[AuditEvent]:
    return [audit_record(action="test.event", actor_type=ActorType.SYSTEM, data={"n": i}, **extra) for i in range(n)]


@pytest.mark.django_db
def test_events_form_a_chain_from_the_genesis_hash():
    first, second, third = _record(3)

    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


@pytest.mark.django_db
def test_an_event_records_who_what_on_what_where_and_under_which_trace():
    with trace_context("trace-for-audit-0001"):
        event = audit_record(
            action="flow.confirmed",
            actor_type="customer",
            actor_id=42,
            customer_id=42,
            target_type="flow",
            target_id=7,
            outcome="ok",
            origin=Origin(ip="203.0.113.9", user_agent="Mozilla/5.0", channel="web"),
            policy_version="caps-v1",
            data={"total": 7110, "currency": "usd"},
        )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_type, stored.actor_id, stored.customer_id) == ("customer", "42", 42)
    assert (stored.action, stored.target_type, stored.target_id, stored.outcome) == (
        "flow.confirmed",
        "flow",
        "7",
        "ok",
    )
    assert (stored.origin_ip, stored.origin_user_agent, stored.origin_channel) == ("203.0.113.9", "Mozilla/5.0", "web")
    assert stored.trace_id == "trace-for-audit-0001"
    assert stored.policy_version == "caps-v1"
    assert stored.data == {"total": 7110, "currency": "usd"}


@pytest.mark.django_db
def test_card_data_tokens_and_secrets_never_reach_the_log():
    event = audit_record(
        action="payment.delegated",
        actor_type="agent",
        data={
            "card_number": "4242424242424242",
            "cvc": "123",
            "token": "vt_secret",
            "nested": {"Authorization": "Bearer abc", "note": "paid with 4242 4242 4242 4242"},
            "last4": "4242",
        },
    )

    stored = AuditEvent.objects.get(pk=event.pk).data
    assert stored["card_number"] == stored["cvc"] == stored["token"] == "[redacted]"
    assert stored["nested"]["Authorization"] == "[redacted]"
    assert "4242 4242 4242 4242" not in stored["nested"]["note"]
    assert stored["last4"] == "4242"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad",
    [
        {"action": "NotDotted", "actor_type": "system"},
        {"action": "flow.confirmed", "actor_type": "robot"},
        {"action": "flow.confirmed", "actor_type": "system", "outcome": "maybe"},
    ],
)
def test_malformed_events_are_refused_and_nothing_is_written(bad):
    with pytest.raises(ValueError):
        audit_record(**bad)
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_event_rolls_back_with_the_transaction_it_describes():
    _record(1)

    with pytest.raises(RuntimeError), transaction.atomic():
        _record(1)
        raise RuntimeError("the change failed")

    assert AuditEvent.objects.count() == 1
    assert _record(1)[0].sequence == 2  # no gap left by the rolled-back event
    assert audit_chain_verify().intact


@pytest.mark.django_db
def test_audit_verify_passes_on_untouched_data():
    _record(5)
    out = io.StringIO()

    call_command("audit_verify", stdout=out)

    assert "intact: 5 events" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("UPDATE audit_auditevent SET data = '{\"n\": 999}' WHERE sequence = 4", "content does not match"),
        ("UPDATE audit_auditevent SET actor_id = 'someone-else' WHERE sequence = 4", "content does not match"),
        ("DELETE FROM audit_auditevent WHERE sequence = 4", "sequence 4 is missing"),
    ],
)
def test_audit_verify_names_the_exact_row_after_tampering(tamper, reason):
    _record(7)
    # given someone with DDL rights lifted the triggers (inside this test's transaction only)
    triggers.uninstall(connection)
    with connection.cursor() as cursor:
        cursor.execute(tamper)

    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", stdout=io.StringIO())

    assert "BROKEN at sequence 4" in str(failure.value)
    assert reason in str(failure.value)
    report = audit_chain_verify()
    assert (report.intact, report.first_bad_sequence, report.count) == (False, 4, 3)


@pytest.mark.django_db
def test_a_rehashed_row_still_breaks_the_link_to_the_next_one():
    from audit.services import event_hash

    _record(5)
    triggers.uninstall(connection)
    forged = AuditEvent.objects.get(sequence=2)
    forged.data = {"n": "forged"}
    forged_hash = event_hash(forged)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET data = %s, hash = %s WHERE sequence = 2", ['{"n": "forged"}', forged_hash]
        )

    report = audit_chain_verify()

    assert not report.intact
    assert report.first_bad_sequence == 3
    assert "previous_hash" in report.reason


@pytest.mark.django_db
def test_a_customer_sees_only_events_about_them_newest_first():
    audit_record(action="grant.created", actor_type="customer", actor_id=1, customer_id=1)
    audit_record(action="grant.created", actor_type="customer", actor_id=2, customer_id=2)
    audit_record(action="flow.placed", actor_type="agent", customer_id=1)
    audit_record(action="system.started", actor_type="system")

    mine = list(audit_events_for_customer(customer_id=1))

    assert [event.action for event in mine] == ["flow.placed", "grant.created"]
    assert {event.customer_id for event in mine} == {1}


@pytest.mark.django_db
def test_a_trace_timeline_lists_its_events_in_order():
    with trace_context("trace-timeline-0001"):
        _record(3)
    with trace_context("trace-other-00002"):
        _record(2)

    timeline = list(audit_events_for_trace(trace_id="trace-timeline-0001"))

    assert [event.sequence for event in timeline] == [1, 2, 3]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_leave_one_unbroken_gap_free_chain():
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(worker: int) -> None:
        try:
            start.wait()
            for i in range(50):
                audit_record(action="load.event", actor_type="system", actor_id=worker, data={"i": i})
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == list(range(1, 401))
    report = audit_chain_verify()
    assert (report.intact, report.count) == (True, 400)
    for worker in range(8):
        assert AuditEvent.objects.filter(actor_id=str(worker)).count() == 50


@pytest.mark.django_db
def test_after_an_archive_the_chain_verifies_from_the_archived_hash():
    events = _record(6)
    triggers.uninstall(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE sequence <= 3")
    out = io.StringIO()

    call_command("audit_verify", "--after-sequence", "3", "--after-hash", events[2].hash, stdout=out)

    assert "intact: 3 events" in out.getvalue()
    with pytest.raises(CommandError, match="sequence 1 is missing"):
        call_command("audit_verify", stdout=io.StringIO())
    with pytest.raises(CommandError, match="BROKEN at sequence 4"):
        call_command("audit_verify", "--after-sequence", "3", "--after-hash", events[1].hash, stdout=io.StringIO())
