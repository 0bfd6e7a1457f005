"""What a bench run starts and throws away: its databases, its Redis index, its processes.

Databases are named bench_* on the PostgreSQL server of DATABASE_URL and dropped at the end; the
Redis index is BENCH_REDIS_URL's (15 by default), emptied before and after; `make run`'s
configuration lives in var/bench/run and is deleted afterwards. Every process started here writes
its output to var/bench/logs/<name>.log and is stopped (TERM, then KILL) by the run that started it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

BENCH_DIR = Path(settings.BASE_DIR) / "var" / "bench"
LOG_DIR = BENCH_DIR / "logs"
# BENCH_DATABASE names the run's database (the harness's own test runs use another); always bench_*.
MAIN_DATABASE = os.environ.get("BENCH_DATABASE", "bench_main")
PEER_DATABASE = f"{MAIN_DATABASE}_peer"
if not MAIN_DATABASE.startswith("bench_"):
    raise ImportError(f"BENCH_DATABASE={MAIN_DATABASE!r}: the bench only creates and drops bench_* databases.")
# BENCH_DATABASE_TEMPLATE: a database already migrated for this schema to copy bench_main from, so that migrate finds
# nothing left to do (the harness's own test passes the suite's template, tests/support/template_db.py).
DATABASE_TEMPLATE = os.environ.get("BENCH_DATABASE_TEMPLATE", "")
SANDBOX_QUEUE = "bench-sandbox-webhooks"


class BenchError(RuntimeError):
    """The run cannot go on; the message says what to fix."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_flush() -> None:
    import redis

    client = redis.Redis.from_url(redis_url())
    try:
        client.flushdb()
    finally:
        client.close()


def postgres_url(name: str) -> str:
    """A DATABASE_URL for database `name` on the server this process is configured for."""
    settings_dict = connection.settings_dict
    user, password = quote(settings_dict.get("USER") or ""), quote(settings_dict.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{settings_dict.get('HOST') or 'localhost'}{port}/{name}"


def postgres_dsn(name: str) -> str:
    return postgres_url(name).replace("postgres://", "postgresql://", 1)


def _admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn("postgres"), autocommit=True) as admin:
        admin.execute(sql)


def database_create_empty(name: str) -> None:
    if not name.startswith("bench_"):
        raise BenchError(f"the bench only creates bench_* databases, not {name!r}")
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_execute(f'CREATE DATABASE "{name}"')


def database_drop(name: str) -> None:
    if not name.startswith("bench_"):
        raise BenchError(f"the bench only drops bench_* databases, not {name!r}")
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def main_database(*, verbosity: int = 0) -> Iterator[str]:
    """bench_main, migrated (or copied from BENCH_DATABASE_TEMPLATE, then migrated), as this process's default
    database; dropped on exit. Yields its URL."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    if connection.vendor != "postgresql":
        raise BenchError("The bench measures production settings: set DATABASE_URL to a PostgreSQL server.")
    settings_dict = connection.settings_dict
    settings_dict.setdefault("TEST", {})["NAME"] = MAIN_DATABASE
    if DATABASE_TEMPLATE:
        settings_dict["TEST"]["TEMPLATE"] = DATABASE_TEMPLATE
    old_name = settings_dict["NAME"]
    setup_test_environment(debug=False)
    connection.creation.create_test_db(verbosity=verbosity, autoclobber=True, serialize=False)
    try:
        yield postgres_url(MAIN_DATABASE)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=verbosity)
        teardown_test_environment()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def process_start(name: str, argv: list[str], *, env: dict[str, str]) -> Process:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}.log"
    log = log_path.open("w")
    popen = subprocess.Popen(  # noqa: S603 - our own commands, no shell
        argv,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopping it stops its children (gunicorn's, celery's)
    )
    log.close()
    return Process(name=name, popen=popen, log_path=log_path)


def wait_http(process: Process, url: str, *, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - our own local server
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if not process.alive() or time.monotonic() > deadline:
                raise BenchError(f"{process.name} did not start on {url}:\n{process.log_tail()}") from None
            time.sleep(0.3)


def server_env(*, base: str, database_url: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process the bench starts: the bench's settings over `base` (production | run)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MERCHANT_", "SANDBOX_MERCHANT_", "LLM_", "CELERY_", "CACHE_"))
        and key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ROOT_URLCONF", "VAR_DIR")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.bench",
            "BENCH_BASE": base,
            "LOG_LEVEL": "ERROR",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if base != "run":
        env["BENCH_REDIS_URL"] = redis_url()
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra or {})
    return env


def wait_worker(process: Process, *, queue: str, processes: int, timeout: float = 180) -> None:
    """Returns once the worker runs tasks from `queue`: one ping per process of it, all answered. A worker
    starts its processes one import of Django at a time each; load sent before that would measure the
    start-up, not the deployment."""
    from celery.exceptions import TimeoutError as CeleryTimeout

    from config.celery import ping

    deadline = time.monotonic() + timeout
    pending = [ping.apply_async(queue=queue) for _ in range(processes)]
    for result in pending:
        while True:
            try:
                result.get(timeout=2)
                break
            except CeleryTimeout:
                if not process.alive() or time.monotonic() > deadline:
                    raise BenchError(f"{process.name} ran no task from {queue!r}:\n{process.log_tail()}") from None


class Stack(contextlib.ExitStack):
    """The processes of one configuration, stopped in reverse order on exit."""

    def start(self, name: str, argv: list[str], *, env: dict[str, str], health_url: str | None = None) -> Process:
        process = process_start(name, argv, env=env)
        self.callback(process.stop)
        if health_url:
            wait_http(process, health_url)
        return process


def gunicorn_argv(port: int, *, workers: int | None = None) -> list[str]:
    """The README's production web command (`gunicorn -c config/gunicorn.py config.wsgi:application`: gthread,
    a process per core, WEB_THREADS threads each) on a local port; `workers` overrides WEB_CONCURRENCY."""
    argv = [
        sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
    ]  # fmt: skip
    if workers:
        argv += ["--workers", str(workers)]
    return argv


def celery_argv(*, concurrency: int, queues: str | None = None, name: str = "bench") -> list[str]:
    argv = [
        sys.executable, "-m", "celery", "-A", "ordering.benchmark.celery_app", "worker",
        "--loglevel=WARNING", f"--concurrency={concurrency}", "--pool=prefork", "--without-gossip",
        "--without-mingle", "--without-heartbeat", f"--hostname={name}@%h",
    ]  # fmt: skip
    if queues:
        argv.append(f"--queues={queues}")
    return argv


def production_workers(*, turn_concurrency: int, default_concurrency: int) -> list[tuple[str, list[str], str, int]]:
    """The README's production worker roles, as (name, argv, queue, processes): a turn worker on the turn queue
    alone (chat never waits behind placements) and a worker for the default queue (placements, sweeps, e-mail)."""
    turns = settings.ORDERING_TURN_QUEUE
    return [
        ("turn-worker", celery_argv(concurrency=turn_concurrency, queues=turns, name="turns"), turns, turn_concurrency),
        ("worker", celery_argv(concurrency=default_concurrency, queues="default", name="default"), "default",
         default_concurrency),
    ]  # fmt: skip


def run_directory() -> Path:
    """`make run`'s VAR_DIR for the bench (SQLite, file broker, file cache), emptied first."""
    directory = BENCH_DIR / "run"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory
