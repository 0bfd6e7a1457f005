"""`manage.py check_worker`, as the runbook uses it (docs/operations.md, DependencyUnavailable: "check_worker proves
the broker path"): a clear answer while the broker is down."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.support import services


def test_with_the_broker_unreachable_it_says_so_at_once_without_the_password(tmp_path):
    unreachable = f"redis://:broker-secret-password@127.0.0.1:{services.free_port()}/0"
    started = time.monotonic()

    run = subprocess.run(
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
