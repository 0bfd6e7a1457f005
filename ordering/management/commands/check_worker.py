import time

from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from kombu.exceptions import OperationalError

from config.celery import app, ping
from config.env import redact_url
from config.tracing import trace_context


class Command(BaseCommand):
    help = "Send a task through the broker and wait for a Celery worker to run it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the worker")
        parser.add_argument(
            "--queue",
            help="the queue to send it to: the default queue (CELERY_DEFAULT_QUEUE) unless given; "
            "the chat turns' workers consume ORDERING_TURN_QUEUE (turns)",
        )

    def handle(self, *args, timeout: float, queue: str | None, **options) -> None:
        queue = queue or settings.CELERY_TASK_DEFAULT_QUEUE
        # Asked once, first: sending to an unreachable Redis retries the publish and then the result backend
        # tries 20 times more, a screen of retries ending in "The Celery application must be restarted".
        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1)
        except OperationalError as error:
            raise CommandError(f"Cannot reach the broker at {redact_url(app.conf.broker_url)}: {error}") from None
        started = time.monotonic()
        with trace_context() as trace_id:
            result = ping.apply_async(queue=queue)
        try:
            answer = result.get(timeout=timeout)
        except CeleryTimeout:
            raise CommandError(
                f"No worker consuming queue {queue!r} ran the task within {timeout:.0f}s (task {result.id})."
            ) from None
        if answer.get("trace_id") != trace_id:
            raise CommandError(f"The worker ran the task under trace {answer.get('trace_id')!r}, not {trace_id!r}.")
        elapsed_ms = (time.monotonic() - started) * 1000
        self.stdout.write(
            f"worker ok: task {result.id} ran in pid {answer['worker_pid']} in {elapsed_ms:.0f} ms "
            f"(queue {queue}), trace {trace_id}"
        )
        heap = answer.get("heap") or {}
        if heap:
            self.stdout.write(
                f"worker heap: {heap['frozen_objects']} objects frozen at start, "
                f"young objects collected every {heap['gen0_threshold']} allocations"
            )
