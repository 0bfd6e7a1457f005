"""Row 9: audit events per second from N writer processes, each appending in its own transactions.

`python -m ordering.benchmark.audit_rate SECONDS` starts Django once, then serves the bench one measure per
line it reads on its stdin, `PROCESSES PER_TRANSACTION`: it forks that many writer processes, each opening its
own connection to the bench's database; once every one has connected it says so (`audit.benchmark.READY`) and
reads the moment to start at (`audit.benchmark.start_together` on the bench's side), and the writers call
`audit.services.audit_record` PER_TRANSACTION times per transaction (the appends of one unit of work, such as
a chat turn, commit together with it) for SECONDS from that moment; it prints how many they appended in all.
Events/s is that sum divided by SECONDS. `audit_record` is the product's own: inside the transaction it
buffers the events and writes them as one INSERT before the COMMIT, as it does in a chat turn or an order
step (docs/audit.md).

The writers are forked from a process that has started Django, as gunicorn's and Celery's processes are,
rather than started afresh: a fresh Python process spends most of a second of CPU importing the project
before it appends anything, and the row runs 11 writers per repeat. The measure starts after that anyway.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time


def writer(seconds: float, per_transaction: int, start_at: float) -> int:
    """Append from `start_at` for `seconds`, `per_transaction` events per transaction; how many were appended."""
    from django.db import transaction

    from audit.models import ActorType
    from audit.services import audit_record

    time.sleep(max(0.0, start_at - time.time()))
    end = time.monotonic() + seconds
    count = 0
    while time.monotonic() < end:
        with transaction.atomic():
            for _ in range(per_transaction):
                audit_record(
                    action="bench.event_appended",
                    actor_type=ActorType.SYSTEM,
                    target_type="bench",
                    target_id=count,
                    data={"writer": count},
                )
                count += 1
    return count


def _fork_writer(seconds: float, per_transaction: int) -> tuple[int, int, int]:
    """A writer process: connects, says so on its own pipe, waits for the start moment on another, appends and
    writes its count. Returns (its pid, the end the zygote reads from, the end it writes the start to)."""
    to_zygote_read, to_zygote_write = os.pipe()
    from_zygote_read, from_zygote_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the writer
        status = 1
        try:
            os.close(to_zygote_read)
            os.close(from_zygote_write)
            from django.db import connection

            connection.ensure_connection()
            os.write(to_zygote_write, b"connected\n")
            with os.fdopen(from_zygote_read) as start:
                start_at = float(start.readline())
            count = writer(seconds, per_transaction, start_at)
            os.write(to_zygote_write, f"{count}\n".encode())
            connection.close()
            status = 0
        finally:
            os._exit(status)  # never the zygote's exit handlers, nor its stdout buffers
    os.close(to_zygote_write)
    os.close(from_zygote_read)
    return pid, to_zygote_read, from_zygote_write


def measure(seconds: float, processes: int, per_transaction: int) -> int:
    """One measure: `processes` writers started together; the events they appended in all."""
    from django.db import connections

    from audit.benchmark import READY

    connections.close_all()  # a writer opens its own connection, never one shared with the zygote's
    writers = [_fork_writer(seconds, per_transaction) for _ in range(processes)]
    readers = [os.fdopen(read) for _, read, _ in writers]
    try:
        for reader in readers:
            if reader.readline().strip() != "connected":
                raise RuntimeError("a writer failed before it connected")
        print(READY, flush=True)
        start_at = sys.stdin.readline().strip()
        for _, _, start in writers:
            os.write(start, f"{start_at}\n".encode())
        for _, _, start in writers:
            os.close(start)
        counts = [reader.readline().strip() for reader in readers]
    finally:
        for _, _, start in writers:  # a writer still waiting for the start ends on the closed pipe
            with contextlib.suppress(OSError):
                os.close(start)
        for reader in readers:
            reader.close()
        failed = [pid for pid, _, _ in writers if os.waitpid(pid, 0)[1] != 0]
    if failed or not all(count.isdigit() for count in counts):
        raise RuntimeError(f"{len(failed) or 'some'} of {processes} audit writers failed")
    return sum(map(int, counts))


def _warm_up() -> None:
    """Load in the zygote what a writer's first commit loads otherwise (the seal task it enqueues on commit, the
    broker's transport): once for all writers, rather than in each and inside the measured window. No
    connection is opened here: each writer opens its own."""
    from audit.services import audit_record  # noqa: F401
    from audit.tasks import seal

    with seal.app.connection_for_write() as connection:
        connection.transport  # noqa: B018 - imports the transport's modules; connects nothing


def main() -> None:
    import django

    django.setup()
    _warm_up()
    seconds = float(sys.argv[1])
    for line in iter(sys.stdin.readline, ""):
        processes, per_transaction = map(int, line.split())
        print(measure(seconds, processes, per_transaction), flush=True)


if __name__ == "__main__":
    main()
