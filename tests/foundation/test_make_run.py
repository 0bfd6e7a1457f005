"""`make run` with no external service: the embedded stack (SQLite, file broker) comes up and works."""

import os
import re
import signal
import subprocess
import sys
import time

from config.process_heap import DEFAULT_GEN0_THRESHOLD
from tests.support.services import PROJECT_DIR, child_env, free_port, wait_for_http


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_run_script_serves_health_runs_tasks_and_stops_everything_on_ctrl_c(tmp_path):
    port = free_port()
    env = child_env(
        DJANGO_SETTINGS_MODULE=None,
        DATABASE_URL=None,
        REDIS_URL=None,
        CELERY_BROKER_URL=None,
        CELERY_DEFAULT_QUEUE=None,
        SECRET_KEY=None,
        VAR_DIR=str(tmp_path / "var"),
        PORT=str(port),
        # free ports, not the defaults (8001, 8002), which another run on the machine may hold
        SANDBOX_PORT=str(free_port()),
        CELERY_METRICS_PORT=str(free_port()),
        MERCHANT_SANDBOX_BASE_URL=None,
        SANDBOX_MERCHANT_WEBHOOK_URL=None,
        PYTHON=sys.executable,
    )
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(
        ["./scripts/run"], cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        # the web server answers within the two minutes promised in the README
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=120, process=run)
        # and a task goes through the file broker to the worker and back
        check = subprocess.run(
            [sys.executable, "manage.py", "check_worker", "--timeout", "60"],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert check.returncode == 0, check.stdout + check.stderr + (tmp_path / "run.log").read_text()
        assert "worker ok" in check.stdout
        # the worker's pool process froze the heap it started with (config/process_heap.py)
        heap = re.search(
            r"worker heap: (\d+) objects frozen at start, young objects collected every (\d+) ", check.stdout
        )
        assert heap, check.stdout
        assert int(heap[1]) > 10_000
        assert int(heap[2]) == DEFAULT_GEN0_THRESHOLD
        assert (tmp_path / "var" / "db.sqlite3").exists()
    finally:
        # Ctrl-C in a terminal signals the whole foreground group
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=60)
        deadline = time.monotonic() + 30
        while _group_alive(run.pid) and time.monotonic() < deadline:
            time.sleep(0.2)

    assert not _group_alive(run.pid), "web, worker or beat outlived Ctrl-C"
    output = (tmp_path / "run.log").read_text()
    assert "Ordering assistant is running" in output
    assert "Demo staff login: support" in output
    assert "celery beat" in output
