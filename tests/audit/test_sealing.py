"""Sealing in the background: a real worker seals what writers commit, and writers in several processes lose nothing."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import services as audit_services
from audit.benchmark import ACTION, append_rate
from audit.models import AuditEvent, AuditSeal
from audit.selectors import audit_chain_verify
from audit.services import audit_record, audit_seal
from tests.support.services import database_url_for

pytestmark = pytest.mark.postgres


def _wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_commit_has_a_worker_seal_its_events_soon_without_anyone_asking(celery_worker, settings):
    settings.AUDIT_SEAL_ON_COMMIT = True
    for i in range(30):
        audit_record(action="test.committed", actor_type="system", data={"i": i})  # 30 commits, one event each

    _wait_for(lambda: AuditSeal.objects.count() == 30, timeout=60, what="the worker to seal 30 events")

    report = audit_chain_verify()
    assert (report.intact, report.count, report.pending) == (True, 30, 0)


@pytest.mark.django_db(transaction=True)
def test_writers_in_several_processes_lose_nothing_and_the_chain_verifies(monkeypatch):
    # The benchmark's own writers: real processes, each with its own connection, committing concurrently.
    monkeypatch.setenv("DATABASE_URL", database_url_for(connection.settings_dict))
    # The writers start writing together once all three have started Django (audit.benchmark.start_together).

    # 0.3 s of writing together is a few hundred concurrent commits (each process writes flat out); a longer window
    # only costs CPU (1.0 s took ~3 s more of it in the writers and PostgreSQL, for the same check).
    seconds = 0.3
    rate = append_rate(processes=3, seconds=seconds, events_per_transaction=2)
    sealed = audit_seal()
    out = io.StringIO()
    call_command("audit_verify", stdout=out)

    appended = AuditEvent.objects.filter(action=ACTION).count()
    assert appended == round(rate * seconds) and appended > 30
    writers = set(AuditEvent.objects.filter(action=ACTION).values_list("actor_id", flat=True).distinct())
    assert writers == {"bench-0", "bench-1", "bench-2"}  # all three wrote in the window, side by side
    total = AuditEvent.objects.count()  # the appended ones and each process's warm-up event
    assert total == appended + 3
    assert sealed == total
    assert out.getvalue() == f"audit chain intact: {total} events verified\n"


@pytest.mark.django_db
def test_the_seal_reads_its_range_by_index_even_on_a_log_postgresql_has_no_statistics_for():
    # A log of 20,000 sealed events and 5 new ones, whose values were never analysed (a log filled faster than
    # autovacuum analyses it): PostgreSQL's default estimate made the seal's read a parallel scan of the whole log and
    # of every seal (in `make bench`, 230-250 ms a seal on a million events, every second in every process that
    # commits events). The events are wide (1.3 kB) so that these 20,005 take the pages a larger log would.
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.fail("this test removes the tables' statistics: run the suite as a superuser (as CI does)")
        cursor.execute(
            "INSERT INTO audit_auditevent (occurred_at, actor_type, actor_id, action, target_type, target_id, outcome,"
            " trace_id, origin_user_agent, origin_channel, data, xact)"
            " SELECT now(), 'system', 'test', 'test.logged', '', g::text, 'ok', '', '', 'test',"
            " jsonb_build_object('text', repeat(md5(g::text), 40)), 1000 + g / 7"
            " FROM generate_series(1, 20005) AS g"
        )
        cursor.execute(
            "INSERT INTO audit_auditseal (position, event_id, previous_hash, hash, horizon, sealed_at)"
            " SELECT row_number() OVER (ORDER BY id), id, md5(id::text || 'previous'), md5(id::text), 1000 + 20000 / 7,"
            " now() FROM audit_auditevent WHERE target_id::int <= 20000"
        )
        tables = "('audit_auditevent'::regclass, 'audit_auditseal'::regclass)"
        cursor.execute(f"DELETE FROM pg_statistic WHERE starelid IN {tables}")
        cursor.execute(f"UPDATE pg_class SET relpages = 0, reltuples = -1 WHERE oid IN {tables}")

    with CaptureQueriesContext(connection) as queries:
        sealed = audit_seal(max_batches=1)
    assert sealed == 5
    read = next(q["sql"] for q in queries if q["sql"].startswith('SELECT "audit_auditevent"."id"'))

    def plan(*, as_the_sealer: bool) -> str:
        with transaction.atomic(), connection.cursor() as cursor:
            if as_the_sealer:
                audit_services._lock_chain()
            cursor.execute(f"EXPLAIN {read}")
            return "\n".join(row[0] for row in cursor.fetchall())

    # what any other transaction plans for that statement on these tables: a scan of the log or parallel workers ...
    other = plan(as_the_sealer=False)
    assert "Seq Scan on audit_auditevent" in other or "Workers Planned" in other, other
    # ... and what the sealer's transaction plans: the range of the xact index, each event's seal by its index, in
    # its own process, not compiled
    sealer = plan(as_the_sealer=True)
    for shape in ("Seq Scan", "Hash", "Merge Join", "Gather", "Workers", "JIT"):
        assert shape not in sealer, sealer
    assert "audit_auditevent_xact" in sealer and "audit_auditseal_event_id" in sealer, sealer
