"""gunicorn's settings for the web role: `gunicorn -c config/gunicorn.py config.wsgi:application`.

Since turns run on workers (the message endpoint answers 202 and the widget long-polls the turn's url), a
web request is short and mostly waits on PostgreSQL and Redis: threads (gthread) serve those waits, so a
poll never holds a whole process and a slow client does not take a worker away from everyone else.
A long-poll (`…/turns/<id>/?wait=N`, ordering/turn_wait.py) holds its thread, but not its database connection,
while it waits on Redis for the turn to end, costing no CPU: at most ORDERING_TURN_WAIT_SLOTS threads of a
process wait at once, by default all but WEB_RESERVED_THREADS, so the posts, pages and other polls always have
threads; a poll that finds no free slot answers at once, as a plain poll.
A process per core runs Python in parallel; its threads share a pool of PostgreSQL connections
(DATABASE_POOL_MAX_SIZE, 16 per process here), so PostgreSQL sees WEB_CONCURRENCY times that per machine at most.

Every value comes from the environment (README, "Production"); the command line still wins.
"""

import multiprocessing
import os
import re
import tempfile
from pathlib import Path


def _shared_metrics_directory(address: str) -> Path | None:
    """The workers' metrics are summed per scrape: each process counts on its own, and /metrics answers from the one
    process that took the scrape unless PROMETHEUS_MULTIPROC_DIR is set (config/metrics.py), so with WEB_CONCURRENCY
    processes every counter would jump between their values from scrape to scrape and rate() would read the drops
    as resets. Unless the environment names a directory (emptying it at a restart is then the operator's), the
    server gets its own, keyed by its address, emptied when it starts (on_starting).

    Before anything imports prometheus_client: it picks its mode at import, and importing `config` imports it here,
    in the master, whose mode the workers inherit when they fork."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    directory = Path(tempfile.gettempdir()) / "assistant-web-metrics" / re.sub(r"[^A-Za-z0-9.-]", "_", address)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
_metrics_directory = _shared_metrics_directory(bind)

from config import process_heap  # noqa: E402 - after the metrics directory is chosen


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        # gunicorn prints this under "Failed to read config file": the variable, not int()'s own words.
        raise ValueError(f"{name}={value!r} is not a whole number (unset it for the default, {default}).") from None


# Read here as well, so that a bad value stops the server before it forks instead of failing every worker's boot.
_int("PROCESS_GC_GEN0_THRESHOLD", process_heap.DEFAULT_GEN0_THRESHOLD)


# One process per core: requests are short, so more processes than cores only add context switches
# and connections; threads cover the waiting.
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count())
worker_class = "gthread"
# Threads for the turns in progress (each long-poll holds one while its turn runs, but no database
# connection) plus the short requests: 40 serve 32 waiting chats and 8 requests at once per process. With 16,
# row 6 of docs/performance.md (200 chats on 2 cores) had most polls find every wait slot taken and come back
# every 2 s, each a full signed-in request: the web spent more CPU per turn than the turn worker. A poll finding
# every wait slot taken is answered at once with Retry-After: 2.
threads = _int("WEB_THREADS", 40)
# The threads share a pool of this many PostgreSQL connections per process (Django's psycopg pool; README,
# "Production"): a request takes one at its first query and hands it back when it ends, and a long-poll hands
# its back before it waits and takes one again for the read after it, so the threads can grow without
# connections and a long-poll no longer opens a new PostgreSQL session after each wait (which it did when each
# thread kept its own connection and gave it back by closing it). 16 per process: 32 on a 2-core machine plus
# the README's 10 worker processes, well under PostgreSQL's default max_connections (100). A request that finds
# all 16 busy waits for one (DATABASE_POOL_TIMEOUT_SECONDS). 0 keeps a connection per thread (conn_max_age).
os.environ.setdefault("DATABASE_POOL_MAX_SIZE", "16")
# Threads a long-poll may never take (see post_fork).
reserved_threads = _int("WEB_RESERVED_THREADS", 8)
# A request never runs a turn any more; 60 s is for the rare slow page (the admin's exports).
timeout = _int("WEB_TIMEOUT_SECONDS", 60)
graceful_timeout = 30
# The widget looks at a turn again at once after a long-poll, over one connection: keep it open between looks.
keepalive = _int("WEB_KEEPALIVE_SECONDS", 5)
# Connections queued at the socket while every thread is busy, before the kernel refuses more.
backlog = _int("WEB_BACKLOG", 2048)
# Gunicorn's access log duplicates django-prometheus's metrics and our JSON logs; errors go to stderr.
accesslog = None
errorlog = "-"
# gunicorn's own lines (its start, a worker that timed out or was killed) in the JSON of every other line
# (LOG_FORMAT, config/logging.py), so a log store that parses JSON keeps them; LOG_FORMAT=text keeps gunicorn's.
if os.environ.get("LOG_FORMAT", "json").strip().lower() == "json":
    logconfig_dict = {
        # gunicorn's own configuration (glogging.CONFIG_DEFAULTS) with its handlers writing our JSON
        "filters": {"trace_id": {"()": "config.tracing.TraceIdLogFilter"}},
        "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
        "handlers": {
            name: {"class": "logging.StreamHandler", "filters": ["trace_id"], "formatter": "json", "stream": stream}
            for name, stream in (("console", "ext://sys.stdout"), ("error_console", "ext://sys.stderr"))
        },
        # once each (gunicorn's own propagate to the root's handler too); no access lines, as with accesslog None
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


def on_starting(server) -> None:
    """Once, as the server starts, before a worker forks (not on a reload, whose old workers' counts must stay, nor
    for `--check-config`): stale files of an earlier run would be summed forever, as prometheus_client warns."""
    if _metrics_directory is not None:
        for stale in _metrics_directory.glob("*.db"):
            stale.unlink(missing_ok=True)


def post_fork(server, worker) -> None:
    """Before the worker loads Django: its long-polls may take every thread but the reserved ones (the thread
    count is known here even when `--threads` on the command line overrode the value above)."""
    os.environ.setdefault("ORDERING_TURN_WAIT_SLOTS", str(max(worker.cfg.threads - reserved_threads, 0)))


def post_worker_init(worker) -> None:
    """The worker has loaded the site (Django, the apps, the assistant's reader): that heap lives as long as the
    process, so it is frozen out of the collector's walks, and young objects are collected less often
    (config/process_heap.py; PROCESS_GC_GEN0_THRESHOLD=0 switches it off)."""
    process_heap.heap_settle()
