"""/metrics of a Celery worker node: what its pool processes counted, served from the node's main process.

Most business metrics are counted where the work runs, in the worker's pool processes (docs/operations.md,
"Where the numbers come from"). With `CELERY_METRICS_PORT` set (unset or 0: off) a `celery worker`
node serves them itself:

- At import of config.celery, before anything imports prometheus_client, a process started as
  `celery … worker` points `PROMETHEUS_MULTIPROC_DIR` at a directory of its own,
  `<CELERY_METRICS_DIR>/<port>` (default `CELERY_METRICS_DIR`: the system's temporary directory), and
  empties it: the port is unique per machine, so two nodes on one machine never share (or empty) each
  other's directory, and a web process's `PROMETHEUS_MULTIPROC_DIR` inherited from a shared environment
  is never the worker's. Every process of the node (the main one and each pool child) then writes its
  samples there.
- worker_init (main process): an HTTP server thread on `CELERY_METRICS_ADDRESS:CELERY_METRICS_PORT`
  answers `GET /metrics` with the directory summed per scrape (prometheus_client's
  MultiProcessCollector), behind `METRICS_BEARER_TOKEN` when it is set, as the web's /metrics.
- worker_process_init (each pool child): the child closes its copy of the listening socket.
- worker_process_shutdown (a child exiting): prometheus_client's mark_process_dead drops its live gauge
  files. Counter and histogram files of dead children stay and keep being summed, so a recycled child
  (max-tasks-per-child, a crash) never makes a counter go down; they go when the node restarts.

Any other process (web, beat, manage.py, tests) is untouched by this module.
"""

from __future__ import annotations

import hmac
import logging
import os
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from celery import Celery, signals

logger = logging.getLogger("config.worker_metrics")

_server: ThreadingHTTPServer | None = None


def metrics_port() -> int:
    raw = os.environ.get("CELERY_METRICS_PORT", "").strip()
    try:
        return int(raw or 0)
    except ValueError:
        raise ValueError(f"CELERY_METRICS_PORT={raw!r} is not a port number (unset or 0 switches it off).") from None


def metrics_directory(port: int) -> Path:
    base = os.environ.get("CELERY_METRICS_DIR") or os.path.join(tempfile.gettempdir(), "assistant-celery-metrics")
    return Path(base) / str(port)


def is_worker_command(argv: list[str]) -> bool:
    """`celery -A config worker …` or `python -m celery -A config worker …` (not beat, inspect, shell…)."""
    if not argv:
        return False
    program = Path(argv[0])
    return "celery" in (program.name, program.parent.name) and "worker" in argv[1:]


def prepare_process(argv: list[str] | None = None) -> Path | None:
    """In a worker node with a metrics port: give the node its own, empty multiprocess directory.

    Must run before prometheus_client is imported (it picks its multiprocess mode at import), which is why
    config/celery.py calls it at import. Returns the directory, or None when this process is not such a node.
    """
    argv = sys.argv if argv is None else argv
    port = metrics_port()
    if not port or not is_worker_command(argv):
        return None
    if "prometheus_client" in sys.modules:
        logger.error("prometheus_client was imported before the worker metrics directory was set; /metrics is off")
        return None
    directory = metrics_directory(port)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # prometheus_client asks for an empty directory when the processes (re)start; stale files of a
    # previous run would otherwise be summed forever. Only its own *.db files are removed.
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


class _MetricsHandler(BaseHTTPRequestHandler):
    # http.server's default `Server: BaseHTTP/0.6 Python/3.11.7` told anyone who reached the port our Python's
    # exact version; the header names the service only, as gunicorn's does on the web's /metrics.
    def version_string(self) -> str:
        return "metrics"

    def do_GET(self) -> None:
        from django.conf import settings
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

        if self.path.split("?", 1)[0] != "/metrics":
            self._answer(404, b"only /metrics here\n", "text/plain")
            return
        expected = settings.METRICS_BEARER_TOKEN
        if expected:
            given = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), expected.encode()):
                self._answer(401, b"metrics need Authorization: Bearer <METRICS_BEARER_TOKEN>\n", "text/plain")
                return
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=os.environ["PROMETHEUS_MULTIPROC_DIR"])
        self._answer(200, generate_latest(registry), CONTENT_TYPE_LATEST)

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # a scrape every 15 s is not worth a log line


def serve_metrics(**_: object) -> None:
    """worker_init: start the node's /metrics server (main process, before the pool forks)."""
    global _server
    port = metrics_port()
    if not port or "PROMETHEUS_MULTIPROC_DIR" not in os.environ or _server is not None:
        return
    # Prometheus scrapes from its own host, as the web port; METRICS_BEARER_TOKEN guards both.
    address = os.environ.get("CELERY_METRICS_ADDRESS", "0.0.0.0")  # noqa: S104
    try:
        _server = ThreadingHTTPServer((address, port), _MetricsHandler)
    except OSError:
        # The node still runs its tasks; only its metrics are missing (MetricsTargetDown pages).
        logger.exception(
            "worker /metrics could not listen; each worker node on a machine needs its own CELERY_METRICS_PORT",
            extra={"address": address, "port": port},
        )
        return
    _server.daemon_threads = True
    threading.Thread(target=_server.serve_forever, name="worker-metrics", daemon=True).start()
    logger.info("worker /metrics listening", extra={"address": address, "port": port})


def close_inherited_socket(**_: object) -> None:
    """worker_process_init: a pool child does not serve; it drops its copy of the listening socket."""
    if _server is not None:
        _server.socket.close()


def mark_child_dead(pid: int | None = None, **_: object) -> None:
    """worker_process_shutdown: prometheus_client's bookkeeping for a process that ends."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid or os.getpid())


def install(app: Celery) -> None:
    """Called by config/celery.py at import: prepare a worker node's directory and connect the signals."""
    prepare_process()
    signals.worker_init.connect(serve_metrics, weak=False)
    signals.worker_process_init.connect(close_inherited_socket, weak=False)
    signals.worker_process_shutdown.connect(mark_child_dead, weak=False)
    # Every process that publishes tasks (web and workers) stamps the time, for the queue age on /metrics.
    from config import queue_metrics

    signals.before_task_publish.connect(queue_metrics.stamp_published_at, weak=False)
