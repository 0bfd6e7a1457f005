"""A server process's garbage collector (config/process_heap.py): the heap it starts with frozen and young objects
collected less often, in a gunicorn worker once it loaded the site and in each Celery pool process as it starts;
PROCESS_GC_GEN0_THRESHOLD sets how often, 0 switches it off. A real worker's state is checked by
tests/foundation/test_make_run.py (`manage.py check_worker` prints it)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from celery import signals

from config import process_heap
from tests.support.services import child_env

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def collector_restored():
    """The test process's own settings (tests/support/gc_tuning.py) back after the test."""
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)


class _Held:
    pass


def test_the_heap_held_now_is_frozen_and_young_objects_are_collected_at_the_threshold(monkeypatch, collector_restored):
    monkeypatch.setenv("PROCESS_GC_GEN0_THRESHOLD", "12345")
    held = [_Held() for _ in range(500)]  # objects this process holds from now on
    frozen_before = gc.get_freeze_count()

    assert process_heap.heap_settle() is True

    assert gc.get_freeze_count() >= frozen_before + len(held)
    assert gc.get_threshold()[0] == 12345
    # what check_worker prints (frozen objects freed by reference counting leave the count as they go, so the count
    # is compared with what was frozen here, not read twice)
    state = process_heap.heap_state()
    assert state["gen0_threshold"] == 12345
    assert state["frozen_objects"] >= frozen_before + len(held)


def test_zero_leaves_the_collector_as_it_is(monkeypatch, collector_restored):
    monkeypatch.setenv("PROCESS_GC_GEN0_THRESHOLD", "0")
    threshold = gc.get_threshold()
    # the frozen count cannot be compared before and after: frozen objects freed by reference counting leave it at
    # any moment, so what is checked is that nothing was collected or frozen
    calls: list[str] = []
    monkeypatch.setattr(process_heap.gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(process_heap.gc, "freeze", lambda: calls.append("freeze"))

    assert process_heap.heap_settle() is False

    assert gc.get_threshold() == threshold
    assert calls == []


def test_a_new_celery_pool_process_settles_its_heap(monkeypatch, collector_restored):
    # what Celery sends in each pool process it forks (config/celery.py connects the receiver)
    monkeypatch.setenv("PROCESS_GC_GEN0_THRESHOLD", "23456")

    signals.worker_process_init.send(sender=None)

    assert gc.get_threshold()[0] == 23456


def test_a_gunicorn_worker_settles_its_heap_once_it_has_loaded_the_site():
    # gunicorn runs its configuration file, then calls post_worker_init in each worker after loading the WSGI app;
    # in a process of its own, so that this one's collector is not touched
    script = (
        "import gc, json, runpy\n"
        "config = runpy.run_path('config/gunicorn.py')\n"
        "before = {'frozen': gc.get_freeze_count(), 'threshold': gc.get_threshold()[0]}\n"
        "config['post_worker_init'](None)\n"
        "after = {'frozen': gc.get_freeze_count(), 'threshold': gc.get_threshold()[0]}\n"
        "print(json.dumps([before, after]))\n"
    )
    environment = {"PATH": "/usr/bin:/bin", "PROCESS_GC_GEN0_THRESHOLD": "30000"}
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    before, after = json.loads(run.stdout.splitlines()[-1])

    assert before == {"frozen": 0, "threshold": 700}  # CPython's own until the site is loaded
    assert after["threshold"] == 30000
    assert after["frozen"] > 1_000  # the modules, classes and functions loaded so far


@pytest.mark.parametrize("variable", ["WEB_THREADS", "WEB_TIMEOUT_SECONDS", "PROCESS_GC_GEN0_THRESHOLD"])
def test_gunicorn_refuses_a_number_it_cannot_read_and_names_the_variable(variable, tmp_path):
    # the real web command of the README: it stops at its configuration, before it binds or forks
    run = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "config/gunicorn.py", "config.wsgi:application"],
        cwd=REPOSITORY,
        env=child_env(**{variable: "abc", "WEB_BIND": "127.0.0.1:0", "VAR_DIR": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode != 0
    assert f"{variable}='abc' is not a whole number" in run.stderr
    assert "invalid literal for int()" not in run.stderr
    assert "Booting worker" not in run.stderr


@pytest.mark.parametrize(("value", "message"), [("abc", "is not an integer"), ("-5", "cannot be negative")])
def test_a_celery_worker_refuses_a_gc_threshold_it_cannot_use(value, message, tmp_path):
    # a pool process could only log the bad value (Celery catches what a worker_process_init receiver raises) and
    # run with CPython's collector: the settings refuse it before the worker starts
    run = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", "unused-gc-check"],
        cwd=REPOSITORY,
        env=child_env(PROCESS_GC_GEN0_THRESHOLD=value, VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode != 0
    assert f"PROCESS_GC_GEN0_THRESHOLD={value!r}" in run.stderr or f"PROCESS_GC_GEN0_THRESHOLD={value} " in run.stderr
    assert message in run.stderr
