"""Sealing in the background: a real worker seals what writers commit, and writers in several processes lose nothing."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command
from django.db import connection

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
