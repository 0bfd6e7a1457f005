"""How fast the deployment can append to the audit log: a measurement `make bench` calls.

`append_rate(processes=N, seconds=S, events_per_transaction=K)` starts N fresh Python processes (as N
web or worker processes would be), each appending events with `audit_record`, K per transaction
(default 1), for S seconds after a common start; it returns the events committed per second by all
of them together. The children use this process's environment (DATABASE_URL, DJANGO_SETTINGS_MODULE).
It writes real events to that database, so run it against a benchmark database, never production.

`seal_rate()` then seals whatever is still unsealed (as the sealer task does) and returns how many
events it sealed and how many per second, so a run shows whether the chain keeps up with the appends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

ACTION = "bench.appended"


def _child(start_at: float, stop_at: float, index: int, per_transaction: int) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from audit.services import audit_record

    # Appends are measured alone; sealing is measured by seal_rate (and runs in the workers).
    settings.AUDIT_SEAL_ON_COMMIT = False
    audit_record(action="bench.warmed_up", actor_type="system", actor_id=f"bench-{index}")
    while time.time() < start_at:
        time.sleep(0.001)
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

    # Far enough ahead for every child to start Django and open its connection before the clock runs.
    start_at = time.time() + 4.0 + 0.5 * processes
    stop_at = start_at + seconds
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "")}
    environment["DJANGO_SETTINGS_MODULE"] = environment["DJANGO_SETTINGS_MODULE"] or settings.SETTINGS_MODULE
    children = [
        # Our own interpreter running our own module with numbers we computed: no outside input.
        subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-c",
                "import audit.benchmark as b; "
                f"print(b._child({start_at}, {stop_at}, {index}, {events_per_transaction}))",
            ],
            cwd=str(BASE_DIR),
            env=environment,
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(processes)
    ]
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
