"""`eager_tasks`: Celery tasks run in-process at enqueue time (after commit), for tests not about the queue.

Loaded for the whole suite from `tests/conftest.py` (`pytest_plugins`).

Celery guards `result.get()` with a flag that says "this code runs inside a task". It keeps that flag in
one process-wide variable, saved and restored around each eager task. A real worker runs one task per
process (or thread of its own), but here eager tasks run at the same time in several threads of the test
process: the test's own, the live server's request threads (the sandbox merchant enqueues its webhooks),
a race test's threads. Saved and restored across threads in the wrong order, the flag stays set, and the
test's own `result.get()` later fails with "Never call result.get() within a task". While the fixture is
active each thread keeps its own flag, which is what a worker's task sees.
"""

from __future__ import annotations

import threading

import celery.backends.redis
import celery.result
import pytest

from config.celery import app as celery_app

_inside_task = threading.local()


def _task_join_will_block() -> bool:
    return getattr(_inside_task, "value", False)


def _set_task_join_will_block(blocks: bool) -> None:
    _inside_task.value = blocks


@pytest.fixture
def eager_tasks(monkeypatch):
    """Run Celery tasks in-process at enqueue time (after commit); a task's failure stays in its result."""
    for module in (celery.result, celery.backends.redis):
        monkeypatch.setattr(module, "task_join_will_block", _task_join_will_block)
    monkeypatch.setattr(celery.result, "_set_task_join_will_block", _set_task_join_will_block)
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    # As in a worker: the merchant's webhook retries must not surface inside the request that enqueued them.
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous
