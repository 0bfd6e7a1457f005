"""`manage.py eval_conversations` (`make eval`): the multi-turn corpus end to end, and its table.

It never touches the database you work with: it creates a throw-away test database (SQLite file under
VAR_DIR by default, copied from a migrated one kept beside it for this checkout's migrations, or `<name>_eval`
on the PostgreSQL server of DATABASE_URL), serves this site on a
local socket and the sandbox merchant on its own (its own process on its own port, as in `make run`;
in the test suite, under /sandbox-merchant/ of the same live server), has it seed its demo shop, runs every task
of `ordering/evaluation/corpus/tasks.yaml` through the conversation API with the placement saga run
eagerly, prints the table, and drops the database again.

Exit status 1 when any task ended with a wrong order or an unconfirmed charge, or (offline generator)
when task success is below `--min-success` (0.95). With `--llm` the same corpus runs through the LLM
command generator: the endpoint of LLM_BASE_URL / LLM_MODEL when set, otherwise a scripted
OpenAI-compatible server on a local socket whose "model" answers what the offline generator reads
(`tests.support.llm_server.offline_brain`): the tool-calling path, end to end, without a model.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from config.local_servers import local_servers_answer_at_once
from config.schema import schema_key
from ordering.evaluation.report import (
    DEFAULT_MIN_SUCCESS,
    failures_text,
    gate_problems,
    messages_table,
    summarize,
    summary_table,
)
from ordering.evaluation.tasks import TASKS_PATH, CorpusError, evaluation_environment, tasks_load, tasks_run


class Command(BaseCommand):
    help = "Run the multi-turn evaluation corpus end to end on a throw-away database and print its table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--category", action="append", default=[], help="only this category (repeatable)")
        parser.add_argument("--task", action="append", default=[], help="only this task id (repeatable)")
        parser.add_argument("--corpus", default=str(TASKS_PATH), help="the tasks file (default: the corpus)")
        parser.add_argument(
            "--llm",
            action="store_true",
            help="read messages with the LLM generator (LLM_BASE_URL/LLM_MODEL, else a scripted local server)",
        )
        parser.add_argument("--json", dest="json_path", help="write the summary and every task's outcome here")
        parser.add_argument(
            "--min-success",
            type=float,
            default=None,
            help=f"fail below this task success (default {DEFAULT_MIN_SUCCESS} offline; not enforced with --llm)",
        )
        parser.add_argument("--transcripts", action="store_true", help="print the transcript of each failed task")
        parser.add_argument("--no-messages", action="store_true", help="skip the single-message table")
        parser.add_argument(
            "--messages",
            dest="messages_path",
            default=None,
            help="the single-message file (default: the corpus'; the held-out set: ordering/evaluation/heldout/)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tasks = tasks_load(Path(options["corpus"]), categories=options["category"], task_ids=options["task"])
        except (CorpusError, OSError) as error:
            raise CommandError(str(error)) from None
        if not tasks:
            raise CommandError("No tasks to run.")
        min_success = options["min_success"]
        if min_success is None and not options["llm"]:
            min_success = DEFAULT_MIN_SUCCESS
        verbosity = int(options["verbosity"])

        started = time.monotonic()
        with (
            _quiet_logs(verbosity),
            _throwaway_database(self, verbosity),
            _live_server() as server_url,
            _sandbox_server(server_url) as merchant_url,
            # The first task has the sandbox run its demo seed, over HTTP (its control API).
            evaluation_environment(server_url=server_url, merchant_url=merchant_url),
            self._generator(options["llm"]) as generator,
        ):
            self.stderr.write(f"Running {len(tasks)} tasks ({generator}) against {server_url} …")

            def progress(outcome: Any) -> None:
                if verbosity >= 1:
                    self.stderr.write("." if outcome.success else ("W" if outcome.wrong_order else "F"), ending="")
                    self.stderr.flush()

            outcomes = tasks_run(tasks, progress=progress)
            self.stderr.write("")
            reads_messages = not (options["no_messages"] or options["llm"])
            messages_report = _single_messages(options["messages_path"]) if reads_messages else None
        summary = summarize(outcomes, generator=generator)
        summary.seconds = time.monotonic() - started

        self.stdout.write(summary_table(summary))
        if messages_report is not None:
            self.stdout.write("")
            self.stdout.write(messages_report)
        if summary.failed and verbosity >= 1:
            self.stdout.write("")
            self.stdout.write(f"{len(summary.failed)} task(s) did not end as expected:")
            self.stdout.write(failures_text(summary, transcripts=options["transcripts"]))
        if options["json_path"]:
            Path(options["json_path"]).write_text(
                json.dumps(
                    {"summary": summary.as_dict(), "tasks": [outcome.as_dict() for outcome in outcomes]}, indent=2
                ),
                encoding="utf-8",
            )
        problems = gate_problems(summary, min_success=min_success)
        if problems:
            for problem in problems:
                self.stderr.write(self.style.ERROR(f"FAIL: {problem}"))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("PASS"))

    @contextlib.contextmanager
    def _generator(self, llm: bool) -> Iterator[str]:
        """Offline: no model, whatever the environment says. --llm: the configured endpoint, or the scripted one."""
        names = ("LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY")
        saved = {name: getattr(settings, name, "") for name in names}
        try:
            if not llm:
                settings.LLM_BASE_URL = ""
                settings.LLM_MODEL = ""
                yield "offline"
            elif saved["LLM_BASE_URL"] and saved["LLM_MODEL"]:
                yield f"llm {saved['LLM_MODEL']}"
            else:
                try:
                    from tests.support.llm_server import ScriptedLLM, offline_brain
                except ImportError as error:
                    raise CommandError(
                        "--llm without LLM_BASE_URL/LLM_MODEL needs the scripted server of the test suite "
                        f"(tests/support/llm_server.py): {error}"
                    ) from None
                with ScriptedLLM(offline_brain()) as scripted:
                    settings.LLM_BASE_URL = scripted.base_url
                    settings.LLM_MODEL = "scripted-offline-brain"
                    settings.LLM_API_KEY = "not-needed"
                    yield "llm scripted (offline brain)"
        finally:
            for name, value in saved.items():
                setattr(settings, name, value)


@contextlib.contextmanager
def _quiet_logs(verbosity: int) -> Iterator[None]:
    # Every request and flow step logs a JSON line; the table is what this command is for.
    if verbosity < 2:
        logging.disable(logging.ERROR if verbosity < 1 else logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


@contextlib.contextmanager
def _throwaway_database(command: BaseCommand, verbosity: int) -> Iterator[None]:
    from django.test.utils import setup_test_environment, teardown_test_environment

    from config.env import var_dir

    settings_dict = connection.settings_dict
    test = settings_dict.setdefault("TEST", {})
    # One database per run (the process id in its name): two runs at once (say `make eval` and `make eval
    # EVAL_ARGS=--llm`) each reset the sandbox's shop, which in one shared database broke the other's tasks.
    if connection.vendor == "sqlite":
        # A file, not memory: the live server's threads open their own connections to it.
        directory = var_dir()
        directory.mkdir(parents=True, exist_ok=True)
        test["NAME"] = str(directory / f"eval-db-{os.getpid()}.sqlite3")
    elif not test.get("NAME"):
        # Not test_<name>: a pytest run on the same server keeps its own database.
        test["NAME"] = f"{settings_dict['NAME']}_eval_{os.getpid()}"
    setup_test_environment(debug=False)
    old_name = settings_dict["NAME"]
    command.stderr.write(f"Creating the evaluation database {test['NAME']} …")
    migrated = _sqlite_migrated_copy(test["NAME"]) if connection.vendor == "sqlite" else None
    if migrated is not None and migrated.exists():
        # A copy of the database an earlier run migrated, for the same migrations: migrate finds nothing to do.
        shutil.copyfile(migrated, test["NAME"])
        connection.creation.create_test_db(verbosity=max(0, verbosity - 1), keepdb=True, serialize=False)
    else:
        connection.creation.create_test_db(verbosity=max(0, verbosity - 1), autoclobber=True, serialize=False)
        if migrated is not None:
            _sqlite_keep_migrated(Path(settings_dict["NAME"]), migrated)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=max(0, verbosity - 1))
        teardown_test_environment()


def _sqlite_migrated_copy(name: str) -> Path:
    """Where a migrated copy of the SQLite evaluation database is kept for the schema of this checkout
    (config.schema.schema_key): migrating a new file takes ~2.5 s of CPU, copying one a few milliseconds."""
    path = Path(name)
    return path.with_name(f"eval-db-migrated-{schema_key()}{path.suffix}")  # shared by every run


def _sqlite_keep_migrated(database: Path, migrated: Path) -> None:
    """Keep a copy of the just-migrated `database` as `migrated`, and drop the copies of older schemas."""
    connection.close()  # nothing half-written in the file while it is copied
    partial = migrated.with_name(f"{migrated.name}.{os.getpid()}.partial")
    shutil.copyfile(database, partial)
    partial.replace(migrated)  # atomic: a run at the same time sees the whole file or none
    for old in migrated.parent.glob(migrated.name.replace(schema_key(), "*")):
        if old != migrated:
            old.unlink(missing_ok=True)


@contextlib.contextmanager
def _live_server() -> Iterator[str]:
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    local_servers_answer_at_once()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise CommandError(f"Could not start the local server: {server.error}")
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.terminate()
        server.join(timeout=10)


# The sandbox's own server for the run, its background work (order webhooks) done at once, as the
# evaluation runs ours: `manage.py runserver` with the sandbox's URLconf, in a process of its own, answering
# without Nagle's delay (config/local_servers.py).
_SANDBOX_SERVER = (
    "import sys, django; django.setup(); "
    "from config.local_servers import local_servers_answer_at_once; local_servers_answer_at_once(); "
    "from config.celery import app; app.conf.task_always_eager = True; app.conf.task_eager_propagates = False; "
    "from django.core.management import call_command; call_command('runserver', sys.argv[1], '--noreload')"
)


def _database_url(settings_dict: dict) -> str:
    """A DATABASE_URL that points another process at the database this process uses now."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    user, password = quote(settings_dict.get("USER") or ""), quote(settings_dict.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{settings_dict.get('HOST') or 'localhost'}{port}/{settings_dict['NAME']}"


@contextlib.contextmanager
def _sandbox_server(server_url: str) -> Iterator[str]:
    """Where the sandbox shop answers for the run. With SANDBOX_MERCHANT_IN_PROCESS (the test suite) our
    live server serves it under /sandbox-merchant/; otherwise it is its own process on its own port, as in
    `make run`, on the evaluation database, sending its order webhooks to our live server."""
    if settings.SANDBOX_MERCHANT_IN_PROCESS:
        yield f"{server_url}/sandbox-merchant"
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.dev"),
        "DJANGO_ROOT_URLCONF": "sandbox_merchant.server_urls",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "SANDBOX_MERCHANT_WEBHOOK_URL": f"{server_url}/webhooks/merchants/sandbox/",
        "LOG_LEVEL": "ERROR",
    }
    process = subprocess.Popen(  # noqa: S603 - our own manage.py code, no shell
        [sys.executable, "-c", _SANDBOX_SERVER, f"127.0.0.1:{port}"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base_url}/healthz", timeout=1)  # noqa: S310 - our own local server
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise CommandError(f"The sandbox merchant's server did not start on {base_url}.") from None
                time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _single_messages(path: str | None = None) -> str | None:
    """The single-message corpus' table (or that of the file at `path`), with the messages read wrong."""
    try:
        from ordering.agent.understand import OfflineGenerator
        from ordering.evaluation.messages import demo_lexicon, evaluate_messages, load_messages
    except ImportError:
        return None
    report = evaluate_messages(OfflineGenerator(demo_lexicon()), cases=load_messages(path) if path else None)
    misses = [
        f"- {result.case.text!r} ({result.case.category})"
        + (f" DANGEROUS: {', '.join(result.dangers)}" if result.dangers else "")
        for result in report.failures
    ]
    return messages_table(report) + ("\n\nRead wrong:\n" + "\n".join(misses) if misses else "")
