"""The garbage collector of a long-lived server process: the heap it starts with frozen, young objects collected
less often.

A web process (gunicorn, after it loaded the site: config/gunicorn.py's post_worker_init) and a Celery pool
process (as it starts: worker_process_init, config/celery.py) hold a large heap that lives as long as they do:
Django, the apps, the compiled patterns of the assistant's reader, the merchant schemas. With CPython's default
thresholds (700, 10, 10) a chat turn, which makes tens of thousands of short-lived objects (rows, model
instances, JSON), set off about 15 young and 1-2 middle collections, and every few turns a full one that walked
that whole heap again: 2-3 ms of a turn's ~20 ms of CPU (docs/performance.md, "The CPU of a turn").

`heap_settle()` runs one full collection, `gc.freeze()`s what is left (a generation no later collection walks),
and collects the youngest generation every PROCESS_GC_GEN0_THRESHOLD new objects instead of every 700. Cycles made
after it are still collected, later. What was frozen is never freed, so it is called once per process, after
start-up, never per request. PROCESS_GC_GEN0_THRESHOLD=0 leaves the collector as CPython sets it. The test
processes do the same after collecting the tests (tests/support/gc_tuning.py).

This module imports nothing of Django: gunicorn's configuration and the Celery frame import it before any app.
"""

from __future__ import annotations

import gc
import os

# Measured on the seed turn (row 1 of `make bench`, 40 turns, 2 runs each way): 23.3/23.1 ms of CPU with the
# default collector, 20.2/21.6 ms with the start-up heap frozen and 20,000 (docs/performance.md).
DEFAULT_GEN0_THRESHOLD = 20_000


def gen0_threshold() -> int:
    """New objects between two collections of the youngest generation; 0 = CPython's own settings."""
    value = os.environ.get("PROCESS_GC_GEN0_THRESHOLD", "").strip()
    return int(value) if value else DEFAULT_GEN0_THRESHOLD


def heap_settle(**_: object) -> bool:
    """Freeze what this process holds now and collect young objects less often; False when switched off.

    Takes any keyword arguments, so that it can be connected to a Celery signal as it is."""
    threshold = gen0_threshold()
    if threshold <= 0:
        return False
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(threshold, older, oldest)
    return True


def heap_state() -> dict[str, int]:
    """What `heap_settle` left (`manage.py check_worker` prints it for a worker's process)."""
    return {"frozen_objects": gc.get_freeze_count(), "gen0_threshold": gc.get_threshold()[0]}
