import io
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from audit import triggers
from audit.models import ActorType, AuditEvent, AuditSeal
from audit.selectors import audit_chain_verify, audit_event_seal, audit_events_for_customer, audit_events_for_trace
from audit.services import GENESIS_HASH, Origin, audit_flush, audit_record, audit_seal, seal_hash
from config.tracing import trace_context


def _record(n: int, **extra) -> list[AuditEvent]:
    return [audit_record(action="test.event", actor_type=ActorType.SYSTEM, data={"n": i}, **extra) for i in range(n)]


def _chain() -> list[AuditSeal]:
    return list(AuditSeal.objects.select_related("event").order_by("position"))


def _tamper(*statements: str) -> None:
    # given someone with DDL rights lifted the triggers (inside this test's transaction only)
    triggers.uninstall(connection)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_appends_of_a_transaction_are_one_insert_that_takes_no_lock_and_reads_nothing():
    with CaptureQueriesContext(connection) as queries:
        with transaction.atomic():
            events = [
                audit_record(action="flow.confirmed", actor_type="customer", customer_id=7, data={"total": n})
                for n in range(3)
            ]
            recorded = len(queries.captured_queries)
        written = [query["sql"] for query in queries.captured_queries[recorded:]]

    assert [sql for sql in queries.captured_queries[:recorded] if "audit" in sql["sql"]] == []
    inserts = [sql for sql in written if "audit_auditevent" in sql]
    assert len(inserts) == 1
    assert inserts[0].startswith('INSERT INTO "audit_auditevent"')
    assert not any("pg_advisory" in sql or sql.startswith("SELECT") for sql in written)
    # the numbers and the writing transaction come back from that one statement, in the order recorded
    assert events[0].sequence < events[1].sequence < events[2].sequence
    assert len({event.xact for event in events}) == 1 and events[0].xact > 0
    assert audit_event_seal(event=events[0]) is None  # unsealed until the sealer runs


@pytest.mark.django_db
def test_an_append_costs_one_insert_whatever_the_database():
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        audit_record(action="test.event", actor_type="system")

    inserts = [query for query in queries.captured_queries if query["sql"].startswith("INSERT")]
    assert len(inserts) == 1


@pytest.mark.django_db
def test_sealing_chains_events_from_the_genesis_hash():
    first, second, third = _record(3)

    assert audit_seal() == 3
    chain = _chain()

    assert [seal.position for seal in chain] == [1, 2, 3]
    assert [seal.event_id for seal in chain] == [first.pk, second.pk, third.pk]
    assert chain[0].previous_hash == GENESIS_HASH
    assert chain[1].previous_hash == chain[0].hash
    assert chain[2].previous_hash == chain[1].hash
    assert chain[2].hash == seal_hash(third, position=3, previous_hash=chain[1].hash)
    assert len({seal.hash for seal in chain}) == 3
    assert audit_seal() == 0  # sealing again finds nothing: each event has one place


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
    assert stored.sequence == event.sequence


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
def test_a_rolled_back_event_leaves_no_event_and_no_hole_in_the_chain():
    kept = _record(1)[0]

    with pytest.raises(RuntimeError), transaction.atomic():
        _record(1)
        raise RuntimeError("the change failed")
    after = _record(1)[0]
    audit_seal()

    assert list(AuditEvent.objects.order_by("sequence")) == [kept, after]
    # the event's number may skip the rolled-back one; its place in the chain does not
    assert after.sequence > kept.sequence
    assert [(seal.position, seal.event_id) for seal in _chain()] == [(1, kept.pk), (2, after.pk)]
    assert audit_chain_verify().intact


@pytest.mark.django_db
def test_unsealed_events_are_already_in_the_customers_activity_and_the_trace():
    with trace_context("trace-unsealed-0001"):
        audit_record(action="grant.created", actor_type="customer", actor_id=5, customer_id=5)

    assert not AuditSeal.objects.exists()
    assert [event.action for event in audit_events_for_customer(customer_id=5)] == ["grant.created"]
    assert len(audit_events_for_trace(trace_id="trace-unsealed-0001")) == 1


@pytest.mark.django_db
def test_audit_verify_seals_what_is_committed_then_verifies_it():
    _record(5)
    out = io.StringIO()

    call_command("audit_verify", stdout=out)

    assert out.getvalue() == "audit chain intact: 5 events verified\n"
    assert AuditSeal.objects.count() == 5


@pytest.mark.django_db
def test_audit_verify_without_sealing_reports_the_unsealed_tail_as_pending():
    _record(3)
    audit_seal()
    _record(2)
    out = io.StringIO()

    call_command("audit_verify", "--no-seal", stdout=out)

    assert out.getvalue() == "audit chain intact: 3 events verified; 2 newer events not sealed yet\n"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("statements", "reason"),
    [
        (["UPDATE audit_auditevent SET data = '{\"n\": 999}' WHERE id = {4}"], "content does not match"),
        (["UPDATE audit_auditevent SET actor_id = 'someone-else' WHERE id = {4}"], "content does not match"),
        (["UPDATE audit_auditevent SET sequence = 1000 WHERE id = {4}"], "content does not match"),
        (
            ["DELETE FROM audit_auditseal WHERE position = 4", "DELETE FROM audit_auditevent WHERE id = {4}"],
            "position 4 is missing",
        ),
        # two events swap places in the chain
        (
            [
                "UPDATE audit_auditseal SET event_id = -1 WHERE position = 4",
                "UPDATE audit_auditseal SET event_id = {4} WHERE position = 5",
                "UPDATE audit_auditseal SET event_id = {5} WHERE position = 4",
            ],
            "content does not match",
        ),
    ],
    ids=["data", "actor", "number", "delete", "reorder"],
)
def test_audit_verify_names_the_exact_position_after_tampering(statements, reason):
    events = _record(7)
    audit_seal()
    ids = {index + 1: event.pk for index, event in enumerate(events)}
    _tamper(*(statement.replace("{4}", str(ids[4])).replace("{5}", str(ids[5])) for statement in statements))

    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", stdout=io.StringIO())

    assert "BROKEN at position 4" in str(failure.value)
    assert reason in str(failure.value)
    report = audit_chain_verify()
    assert (report.intact, report.first_bad_sequence, report.count) == (False, 4, 3)


@pytest.mark.django_db
def test_a_rehashed_seal_still_breaks_the_link_to_the_next_one():
    _record(5)
    audit_seal()
    second = AuditSeal.objects.select_related("event").get(position=2)
    second.event.data = {"n": "forged"}
    forged_hash = seal_hash(second.event, position=2, previous_hash=second.previous_hash)
    _tamper(
        f'UPDATE audit_auditevent SET data = \'{{"n": "forged"}}\' WHERE id = {second.event_id}',
        f"UPDATE audit_auditseal SET hash = '{forged_hash}' WHERE position = 2",
    )

    report = audit_chain_verify()

    assert not report.intact
    assert report.first_bad_sequence == 3
    assert "previous_hash" in report.reason


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_event_slipped_in_below_the_sealers_horizon_is_reported():
    _record(3)
    audit_seal()
    # an INSERT that names an old transaction id, so the sealer would never look at it
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (xact, occurred_at, actor_type, actor_id, action, target_type, target_id, "
            "outcome, trace_id, origin_user_agent, origin_channel, data) "
            "VALUES (0, now(), 'system', '', 'test.slipped_in', '', '', 'ok', '', '', '', '{}') RETURNING sequence"
        )
        slipped = cursor.fetchone()[0]
    audit_seal()

    with pytest.raises(CommandError, match=f"event sequence {slipped} is not in the chain"):
        call_command("audit_verify", stdout=io.StringIO())


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
        written = _record(3)
    with trace_context("trace-other-00002"):
        _record(2)

    timeline = list(audit_events_for_trace(trace_id="trace-timeline-0001"))

    assert timeline == written


@pytest.mark.django_db
def test_after_an_archive_the_chain_verifies_from_the_archived_hash():
    _record(6)
    audit_seal()
    third = AuditSeal.objects.get(position=3)
    second = AuditSeal.objects.get(position=2)
    _tamper(
        "DELETE FROM audit_auditevent WHERE id IN (SELECT event_id FROM audit_auditseal WHERE position <= 3)",
        "DELETE FROM audit_auditseal WHERE position <= 3",
    )
    out = io.StringIO()

    call_command("audit_verify", "--after-sequence", "3", "--after-hash", third.hash, stdout=out)

    assert "intact: 3 events" in out.getvalue()
    with pytest.raises(CommandError, match="position 1 is missing"):
        call_command("audit_verify", stdout=io.StringIO())
    with pytest.raises(CommandError, match="BROKEN at position 4"):
        call_command("audit_verify", "--after-sequence", "3", "--after-hash", second.hash, stdout=io.StringIO())


# -- concurrency (real PostgreSQL, several connections) --------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_that_commits_after_a_later_numbered_one_is_sealed_after_it_and_nothing_is_lost():
    took_number = threading.Event()
    may_commit = threading.Event()
    slow: list[AuditEvent] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                slow.append(audit_record(action="test.slow", actor_type="system"))
                audit_flush()  # take the number now, not at commit
                took_number.set()
                may_commit.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert took_number.wait(30)
    fast = audit_record(action="test.fast", actor_type="system")

    # given the slow event holds the lower number but has not committed
    assert slow[0].sequence < fast.sequence
    assert audit_seal() == 1
    may_commit.set()
    thread.join()
    assert audit_seal() == 1

    chain = _chain()
    assert [(seal.position, seal.event.action) for seal in chain] == [(1, "test.fast"), (2, "test.slow")]
    assert audit_chain_verify() == audit_chain_verify().__class__(True, 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_lose_nothing_and_leave_one_unbroken_chain():
    writers, per_writer = 8, 40
    errors: list[BaseException] = []
    start = threading.Barrier(writers + 2)
    writing = threading.Event()
    writing.set()

    def writer(worker: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                if i % 10 == 9:  # some transactions roll back: their numbers are used up, their events gone
                    try:
                        with transaction.atomic():
                            audit_record(action="load.rolled_back", actor_type="system", actor_id=worker)
                            raise RuntimeError("undone")
                    except RuntimeError:
                        pass
                with transaction.atomic():
                    audit_record(action="load.event", actor_type="system", actor_id=worker, data={"i": i})
                    audit_record(action="load.event", actor_type="system", actor_id=worker, data={"i": i, "second": 1})
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    def sealer() -> None:
        try:
            start.wait()
            while writing.is_set():
                audit_seal(batch_size=7)
                time.sleep(0.005)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    for thread in threads + sealers:
        thread.start()
    for thread in threads:
        thread.join()
    writing.clear()
    for thread in sealers:
        thread.join()
    audit_seal()

    total = writers * per_writer * 2
    assert errors == []
    assert not AuditEvent.objects.filter(action="load.rolled_back").exists()
    assert AuditEvent.objects.count() == total
    assert list(AuditSeal.objects.order_by("position").values_list("position", flat=True)) == list(range(1, total + 1))
    assert AuditSeal.objects.values("event").distinct().count() == total
    report = audit_chain_verify()
    assert (report.intact, report.count, report.pending) == (True, total, 0)
    for worker in range(writers):
        assert AuditEvent.objects.filter(actor_id=str(worker)).count() == per_writer * 2
