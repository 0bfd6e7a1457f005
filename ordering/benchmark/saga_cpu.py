"""A placed order's CPU by role, without Celery (docs/performance.md, "Where a placed order's CPU goes").

    DJANGO_SETTINGS_MODULE=config.settings.bench python -m ordering.benchmark.saga_cpu --orders 30 --repeat 3 \\
        [--profile var/saga.prof] [--sandbox-profile var/sandbox-prof]

Sets up as `make bench` does (its own database bench_main, Redis index, the sandbox merchant under gunicorn with
2 processes, production settings), brings `--orders` customers each to a confirmed order (the Confirm request's
task goes to a queue no worker reads), then runs every flow one after the other through the task's body,
`ordering.saga.engine.flow_run`, in this process, and prints the CPU per placed order: this process
(`time.process_time()`), the sandbox's gunicorn processes and the bench database's PostgreSQL backends (from
/proc, `ordering.benchmark.cpu`). `--profile` runs the last repeat under cProfile with a CPU clock;
`--sandbox-profile DIR` starts the sandbox with a gunicorn config that profiles each of its processes the same
way, written to DIR when they stop. Compare two versions by running them alternately: the machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

_SANDBOX_PROFILE_CONFIG = """
import cProfile, os, threading, time
from config.gunicorn import *  # noqa: F401,F403 - the bench's sandbox configuration, plus a profiler per thread
from config import gunicorn as _base

_profilers = []
_local = threading.local()


def post_worker_init(worker):
    hook = getattr(_base, "post_worker_init", None)
    if hook:
        hook(worker)
    application = worker.wsgi

    switch = os.path.join(os.environ["SAGA_CPU_SANDBOX_PROFILE"], "on")

    def profiled(environ, start_response):
        if not os.path.exists(switch):  # only while the harness runs its flows, not while it prepares them
            return application(environ, start_response)
        profiler = getattr(_local, "profiler", None)
        if profiler is None:
            profiler = _local.profiler = cProfile.Profile(time.thread_time)
            _profilers.append(profiler)
        profiler.enable()
        try:
            return application(environ, start_response)
        finally:
            profiler.disable()

    worker.wsgi = profiled


def worker_exit(server, worker):
    directory = os.environ["SAGA_CPU_SANDBOX_PROFILE"]
    for index, profiler in enumerate(_profilers):
        profiler.dump_stats(os.path.join(directory, f"sandbox-{os.getpid()}-{index}.prof"))
"""


_WORKER_PROFILE_APP = """
import cProfile, os, time
from celery import signals
from ordering.benchmark.celery_app import app  # noqa: F401 - the bench's workers' app, plus a profiler per process

_directory = os.environ["SAGA_CPU_WORKER_PROFILE"]
_switch = os.path.join(_directory, "on")
_profiler = []


@signals.task_prerun.connect
def _prerun(**_):
    if os.path.exists(_switch):
        if not _profiler:
            _profiler.append(cProfile.Profile(time.process_time))
        _profiler[0].enable()


@signals.task_postrun.connect
def _postrun(**_):
    if _profiler:
        _profiler[0].disable()


@signals.worker_process_shutdown.connect
def _dump(**_):
    if _profiler:
        _profiler[0].dump_stats(os.path.join(_directory, f"worker-{os.getpid()}.prof"))
"""


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", default="")
    parser.add_argument("--sandbox-profile", default="")
    parser.add_argument("--celery", type=int, default=0, help="run the flows on a Celery worker of N processes")
    parser.add_argument("--worker-profile", default="", help="with --celery: profile its processes into DIR")
    options = parser.parse_args(argv)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from config import process_heap
    from ordering.apps import import_turn_modules_before_fork
    from ordering.benchmark import cpu, orders
    from ordering.benchmark import environment as env
    from ordering.benchmark.inprocess import eager
    from ordering.management.commands.bench import Bench, Config
    from ordering.models import FlowStep, OrderFlow
    from ordering.saga.engine import flow_run

    config = Config(
        repeat=options.repeat, sessions=0, turns=0, think=0, run_sessions=0, orders=options.orders, peer_turns=0,
        audit_seconds=0, audit_batch=1, web_workers=None, turn_workers=0, timeout=60, rows=("4",),
    )  # fmt: skip
    bench = Bench(SimpleNamespace(say=print, verbosity=1), config)  # type: ignore[arg-type]
    if options.sandbox_profile:
        profile_dir = Path(options.sandbox_profile).resolve()
        profile_dir.mkdir(parents=True, exist_ok=True)
        config_path = env.BENCH_DIR / "gunicorn_profile.py"
        env.BENCH_DIR.mkdir(parents=True, exist_ok=True)
        config_path.write_text(_SANDBOX_PROFILE_CONFIG)
        os.environ["SAGA_CPU_SANDBOX_PROFILE"] = str(profile_dir)
        gunicorn_argv = env.gunicorn_argv

        def profiled_argv(port: int, *, workers: int | None = None) -> list[str]:
            argv = gunicorn_argv(port, workers=workers)
            argv[argv.index("config/gunicorn.py")] = str(config_path)
            return argv

        env.gunicorn_argv = profiled_argv  # type: ignore[assignment]

    with contextlib.ExitStack() as stack:
        env.redis_flush()
        stack.callback(env.redis_flush)
        bench.database_url = stack.enter_context(env.main_database(verbosity=0))
        bench.prepare_data()
        bench.web_port = env.free_port()
        bench.sandbox_url = bench.sandbox_start(stack)
        bench.point_at_sandbox()
        import_turn_modules_before_fork()
        process_heap.heap_settle()
        sandbox_pid = bench.sandbox_process.popen.pid if bench.sandbox_process else 0
        groups = {sandbox_pid: "sandbox"}
        worker_switch = Path(options.worker_profile or "/nonexistent") / "on"
        if options.celery:
            worker_env = bench.server_env()
            argv = env.celery_argv(concurrency=options.celery, queues="default", name="sagacpu")
            if options.worker_profile:
                directory = Path(options.worker_profile).resolve()
                directory.mkdir(parents=True, exist_ok=True)
                (env.BENCH_DIR / "celery_profile_app.py").write_text(_WORKER_PROFILE_APP)
                worker_env["PYTHONPATH"] = f"{env.BENCH_DIR}:{settings.BASE_DIR}"
                worker_env["SAGA_CPU_WORKER_PROFILE"] = str(directory)
                argv[argv.index("ordering.benchmark.celery_app")] = "celery_profile_app"
            worker = stack.enter_context(env.Stack()).start("sagacpu-worker", argv, env=worker_env)
            groups[worker.popen.pid] = "worker"
            orders.workers_ready()
        # Warm-up: a few orders first (connections, the limiter's lease, the sandbox's first requests).
        rounds = [("warm", 3)] + [(f"r{index}", options.orders) for index in range(options.repeat)]
        for index, (name, count) in enumerate(rounds):
            users = bench.users(count, f"s{name}x")
            prepared = orders.previews_prepare(users)
            ids = [flow_id for _chat, _hash, flow_id in prepared]
            if not options.celery:
                with eager(False):
                    for chat, preview_hash, _flow_id in prepared:
                        if chat.confirm(preview_hash) != 202:
                            raise RuntimeError("the confirmation did not answer 202")
            connection.close()  # the measure's own connection: its backend is counted from its first statement
            profile = options.profile and index == len(rounds) - 1 and not options.celery
            profiler = cProfile.Profile(time.process_time) if profile else None
            sampler = cpu.CpuByRole(groups=groups, database=env.MAIN_DATABASE)
            sampler.start()
            switch = Path(options.sandbox_profile) / "on"
            if options.sandbox_profile and name != "warm":
                switch.touch()
            if options.worker_profile and name != "warm":
                worker_switch.touch()
            ours = time.process_time()
            measure_started = timezone.now()
            if profiler:
                profiler.enable()
            if options.celery:
                placement = orders.placement_measure(prepared)
                print(f"  {placement.placed}/{count} placed in {placement.seconds:.2f} s", flush=True)
            else:
                for flow_id in ids:
                    flow_run(flow_id=flow_id)
            if profiler:
                profiler.disable()
            ours = time.process_time() - ours
            switch.unlink(missing_ok=True)
            worker_switch.unlink(missing_ok=True)
            by_role = sampler.stop()
            if options.celery:
                ours = by_role.get("worker", 0.0)
            placed = OrderFlow.objects.filter(pk__in=ids, status="placed").count()
            if name == "warm":
                continue
            per = 1000 / max(placed, 1)
            # What the flows asked for: step rows (attempts) and the sandbox's requests (retries and replays count).
            steps = FlowStep.objects.filter(flow_id__in=ids).count()
            # the sandbox's own request log, read by its table (no module of ours imports the sandbox: the boundary
            # test; the bench runs it on the same database)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM sandbox_merchant_receivedrequest WHERE received_at >= %s", [measure_started]
                )
                requests = cursor.fetchone()[0]
            sandbox, postgres = by_role.get("sandbox", 0.0), by_role.get("postgres", 0.0)
            print(
                f"{name}: {placed}/{count} placed; ms of CPU per placed order: worker {ours * per:.1f}, "
                f"sandbox {sandbox * per:.1f}, postgres {postgres * per:.1f}, "
                f"summed {(ours + sandbox + postgres) * per:.1f}{' (profiled)' if profile else ''}; per placed order "
                f"{steps / max(placed, 1):.2f} step rows, {requests / max(placed, 1):.2f} sandbox requests",
                flush=True,
            )
            if profiler:
                profiler.dump_stats(options.profile)
                import pstats

                calls = pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]
                print(f"  profile written to {options.profile}: {calls:,} function calls", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    os.environ.setdefault("LOG_LEVEL", "ERROR")  # as the bench's workers run
    main(sys.argv[1:])
