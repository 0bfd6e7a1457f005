"""How fast the deployment can append to the audit log: a measurement `make bench` calls.

`append_rate(processes=N, seconds=S, events_per_transaction=K)` starts N fresh Python processes (as N
web or worker processes would be), each appending events with `audit_record`, K per transaction
(default 1), for S seconds after a common start (`start_together`: as soon as every one of them has started
Django and written its first event); it returns the events committed per second by all of them together.
The children use this process's environment (DATABASE_URL, DJANGO_SETTINGS_MODULE). It writes real events
to that database, so run it against a benchmark database, never production.

`seal_rate()` then seals whatever is still unsealed (as the sealer task does) and returns how many
events it sealed and how many per second, so a run shows whether the chain keeps up with the appends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

ACTION = "bench.appended"
READY = "ready to start"
# Between the start the parent sends and the moment it names: enough for the line to reach every child.
START_MARGIN_SECONDS = 0.2


def start_together(children: list[subprocess.Popen], *, timeout: float = 120.0) -> float:
    """Wait until every child (started with text pipes for stdin and stdout) has said `wait_for_start()`, then
    send them all one wall-clock moment to start at, a moment ahead; returns it.

    A fixed start a few seconds ahead either waits for nothing or, on a busy machine, opens its window before
    the last child has started Django."""
    deadline = time.monotonic() + timeout
    for child in children:
        if child.stdin is None or child.stdout is None:
            raise ValueError("start_together needs children with stdin=PIPE and stdout=PIPE (text)")
        while True:
            line = child.stdout.readline()
            if not line:
                raise RuntimeError(f"a benchmark process ended before it was ready (exit code {child.wait()})")
            if line.strip() == READY:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"a benchmark process was not ready within {timeout:.0f} s")
    start_at = time.time() + START_MARGIN_SECONDS
    for child in children:
        if child.stdin is not None:
            child.stdin.write(f"{start_at}\n")
            child.stdin.flush()
    return start_at


def wait_for_start() -> float:
    """In a child of `start_together`: say it is ready, read the moment to start at, and sleep until it."""
    print(READY, flush=True)
    start_at = float(sys.stdin.readline())
    time.sleep(max(0.0, start_at - time.time()))
    return start_at


def _child(seconds: float, index: int, per_transaction: int) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from audit.services import audit_record

    # Appends are measured alone; sealing is measured by seal_rate (and runs in the workers).
    settings.AUDIT_SEAL_ON_COMMIT = False
    audit_record(action="bench.warmed_up", actor_type="system", actor_id=f"bench-{index}")
    stop_at = wait_for_start() + seconds
    done = 0
    while time.time() < stop_at:
        with transaction.atomic():
            for _ in range(per_transaction):
                audit_record(
                    action=ACTION,
                    actor_type="system",
                    actor_id=f"bench-{index}",
                    target_type="bench",
                    target_id=done,
                    data={"n": done, "process": index},
                )
                done += 1
    return done


def append_rate(processes: int, seconds: float, events_per_transaction: int = 1) -> float:
    """Audit events committed per second by `processes` concurrent processes over `seconds`.

    `events_per_transaction=1` commits each event alone (the worst case: a commit per event);
    a chat turn writes its 6-7 events inside the transactions of the changes they describe.
    """
    from django.conf import settings

    from config.env import BASE_DIR

    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "")}
    environment["DJANGO_SETTINGS_MODULE"] = environment["DJANGO_SETTINGS_MODULE"] or settings.SETTINGS_MODULE
    children = [
        # Our own interpreter running our own module with numbers we computed: no outside input.
        subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-c",
                f"import audit.benchmark as b; print(b._child({seconds}, {index}, {events_per_transaction}))",
            ],
            cwd=str(BASE_DIR),
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(processes)
    ]
    start_together(children)
    total = 0
    for child in children:
        output, _ = child.communicate(timeout=seconds + 120)
        if child.returncode != 0:
            raise RuntimeError(f"a benchmark process failed (exit code {child.returncode})")
        total += int(output.strip().splitlines()[-1])
    return total / seconds


def seal_rate() -> tuple[int, float]:
    """Seal everything unsealed now; returns (events sealed, events sealed per second)."""
    from audit.services import audit_seal

    started = time.perf_counter()
    sealed = audit_seal()
    elapsed = time.perf_counter() - started
    return sealed, (sealed / elapsed if elapsed > 0 else 0.0)
