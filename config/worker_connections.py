"""A Celery worker process keeps its PostgreSQL connection between tasks, as a web thread does between requests.

Celery's Django fix-up closes every database connection before and after each task unless `CELERY_DB_REUSE_MAX`
is set. With it closing, every chat turn, placement step and audit seal opened a new PostgreSQL session: a
backend process started and authenticated, whose catalog caches are cold for the task's first statement on each
table. `CELERY_DB_REUSE_MAX` (config/settings/broker.py) keeps the fix-up from closing for that many tasks, and
this module gives the tasks a web request's lifecycle instead: before and after each task Django's own
`close_old_connections()` closes a connection that has had an error, is past `conn_max_age`, or fails its
health check, and leaves a good one open for the next task (with a connection pool, `DATABASE_POOL_MAX_SIZE`,
it hands the connection back to the pool). Tasks run eagerly (tests, `CELERY_TASK_ALWAYS_EAGER`) are left
alone: they run inside their caller's request or transaction, which owns the connection.
"""

from __future__ import annotations

from typing import Any

from celery import signals


def _is_eager(task: Any) -> bool:
    return bool(getattr(getattr(task, "request", None), "is_eager", False))


def _close_old_connections(sender: Any = None, **_: Any) -> None:
    if _is_eager(sender):
        return
    from django.db import close_old_connections

    close_old_connections()


def install() -> None:
    signals.task_prerun.connect(_close_old_connections, weak=False, dispatch_uid="config.worker_connections.prerun")
    signals.task_postrun.connect(_close_old_connections, weak=False, dispatch_uid="config.worker_connections.postrun")
