"""Inside a transaction on PostgreSQL, appends are buffered and written as one INSERT before the transaction's
next statement that reads the audit tables, its next savepoint boundary, or its commit: the transaction reads its
own events, and they commit or roll back with it."""

from __future__ import annotations

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import Origin, audit_flush, audit_record, audit_record_many, audit_seal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


def _inserts(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries if query["sql"].startswith('INSERT INTO "audit_')]


@pytest.fixture(autouse=True)
def _no_seal_task(settings):
    settings.AUDIT_SEAL_ON_COMMIT = False


def test_events_commit_with_their_transaction_numbered_in_the_order_recorded():
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        first = audit_record(action="test.first", actor_type="system", data={"n": 1})
        audit_record_many(
            [{"action": "test.second", "actor_type": "system"}, {"action": "test.third", "actor_type": "system"}]
        )
        assert _inserts(queries) == []  # nothing written yet

    assert len(_inserts(queries)) == 1
    assert _actions() == ["test.first", "test.second", "test.third"]
    assert AuditEvent.objects.get(pk=first.pk).data == {"n": 1}
    assert audit_seal() == 3
    assert audit_chain_verify().intact


def test_statements_on_other_tables_leave_the_events_for_one_insert_at_commit():
    # a unit of work: an event, a write and a read elsewhere, another event, another statement
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        audit_record(action="test.first", actor_type="system")
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE scratch (n int) ON COMMIT DROP")
            cursor.execute("INSERT INTO scratch VALUES (1)")
        audit_record(action="test.second", actor_type="system")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM scratch")
            assert cursor.fetchone()[0] == 1
        assert _inserts(queries) == []  # nothing read the audit log yet

    assert len(_inserts(queries)) == 1
    assert queries.captured_queries[-1]["sql"] == "COMMIT"
    assert queries.captured_queries[-2]["sql"].startswith('INSERT INTO "audit_')
    assert _actions() == ["test.first", "test.second"]


def test_a_savepoint_boundary_writes_the_events_recorded_before_it():
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        audit_record(action="test.outer", actor_type="system")
        with transaction.atomic():
            assert len(_inserts(queries)) == 1  # written before the SAVEPOINT
            audit_record(action="test.inner", actor_type="system")
        assert len(_inserts(queries)) == 2  # and before the RELEASE

    assert _actions() == ["test.outer", "test.inner"]


def test_a_transaction_reads_its_own_events_whatever_it_reads_them_with():
    with transaction.atomic():
        audit_record(action="test.mine", actor_type="system", customer_id=5)
        assert AuditEvent.objects.filter(customer_id=5).count() == 1  # the ORM
        audit_record(action="test.mine", actor_type="system", customer_id=5)
        with connection.cursor() as cursor:  # raw SQL
            cursor.execute("SELECT count(*) FROM audit_auditevent WHERE customer_id = 5")
            assert cursor.fetchone()[0] == 2


def test_reading_an_events_number_writes_it_first():
    with transaction.atomic():
        event = audit_record(action="test.numbered", actor_type="system")
        later = audit_record(action="test.numbered", actor_type="system")
        number = event.sequence

        assert number is not None and later.sequence == number + 1
        assert event.pk is not None and event.xact == later.xact
        assert AuditEvent.objects.get(pk=event.pk).sequence == number


def test_events_roll_back_with_their_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        event = audit_record(action="test.undone", actor_type="system")
        raise RuntimeError("the change it describes failed")

    assert _actions() == []
    assert event.pk is None and event.sequence is None  # never written


def test_a_rolled_back_savepoint_drops_its_events_and_keeps_the_rest():
    with transaction.atomic():
        audit_record(action="test.before", actor_type="system")
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(action="test.inside", actor_type="system")
            raise RuntimeError("this step failed")
        audit_record(action="test.after", actor_type="system")

    assert _actions() == ["test.before", "test.after"]


def test_an_event_recorded_after_a_database_error_is_dropped_with_its_savepoint():
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            with pytest.raises(DataError), connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")
            # the transaction is aborted now: the event can only go with the savepoint's rollback
            audit_record(action="test.failed", actor_type="system", outcome="failed")
            raise RuntimeError("report the failure")
        audit_record(action="test.recovered", actor_type="system")

    assert _actions() == ["test.recovered"]


def test_a_transaction_that_can_no_longer_commit_refuses_an_event_at_once():
    from django.db.transaction import TransactionManagementError

    with transaction.atomic():
        transaction.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            audit_record(action="test.refused", actor_type="system")

    assert _actions() == []


def test_events_of_a_rolled_back_transaction_never_reach_the_next_one():
    with transaction.atomic():
        audit_record(action="test.gone", actor_type="system")
        transaction.set_rollback(True)
    with transaction.atomic():
        audit_record(action="test.kept", actor_type="system")

    assert _actions() == ["test.kept"]


def test_a_connection_closed_inside_the_transaction_takes_its_events_with_it():
    with transaction.atomic():
        audit_record(action="test.lost_with_connection", actor_type="system")
        connection.close()
    with transaction.atomic():
        audit_record(action="test.kept", actor_type="system")

    assert _actions() == ["test.kept"]


def test_another_execute_wrapper_does_not_unhook_the_buffer():
    def passthrough(execute, sql, params, many, context):
        return execute(sql, params, many, context)

    with transaction.atomic():
        audit_record(action="test.first", actor_type="system")  # hooks this connection
    with connection.execute_wrapper(passthrough), transaction.atomic():
        audit_record(action="test.second", actor_type="system")
    with transaction.atomic():
        audit_record(action="test.third", actor_type="system")
        assert AuditEvent.objects.filter(action="test.third").exists()

    assert _actions() == ["test.first", "test.second", "test.third"]


def test_audit_flush_writes_the_buffer_now():
    with transaction.atomic():
        event = audit_record(action="test.flushed", actor_type="system")
        with CaptureQueriesContext(connection) as queries:
            audit_flush()
        assert len(_inserts(queries)) == 1
        assert "sequence" in event.__dict__


def test_outside_a_transaction_an_event_is_written_at_once():
    with CaptureQueriesContext(connection) as queries:
        event = audit_record(action="test.autocommit", actor_type="system")
        assert len(_inserts(queries)) == 1
    assert "sequence" in event.__dict__ and event.sequence > 0


def test_every_column_reads_back_exactly_and_many_events_keep_their_order():
    awkward = 'it\'s "quoted", back\\slashed,\nmulti-line, ünïcødé 🚀 and {braces} [1, 2]'
    origin = Origin(ip="2001:db8::7", user_agent=awkward, channel="web")
    with transaction.atomic():
        odd = audit_record(
            action="test.awkward",
            actor_type="customer",
            actor_id=awkward,
            customer_id=2**40,
            target_type="flow",
            target_id=awkward,
            outcome="denied",
            origin=origin,
            policy_version="caps-v2",
            trace_id="trace-awkward",
            data={"text": awkward, "nested": {"list": [1, 2.5, None, True]}, "empty": {}},
        )
        plain = audit_record(action="test.plain", actor_type="system")
        many = audit_record_many([{"action": "test.many", "actor_type": "system", "data": {"i": i}} for i in range(40)])

    stored = AuditEvent.objects.get(pk=odd.pk)
    for name in ("occurred_at", "actor_id", "customer_id", "target_id", "outcome", "origin_ip", "origin_user_agent",
                 "origin_channel", "policy_version", "trace_id", "data"):  # fmt: skip
        assert getattr(stored, name) == getattr(odd, name), name
    assert stored.actor_id == awkward[:64] and stored.data["text"] == awkward
    assert AuditEvent.objects.get(pk=plain.pk).origin_ip is None
    assert AuditEvent.objects.get(pk=plain.pk).customer_id is None
    assert [event.sequence for event in many] == sorted(event.sequence for event in many)
    assert [row.data["i"] for row in AuditEvent.objects.filter(action="test.many").order_by("sequence")] == list(
        range(40)
    )


def test_code_that_wraps_and_unwraps_connection_commit_does_not_lose_events():
    with transaction.atomic():
        audit_record(action="test.first", actor_type="system")  # hooks this connection
    real_commit = connection.commit
    connection.commit = lambda: real_commit()  # as the saga meter does
    try:
        with transaction.atomic():
            audit_record(action="test.second", actor_type="system")
    finally:
        del connection.commit
    with transaction.atomic():
        audit_record(action="test.third", actor_type="system")  # the last statement before COMMIT

    assert _actions() == ["test.first", "test.second", "test.third"]
