"""The Celery app: configured from Django settings (CELERY_*), tasks discovered in every app."""

import logging
import os
import smtplib
import threading

from celery import Celery, signals

from config import worker_connections, worker_metrics

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


def warm_catalog_lexicons() -> list[str]:
    """Fetch every merchant's catalog lexicon into this process's cache; returns the merchants warmed.

    A merchant that cannot be reached is skipped (its first turn fetches it, as without warming)."""
    from django.conf import settings
    from django.db import close_old_connections

    from ordering.agent.understand.lexicon import catalog_lexicon

    warmed = []
    for merchant_id in settings.MERCHANTS:
        try:
            catalog_lexicon(merchant_id)
        except Exception:
            logging.getLogger("ordering.agent").warning(
                "catalog lexicon warm-up failed", extra={"merchant": merchant_id}, exc_info=True
            )
        else:
            warmed.append(merchant_id)
    close_old_connections()
    return warmed


@signals.worker_process_init.connect(weak=False)
def _warm_on_process_start(**_: object) -> None:
    """Each new worker process fetches the merchants' catalogs for the turn planner's lexicon as it starts,
    in the background (worker_process_init must return within seconds), so the first turn the process runs
    does not pay for the catalog under its deadline: when eight processes start at once on a busy
    machine, that first fetch is what pushed turns past it. ORDERING_WARM_LEXICON=0 turns it off."""
    from django.conf import settings

    if getattr(settings, "ORDERING_WARM_LEXICON", True):
        threading.Thread(target=warm_catalog_lexicons, name="warm-lexicon", daemon=True).start()


@app.task(name="diagnostics.ping")
def ping() -> dict:
    """Round-trips through a worker: `manage.py check_worker` and the tests use it."""
    from config.tracing import get_trace_id

    logging.getLogger("diagnostics").info("diagnostics.ping")
    return {"pong": True, "trace_id": get_trace_id(), "worker_pid": os.getpid()}
