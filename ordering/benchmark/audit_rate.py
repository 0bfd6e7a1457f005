"""Row 9: audit events per second from N writer processes, each appending in its own transactions.

Every writer is its own process (`python -m ordering.benchmark.audit_rate SECONDS PER_TRANSACTION`) on the
bench's database; they start together once every one has started Django and connected
(`audit.benchmark.start_together`: the bench sends them the moment on their stdin), call
`audit.services.audit_record` PER_TRANSACTION times per transaction (the appends of one unit of work, such
as a chat turn, commit together with it) for SECONDS, and print how many they appended. Events/s is the sum
over the writers divided by SECONDS. `audit_record` is the product's own: inside the transaction it
buffers the events and writes them as one INSERT before the COMMIT, as it does in a chat turn or an
order step (docs/audit.md).
"""

from __future__ import annotations

import sys
import time


def writer(seconds: float, per_transaction: int = 1) -> int:
    from django.db import connection, transaction

    from audit.benchmark import wait_for_start
    from audit.models import ActorType
    from audit.services import audit_record

    connection.ensure_connection()
    wait_for_start()
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


def main() -> None:
    import django

    django.setup()
    per_transaction = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    print(writer(float(sys.argv[1]), per_transaction))


if __name__ == "__main__":
    main()
