"""`manage.py bench` (`make bench`): the measures of issue #15, side by side with the floor and the peer.

Starts what it needs (its own PostgreSQL databases bench_*, its own Redis index, the sandbox merchant
as its own server, gunicorn, Celery workers, `make run`'s configuration in var/bench/run, the LangGraph
peer's virtualenv in var/bench-peer), repeats each measure, prints one table (median and min–max of
the repeats, the floor/peer beside ours, their ratio, the goal, pass/fail), and throws everything away
again. See docs/performance.md for what each row measures and how to read it.

Run it with the bench's settings (`DJANGO_SETTINGS_MODULE=config.settings.bench`, as `make bench` does).
"""

# ruff: noqa: RUF001, RUF002 - the table prints en dashes (spreads) and multiplication signs (ratios)

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config import process_heap
from ordering.apps import import_turn_modules_before_fork
from ordering.benchmark import cpu
from ordering.benchmark import environment as env
from ordering.benchmark.report import Row, Samples, at_most, json_write, ratio_at_least, ratio_at_most, table

ROWS = ("1", "2", "3", "4", "5", "6", "7", "8", "9")
CHAT_TEXTS = ["show me running shoes", "I want the blue runners in 42", "actually size 43", "yes"]


@dataclass
class Config:
    repeat: int
    sessions: int
    turns: int
    think: float
    run_sessions: int
    orders: int
    peer_turns: int
    audit_seconds: float
    audit_batch: int
    web_workers: int | None
    turn_workers: int
    timeout: float
    rows: tuple[str, ...]


class Command(BaseCommand):
    help = "Measure turns, queries, merchant and LLM calls, orders/s, load and audit rate against their goals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quick", action="store_true", help="a small run (sizes below shrink unless given)")
        parser.add_argument("--repeat", type=int, help="repeats of each measure (default 3; quick 1)")
        parser.add_argument("--sessions", type=int, help="row 6: concurrent chat sessions (default 200; quick 10)")
        parser.add_argument("--turns", type=int, help="rows 6 and 7: turns per session (default 4; 1–4)")
        parser.add_argument("--think", type=float, help="rows 6 and 7: seconds between answer and next message (8)")
        parser.add_argument("--run-sessions", type=int, help="row 7: concurrent sessions (default 10; quick 4)")
        parser.add_argument("--orders", type=int, help="rows 4 and 5: orders per measure (default 30; quick 6)")
        parser.add_argument("--peer-turns", type=int, help="row 1: timed turns per side (default 10; quick 3)")
        parser.add_argument("--audit-seconds", type=float, help="row 9: seconds each writer runs (default 10)")
        parser.add_argument(
            "--audit-batch",
            type=int,
            help="row 9: events per writer transaction (default 7, the appends of one chat turn before #15)",
        )
        parser.add_argument(
            "--web-workers", type=int, help="gunicorn processes (default: config/gunicorn.py's, one per core)"
        )
        parser.add_argument(
            "--turn-workers", type=int, default=8, help="row 6: processes of the turn worker (default 8, as the README)"
        )
        parser.add_argument("--timeout", type=float, default=60.0, help="a turn without an answer by then failed")
        parser.add_argument("--rows", default=",".join(ROWS), help="only these rows, e.g. 1,2,3,8")
        parser.add_argument("--json", dest="json_path", help="also write the rows as JSON here")
        parser.add_argument("--strict", action="store_true", help="exit 1 when a row misses its goal")
        parser.add_argument(
            "--profile",
            dest="profile_path",
            help="row 1: write a cProfile of the timed seed turns here (read it with pstats or snakeviz)",
        )
        parser.add_argument(
            "--profile-clock",
            choices=("wall", "cpu"),
            default="wall",
            help="--profile's clock: wall time (default) or the turn thread's CPU time (waits left out)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "BENCH", False):
            raise CommandError(
                "Run the bench with its settings: DJANGO_SETTINGS_MODULE=config.settings.bench (make bench)."
            )
        quick = options["quick"]

        def pick(name: str, full: Any, small: Any) -> Any:
            return options[name] if options[name] is not None else (small if quick else full)

        rows = tuple(item.strip() for item in options["rows"].split(",") if item.strip())
        unknown = sorted(set(rows) - set(ROWS))
        if unknown:
            raise CommandError(f"Unknown rows {', '.join(unknown)}; the rows are {', '.join(ROWS)}.")
        config = Config(
            repeat=max(1, pick("repeat", 3, 1)),
            sessions=pick("sessions", 200, 10),
            turns=max(1, min(len(CHAT_TEXTS), pick("turns", 4, 4))),
            think=pick("think", 8.0, 1.0),
            run_sessions=pick("run_sessions", 10, 4),
            orders=pick("orders", 30, 6),
            peer_turns=pick("peer_turns", 10, 3),
            audit_seconds=pick("audit_seconds", 10.0, 2.0),
            audit_batch=max(1, pick("audit_batch", 7, 7)),
            web_workers=options["web_workers"],
            turn_workers=options["turn_workers"],
            timeout=options["timeout"],
            rows=rows,
        )
        self.verbosity = int(options["verbosity"])
        commit = _commit()  # before the run: the code measured, whatever is committed meanwhile
        started = time.monotonic()
        if options["profile_path"]:
            from ordering.benchmark import inprocess

            inprocess.profile_to(Path(options["profile_path"]), cpu=options["profile_clock"] == "cpu")
        bench_rows = Bench(self, config).run()
        elapsed = time.monotonic() - started

        self.stdout.write(table(bench_rows))
        meta = _meta(config, elapsed, commit)
        self.stdout.write(
            f"\n{meta['commit']} · {meta['machine']} · repeat {config.repeat} · {elapsed:.0f} s. "
            "Cells: median (min–max of the repeats). See docs/performance.md."
        )
        if options["json_path"]:
            json_write(Path(options["json_path"]), rows=bench_rows, meta=meta)
        if options["strict"] and any(row.passed is False or row.error for row in bench_rows):
            sys.exit(1)

    def say(self, text: str) -> None:
        if self.verbosity >= 1:
            self.stderr.write(text)
            self.stderr.flush()


def _commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{commit or 'unknown'}{' (with uncommitted changes)' if dirty else ''}"


def _meta(config: Config, elapsed: float, commit: str) -> dict[str, Any]:
    return {
        "commit": f"commit {commit}",
        "machine": f"{platform.machine()} · {os.cpu_count()} CPUs · {platform.python_implementation()} "
        f"{platform.python_version()} · {platform.system()}",
        "config": config.__dict__,
        "seconds": round(elapsed),
    }


def _rows() -> dict[str, Row]:
    return {
        "1": Row("1", "chat turn server time, merchant time excluded, vs the LangGraph peer turn", "≤ 2×",
                 ours=Samples(unit="ms"), baseline=Samples(unit="ms"), baseline_name="peer", ratio=Samples(unit="×"),
                 check=ratio_at_most(2.0)),
        "2a": Row("2a", "database queries per turn: add-to-cart turn", "≤ 20", check=at_most(20)),
        "2b": Row("2b", "database queries per turn: confirm", "≤ 8", check=at_most(8)),
        "3": Row("3", "merchant calls per add-to-cart turn", "≤ 2", check=at_most(2)),
        "4": Row("4", "placed orders/s vs a 6-task Celery chain of comparable writes (2 worker processes)", "≥ 0.6×",
                 ours=Samples(unit="/s"), baseline=Samples(unit="/s"), baseline_name="chain", ratio=Samples(unit="×"),
                 check=ratio_at_least(0.6)),
        "5": Row("5", "1 → 2 worker processes, placed orders/s", "≥ 1.7×", ours=Samples(unit="/s"),
                 baseline=Samples(unit="/s"), baseline_name="1 worker", ratio=Samples(unit="×"),
                 check=ratio_at_least(1.7)),
        "6": Row("6", "concurrent chat sessions over HTTP, production settings, think time: p95", "0 failed, p95 ≤ 2 s",
                 ours=Samples(unit="s"), baseline=Samples(unit="s"), baseline_name="floor p95",
                 ratio=Samples(unit="×"), check=None),
        "7": Row("7", "`make run` configuration, concurrent sessions: failed turns", "0 failed", check=at_most(0)),
        "8": Row("8", "LLM requests for the seed turn", "≤ 2", check=at_most(2)),
        "9": Row("9", "audit events/s, whole deployment (4 writer processes)", "≥ 5,000 and growing",
                 ours=Samples(unit="/s"), baseline=Samples(unit="/s"), baseline_name="1 process",
                 ratio=Samples(unit="×"), check=None),
    }  # fmt: skip


class Bench:
    def __init__(self, command: Command, config: Config) -> None:
        self.command = command
        self.config = config
        self.rows = _rows()
        self.say = command.say
        self.sandbox_process: env.Process | None = None

    def wanted(self, *keys: str) -> bool:
        return any(key in self.config.rows for key in keys)

    def selected_rows(self) -> list[Row]:
        return [row for key, row in self.rows.items() if key.rstrip("ab") in self.config.rows]

    def guarded(self, keys: tuple[str, ...], action: Any) -> None:
        """Run one phase; a phase that breaks marks its rows with the reason instead of ending the run."""
        try:
            action()
        except Exception as error:
            logging.getLogger(__name__).exception("bench phase %s failed", keys)
            for key, row in self.rows.items():
                if key.rstrip("ab") in keys:
                    row.error = f"{type(error).__name__}: {error}"[:160]
            self.say(f"  rows {', '.join(keys)} failed: {type(error).__name__}: {error}")

    def run(self) -> list[Row]:
        logging.disable(logging.CRITICAL if self.command.verbosity < 2 else logging.NOTSET)
        try:
            with contextlib.ExitStack() as stack:
                self.say("Preparing: Redis index, database bench_main, the sandbox shop …")
                env.redis_flush()
                stack.callback(env.redis_flush)
                self.database_url = stack.enter_context(env.main_database(verbosity=0))
                self.prepare_data()
                self.web_port = env.free_port()
                self.sandbox_url = self.sandbox_start(stack)
                self.point_at_sandbox()
                if self.wanted("1", "2", "3", "8"):
                    self.guarded(("1", "2", "3", "8"), self.inprocess_rows)
                if self.wanted("4", "5"):
                    self.guarded(("4", "5"), self.orders_rows)
                if self.wanted("9"):
                    self.guarded(("9",), self.audit_row)
                if self.wanted("6"):
                    self.guarded(("6",), self.load_row)
            if self.wanted("7"):
                self.guarded(("7",), self.run_configuration_row)
        finally:
            logging.disable(logging.NOTSET)
        return self.selected_rows()

    # -- preparation ---------------------------------------------------------------------------------

    def prepare_data(self) -> None:
        from consent.demo import DEMO_CUSTOMERS, demo_wallet_give
        from ordering.benchmark.chain import chain_tables_create
        from ordering.benchmark.customers import shop_stock_plenty
        from ordering.benchmark.floor import floor_table_create

        call_command("seed_sandbox_merchant", stdout=io.StringIO())
        shop_stock_plenty()
        floor_table_create()
        chain_tables_create()
        from django.contrib.auth import get_user_model

        self.alice = get_user_model().objects.create(username="alice", email="alice@example.com", first_name="Alice")
        demo_wallet_give(user_id=self.alice.pk, spec=DEMO_CUSTOMERS["alice"])

    def customers(self, count: int, prefix: str) -> list[Any]:
        from ordering.benchmark.customers import customers_create

        return customers_create(count, prefix=prefix)

    def users(self, count: int, prefix: str) -> list[Any]:
        from django.contrib.auth import get_user_model

        signed = self.customers(count, prefix)
        by_id = get_user_model().objects.in_bulk([item.user_id for item in signed])
        return [by_id[item.user_id] for item in signed]

    def sandbox_start(self, stack: contextlib.ExitStack) -> str:
        port = env.free_port()
        process_env = env.server_env(
            base="production",
            database_url=self.database_url,
            extra={
                "DJANGO_ROOT_URLCONF": "sandbox_merchant.server_urls",
                "SANDBOX_MERCHANT_WEBHOOK_URL": f"http://127.0.0.1:{self.web_port}/webhooks/merchants/sandbox/",
                # Its order webhooks wait in a queue of their own: the merchant's background work is not measured.
                "CELERY_DEFAULT_QUEUE": env.SANDBOX_QUEUE,
            },
        )
        # Two processes where the rows send it concurrent load; one serves the one-at-a-time calls of the others.
        workers = 2 if self.wanted("4", "5", "6") else 1
        process = env.process_start("sandbox", env.gunicorn_argv(port, workers=workers), env=process_env)
        self.sandbox_process = process
        stack.callback(process.stop)
        env.wait_http(process, f"http://127.0.0.1:{port}/healthz")
        return f"http://127.0.0.1:{port}"

    def point_at_sandbox(self) -> None:
        from catalog_adapters.registry import reset_merchants

        settings.MERCHANTS = {
            **settings.MERCHANTS,
            "sandbox": {**settings.MERCHANTS["sandbox"], "BASE_URL": self.sandbox_url},
        }
        settings.SANDBOX_MERCHANT_WEBHOOK_URL = f"http://127.0.0.1:{self.web_port}/webhooks/merchants/sandbox/"
        reset_merchants()

    def server_env(self, **extra: str) -> dict[str, str]:
        return env.server_env(
            base="production",
            database_url=self.database_url,
            extra={
                "MERCHANT_SANDBOX_BASE_URL": self.sandbox_url,
                "SANDBOX_MERCHANT_WEBHOOK_URL": f"http://127.0.0.1:{self.web_port}/webhooks/merchants/sandbox/",
                **extra,
            },
        )

    # -- rows 1, 2, 3, 8: in this process ----------------------------------------------------------------

    def inprocess_rows(self) -> None:
        from ordering.benchmark import inprocess
        from ordering.benchmark.llm import scripted_llm
        from ordering.benchmark.peer import peer_python, peer_run

        config = self.config
        want_peer = self.wanted("1")
        python = None
        if want_peer:
            self.say("Row 1: the LangGraph peer's virtualenv (var/bench-peer) …")
            python = peer_python()
            env.database_create_empty(env.PEER_DATABASE)
        try:
            user = self.users(1, "inproc")[0]
            # This process runs the turns as a turn worker's pool process would, so it starts as one does: what a
            # turn imports is imported first (before the fork, in a worker), then the start-up heap is frozen
            # (worker_process_init, config/process_heap.py). The floor's requests run in it too.
            import_turn_modules_before_fork()
            process_heap.heap_settle()
            with (
                inprocess.merchant_meter(self.sandbox_url) as meter,
                scripted_llm() as llm,
                inprocess.eager(True),
            ):
                for repeat in range(config.repeat):
                    self.say(f"Rows 1, 2, 3, 8: repeat {repeat + 1}/{config.repeat} …")
                    # 2a, 2b, 3: the add-to-cart turn with the offline generator (the production default).
                    with inprocess.llm_configured(None):
                        chat = inprocess.Chat(user)
                        if repeat == 0:
                            inprocess.turn_measure(chat, inprocess.ADD_TO_CART_TEXT, meter=meter)  # warm-up
                        sample = inprocess.turn_measure(chat, inprocess.ADD_TO_CART_TEXT, meter=meter)
                        self.rows["2a"].ours.add(sample.queries)
                        self.rows["3"].ours.add(sample.merchant_calls)
                        confirm = inprocess.confirm_queries(chat, sample.pending)
                        if confirm is not None:
                            self.rows["2b"].ours.add(confirm)
                    # 1, 8: the seed turn through the LLM generator on the scripted server.
                    with inprocess.llm_configured(llm.base_url):
                        chat = inprocess.Chat(self.alice)
                        for _ in range(2 if repeat == 0 else 1):
                            inprocess.turn_measure(  # warm-up
                                chat, inprocess.SEED_TEXT, meter=meter, llm=llm, count_queries=False
                            )
                        seed = [
                            inprocess.turn_measure(
                                chat, inprocess.SEED_TEXT, meter=meter, llm=llm, profile=True, count_queries=False
                            )
                            for _ in range(config.peer_turns if want_peer else 1)
                        ]
                    self.rows["8"].ours.add(statistics.median(s.llm_requests for s in seed))
                    if want_peer:
                        ours = statistics.median(s.server_ms for s in seed)
                        peer = peer_run(
                            python=python,
                            llm_url=llm.base_url,
                            merchant_url=self.sandbox_url,
                            merchant_token=settings.MERCHANTS["sandbox"]["TOKEN"],
                            dsn=env.postgres_dsn(env.PEER_DATABASE),
                            turns=config.peer_turns,
                            warmup=2,
                        )
                        peer_ms = statistics.median(
                            total - merchant
                            for total, merchant in zip(peer["turns_ms"], peer["merchant_ms"], strict=True)
                        )
                        floor = inprocess.floor_measure(user, count=config.peer_turns)
                        row = self.rows["1"]
                        row.ours.add(ours)
                        row.baseline.add(peer_ms)
                        row.ratio.add(ours / peer_ms)
                        self.floor_ms = [*getattr(self, "floor_ms", []), floor]
                        self.turn_cpu_ms = [
                            *getattr(self, "turn_cpu_ms", []),
                            statistics.median(s.cpu_ms for s in seed),
                        ]
                        row.extra = (
                            f"floor {Samples(self.floor_ms, 'ms').text()}; "
                            f"our turn's CPU {Samples(self.turn_cpu_ms, 'ms').text()}"
                        )
        finally:
            if want_peer:
                env.database_drop(env.PEER_DATABASE)
            env.redis_flush()  # the confirmations' saga tasks, never run: row 4 starts from an empty queue

    # -- rows 4 and 5: placed orders/s --------------------------------------------------------------------

    def orders_rows(self) -> None:
        from ordering.benchmark import orders

        config = self.config
        by_workers: dict[int, list[float]] = {}
        order_cpu: dict[str, float] = {}
        chain_cpu_total: dict[str, float] = {}
        placed_total = chains_total = 0
        for workers in (1, 2):
            with env.Stack() as stack:
                self.say(f"Rows 4, 5: {workers} worker process(es) …")
                worker = stack.start(
                    f"worker-{workers}",
                    env.celery_argv(concurrency=workers, queues="default", name=f"bench{workers}"),
                    env=self.server_env(),
                )
                roles = {worker.popen.pid: "worker"}
                if self.sandbox_process is not None:
                    roles[self.sandbox_process.popen.pid] = "sandbox"
                orders.workers_ready()
                for repeat in range(config.repeat):
                    users = self.users(config.orders, f"o{workers}r{repeat}x")
                    prepared = orders.previews_prepare(users)
                    # CPU by role over each measure alone: where an order's cost goes, beside a chain's.
                    sampler = cpu.CpuByRole(groups=roles, database=env.MAIN_DATABASE)
                    sampler.start()
                    placement = orders.placement_measure(prepared, timeout=max(120, config.orders * 10))
                    placed_cpu = sampler.stop()
                    sampler = cpu.CpuByRole(groups=roles, database=env.MAIN_DATABASE)
                    sampler.start()
                    chain = orders.chain_measure(config.orders)
                    chain_cpu = sampler.stop()
                    if workers == 2:
                        for role, seconds in placed_cpu.items():
                            order_cpu[role] = order_cpu.get(role, 0.0) + seconds
                        for role, seconds in chain_cpu.items():
                            chain_cpu_total[role] = chain_cpu_total.get(role, 0.0) + seconds
                        placed_total += placement.placed
                        chains_total += chain.placed
                    self.say(
                        f"  {placement.placed}/{config.orders} placed in {placement.seconds:.1f} s; "
                        f"chain {chain.placed}/{config.orders} in {chain.seconds:.1f} s"
                    )
                    by_workers.setdefault(workers, []).append(placement.per_second)
                    if workers == 2:
                        row = self.rows["4"]
                        row.ours.add(placement.per_second)
                        row.baseline.add(chain.per_second)
                        row.ratio.add(placement.per_second / chain.per_second if chain.per_second else 0.0)
        self.rows["4"].extra = (
            f"{cpu.per_turn_text(order_cpu, turns=placed_total, sessions=-1, unit='placed order')}; "
            f"{cpu.per_turn_text(chain_cpu_total, turns=chains_total, sessions=-1, unit='chain')}"
        )
        row = self.rows["5"]
        for one, two in zip(by_workers.get(1, []), by_workers.get(2, []), strict=False):
            row.ours.add(two)
            row.baseline.add(one)
            row.ratio.add(two / one if one else 0.0)

    # -- row 9: audit events/s --------------------------------------------------------------------------

    def audit_row(self) -> None:
        config = self.config
        batch = config.audit_batch
        # (processes, events per transaction): the turn-shaped workload with 1, 2 and 4 writers, and the
        # worst case (every event its own commit) with 4, which is bounded by the machine's commit rate.
        shapes = [(1, batch), (2, batch), (4, batch), (4, 1)]
        rates: dict[tuple[int, int], list[float]] = {shape: [] for shape in shapes}
        from audit.benchmark import seal_rate, start_together
        from config.celery import app as celery_app

        seal_rates: list[float] = []
        # One process starts Django and forks the writers of each measure (ordering/benchmark/audit_rate.py).
        writers = subprocess.Popen(  # noqa: S603 - our own module
            [sys.executable, "-m", "ordering.benchmark.audit_rate", str(config.audit_seconds)],
            cwd=settings.BASE_DIR,
            env=self.server_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writers.stdin is not None and writers.stdout is not None  # noqa: S101 - both piped above
        try:
            for repeat in range(config.repeat):
                self.say(f"Row 9: audit writers, repeat {repeat + 1}/{config.repeat} …")
                for processes, per_transaction in shapes:
                    writers.stdin.write(f"{processes} {per_transaction}\n")
                    writers.stdin.flush()
                    # every writer forked and connected before the common start
                    start_together([writers])
                    out = writers.stdout.readline().strip()
                    if not out.isdigit():
                        raise RuntimeError("an audit writer failed (see the log with -v 2)")
                    total = int(out)
                    rates[(processes, per_transaction)].append(total / config.audit_seconds)
                    # The chain must keep up with the appends: seal what they wrote (as the workers' sealer does),
                    # timed, so the next shape and the next rows start from a sealed chain.
                    sealed, per_second = seal_rate()
                    if sealed >= total // 2:
                        seal_rates.append(per_second)
        finally:
            writers.stdin.close()
            writers.wait(timeout=config.audit_seconds + 120)
        # Every writer enqueued its debounced seal task on the bench's broker; the chain is sealed now, and a
        # worker of a later row must not spend its first minutes on them before answering its start-up ping.
        celery_app.control.purge()
        row = self.rows["9"]
        row.measure = f"audit events/s, whole deployment (4 writer processes, {batch} events per transaction)"
        for one, four in zip(rates[(1, batch)], rates[(4, batch)], strict=True):
            row.ours.add(four)
            row.baseline.add(one)
            row.ratio.add(four / one if one else 0.0)
        medians = {shape: statistics.median(values) for shape, values in rates.items()}
        row.extra = (
            "by processes "
            + ", ".join(f"{n}: {Samples(rates[(n, batch)], '/s').text()}" for n in (1, 2, 4))
            + f"; 4 processes, 1 event per transaction: {Samples(rates[(4, 1)], '/s').text()}"
            + f"; sealed into the chain afterwards by one sealer: {Samples(seal_rates, '/s').text()}"
        )
        one, two, four = (medians[(n, batch)] for n in (1, 2, 4))
        row.check = lambda r: four >= 5000 and one < two < four

    # -- row 6: the production deployment under chat load -------------------------------------------------

    def load_row(self) -> None:
        from ordering.benchmark.load import chat_load, floor_load, server_idle

        config = self.config
        self.say(
            f"Row 6: {config.sessions} customers, gunicorn ({config.web_workers or 'one per core'} gthread processes),"
            f" a turn worker ({config.turn_workers} processes), a default-queue worker (2) …"
        )
        sessions = self.customers(config.sessions, "load")
        base_url = f"http://127.0.0.1:{self.web_port}"
        texts = CHAT_TEXTS[: config.turns]
        row = self.rows["6"]
        failed_total, turns_total, p50s, maxes, errors, looks, busy_looks = 0, 0, [], [], {}, 0, 0
        cpu_seconds: dict[str, float] = {}
        new_sessions = 0
        with env.Stack() as stack:
            web = stack.start("web", env.gunicorn_argv(self.web_port, workers=config.web_workers),
                              env=self.server_env(), health_url=f"{base_url}/healthz")  # fmt: skip
            roles = {web.popen.pid: "web"}
            # The README's worker roles: turns on their own worker, placements and sweeps on the default queue's.
            workers = env.production_workers(turn_concurrency=config.turn_workers, default_concurrency=2)
            for name, argv, queue, processes in workers:
                process = stack.start(name, argv, env=self.server_env())
                roles[process.popen.pid] = name
                env.wait_worker(process, queue=queue, processes=processes)
            if self.sandbox_process is not None:
                roles[self.sandbox_process.popen.pid] = "sandbox"
            for repeat in range(config.repeat):
                self.say(f"  repeat {repeat + 1}/{config.repeat}: {len(sessions)} sessions × {len(texts)} turns …")
                # CPU by role over the chat load alone (not the floor after it): ms per turn in the row's notes.
                sampler = cpu.CpuByRole(groups=roles, database=env.MAIN_DATABASE)
                sessions_before = cpu.postgres_sessions(env.MAIN_DATABASE)
                sampler.start()
                result = chat_load(
                    base_url=base_url, sessions=sessions, texts=texts, think=config.think, timeout=config.timeout
                )
                for role, seconds in sampler.stop().items():
                    cpu_seconds[role] = cpu_seconds.get(role, 0.0) + seconds
                new_sessions = (
                    new_sessions + cpu.postgres_sessions(env.MAIN_DATABASE) - sessions_before
                    if sessions_before >= 0 and new_sessions >= 0
                    else -1
                )
                server_idle(base_url=base_url, signed_in=sessions[0])
                floor = floor_load(
                    base_url=base_url, sessions=sessions, count=len(texts), think=config.think, timeout=config.timeout
                )
                failed_total += result.failed
                turns_total += result.turns
                looks += result.looks
                busy_looks += result.busy_looks
                for reason, count in result.errors.items():
                    errors[reason] = errors.get(reason, 0) + count
                if result.p95 is not None:
                    row.ours.add(result.p95)
                    p50s.append(result.p50)
                    maxes.append(result.max)
                if floor.p95 is not None:
                    row.baseline.add(floor.p95)
                    if result.p95 is not None:
                        row.ratio.add(result.p95 / floor.p95)
                self.say(
                    f"  p50 {result.p50 or 0:.2f} s, p95 {result.p95 or 0:.2f} s, failed {result.failed}/{result.turns}"
                    f"{' ' + str(result.errors) if result.errors else ''}; floor p95 {floor.p95 or 0:.3f} s"
                )
        row.measure = (
            f"{len(sessions)} concurrent chat sessions × {len(texts)} turns over HTTP, think {config.think:g} s: p95"
        )
        row.extra = (
            f"p50 {Samples(p50s, 's').text()}, max {Samples(maxes, 's').text()}, failed {failed_total}/{turns_total}"
            + (f" {errors}" if errors else "")
            + (
                f"; {looks / turns_total:.1f} looks at the turn url per turn, {busy_looks} answered busy"
                if turns_total
                else ""
            )
            + f"; {cpu.per_turn_text(cpu_seconds, turns=turns_total, sessions=new_sessions)}"
        )
        row.check = lambda r: failed_total == 0 and r.ours.median is not None and r.ours.median <= 2.0

    # -- row 7: `make run`'s configuration ---------------------------------------------------------------

    def run_configuration_row(self) -> None:
        from ordering.benchmark.customers import SignedIn
        from ordering.benchmark.load import chat_load

        config = self.config
        directory = env.run_directory()
        web_port, sandbox_port = env.free_port(), env.free_port()
        base_url, sandbox_url = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{sandbox_port}"
        run_env = env.server_env(
            base="run",
            database_url=None,
            extra={
                "VAR_DIR": str(directory),
                "MERCHANT_SANDBOX_BASE_URL": sandbox_url,
                "SANDBOX_MERCHANT_WEBHOOK_URL": f"{base_url}/webhooks/merchants/sandbox/",
            },
        )
        self.say(f"Row 7: `make run`'s configuration in {directory} (SQLite, file broker, runserver) …")
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput"], cwd=settings.BASE_DIR, env=run_env, check=True,  # noqa: S603
                       capture_output=True)  # fmt: skip
        made = subprocess.run(  # noqa: S603 - our own module
            [sys.executable, "-m", "ordering.benchmark.customers", str(config.run_sessions), "run"],
            cwd=settings.BASE_DIR, env=run_env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        sessions = [SignedIn(**item) for item in json.loads(made.stdout.strip().splitlines()[-1])]
        texts = CHAT_TEXTS[: config.turns]
        row = self.rows["7"]
        p95s, failed_total, turns_total, errors = [], 0, 0, {}
        try:
            with env.Stack() as stack:
                stack.start("run-web", [*manage, "runserver", f"127.0.0.1:{web_port}", "--noreload"], env=run_env,
                            health_url=f"{base_url}/healthz")  # fmt: skip
                stack.start(
                    "run-sandbox",
                    [*manage, "runserver", f"127.0.0.1:{sandbox_port}", "--noreload"],
                    env={**run_env, "DJANGO_ROOT_URLCONF": "sandbox_merchant.server_urls"},
                    health_url=f"{sandbox_url}/healthz",
                )
                celery = [sys.executable, "-m", "celery", "-A", "config"]
                stack.start("run-worker", [*celery, "worker", "--loglevel=WARNING", "--concurrency=2"], env=run_env)
                schedule = f"--schedule={directory / 'celerybeat-schedule'}"
                stack.start("run-beat", [*celery, "beat", "--loglevel=WARNING", schedule], env=run_env)
                for repeat in range(config.repeat):
                    self.say(f"  repeat {repeat + 1}/{config.repeat}: {len(sessions)} sessions × {len(texts)} turns …")
                    result = chat_load(
                        base_url=base_url, sessions=sessions, texts=texts, think=config.think, timeout=config.timeout
                    )
                    row.ours.add(result.failed)
                    failed_total += result.failed
                    turns_total += result.turns
                    for reason, count in result.errors.items():
                        errors[reason] = errors.get(reason, 0) + count
                    if result.p95 is not None:
                        p95s.append(result.p95)
                    self.say(f"  failed {result.failed}/{result.turns}, p95 {result.p95 or 0:.2f} s")
        finally:
            import shutil

            shutil.rmtree(directory, ignore_errors=True)
        row.measure = (
            f"`make run` configuration, {len(sessions)} concurrent sessions × {len(texts)} turns: failed turns"
        )
        row.extra = f"p95 {Samples(p95s, 's').text()}; failed {failed_total}/{turns_total}" + (
            f" {errors}" if errors else ""
        )
