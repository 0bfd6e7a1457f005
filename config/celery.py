"""The Celery app: configured from Django settings (CELERY_*), tasks discovered in every app.

The frame imports no app: an app that has work to do as a worker process starts connects its own
receiver from its AppConfig.ready (ordering warms the catalog lexicons on worker_process_init)."""

import logging
import os
import smtplib

from celery import Celery, signals

from config import process_heap, worker_connections, worker_metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

# Options of every task that sends e-mail: acknowledged after the send, and a mail server that is down
# or refusing for a moment is tried again, a little later each time.
MAIL_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "max_retries": 8,
}

app = Celery("ordering_assistant")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A worker node's /metrics (CELERY_METRICS_PORT) and the publish time the queue age is read from.
worker_metrics.install(app)
# A worker process keeps its database connection between tasks (Celery's fix-up would close it around each one).
worker_connections.install()
# Each pool process freezes the heap it starts with (Django, the apps, what a turn imports: ordering imports the
# turn's modules before the pool forks) and collects young objects less often (config/process_heap.py).
signals.worker_process_init.connect(process_heap.heap_settle, weak=False, dispatch_uid="config.process_heap")


@app.on_after_configure.connect
def _ensure_file_broker_folders(sender: Celery, **_: object) -> None:
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)
    backend = sender.conf.result_backend or ""
    if backend.startswith("file://"):
        os.makedirs(backend.removeprefix("file://"), exist_ok=True)


@app.on_after_configure.connect
def _consume_every_queue(sender: Celery, **_: object) -> None:
    """A worker started without -Q consumes the default queue (order placements, e-mail, sweeps) and the
    chat turn queue (ORDERING_TURN_QUEUE): a burst of placements then waits behind nothing on the turn
    side, and each queue is fetched in turn, so neither starves the other."""
    from django.conf import settings
    from kombu import Exchange, Queue

    names = dict.fromkeys((sender.conf.task_default_queue, getattr(settings, "ORDERING_TURN_QUEUE", "")))
    # Declared as Celery declares its default queue: a direct exchange of the queue's name.
    sender.conf.task_queues = tuple(Queue(name, Exchange(name), routing_key=name) for name in names if name)


def _connect_tracing() -> None:
    from config import tracing

    signals.before_task_publish.connect(tracing.celery_attach_trace_header, weak=False)
    signals.task_prerun.connect(tracing.celery_restore_trace, weak=False)
    signals.task_postrun.connect(tracing.celery_forget_trace, weak=False)


_connect_tracing()


@app.task(name="diagnostics.ping")
def ping() -> dict:
    """Round-trips through a worker: `manage.py check_worker` and the tests use it."""
    from config.tracing import get_trace_id

    logging.getLogger("diagnostics").info("diagnostics.ping")
    return {"pong": True, "trace_id": get_trace_id(), "worker_pid": os.getpid(), "heap": process_heap.heap_state()}
