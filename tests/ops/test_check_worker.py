"""`manage.py check_worker`, as the runbook uses it (docs/operations.md, CeleryQueueBacklog, TurnLatencyHigh,
DependencyUnavailable): through the queue the on-call person names, and a clear answer while the broker is down."""

from __future__ import annotations

import sys
import time
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.support import services, zygote


@pytest.fixture
def turn_worker(django_db_setup, django_db_blocker, tmp_path):
    """A real worker consuming the chat turns' queue and a queue nothing sends to, not the default queue: a
    turn node (`-Q turns`) of the README's production roles."""
    from django.db import connection

    with django_db_blocker.unblock():
        database_url = services.database_url_for(connection.settings_dict)
    worker = services.CeleryWorker(
        database_url=database_url, log_path=tmp_path / "worker.log", queue=f"unused-{uuid.uuid4().hex[:8]}"
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def test_the_turn_queue_is_checked_by_naming_it(turn_worker, capsys):
    call_command("check_worker", "--queue", settings.ORDERING_TURN_QUEUE, "--timeout", "30")

    assert f"(queue {settings.ORDERING_TURN_QUEUE})" in capsys.readouterr().out

    # and the default queue, which no worker consumes here, is named in the failure
    with pytest.raises(CommandError, match=f"No worker consuming queue '{settings.CELERY_TASK_DEFAULT_QUEUE}'"):
        call_command("check_worker", "--timeout", "1")


def test_with_the_broker_unreachable_it_says_so_at_once_without_the_password(tmp_path):
    unreachable = f"redis://:broker-secret-password@127.0.0.1:{services.free_port()}/0"
    started = time.monotonic()

    run = zygote.run(
        [sys.executable, "manage.py", "check_worker", "--timeout", "30"],
        cwd=services.PROJECT_DIR,
        env=services.child_env(REDIS_URL=unreachable, CELERY_BROKER_URL=None, VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=90,
    )

    elapsed = time.monotonic() - started
    assert run.returncode == 1
    assert "Cannot reach the broker at redis://:***@127.0.0.1:" in run.stderr
    assert "broker-secret-password" not in run.stdout + run.stderr
    # it used to retry the result backend 20 times, then print a traceback saying Celery must be restarted
    assert "Traceback" not in run.stderr
    assert elapsed < 20
