"""The garbage collector of a test process: what was loaded before the first test is frozen, and it runs less
often (a pytest plugin).

A test process holds a large, long-lived heap (Django, the apps, the collected tests, hypothesis and
schemathesis, the sandbox's compiled reads), and CPython's collector walks it again and again: with the
default thresholds (700, 10, 10) a worker collected ~4,700 times over a third of the suite, 9-10 % of its CPU.
After collection this plugin runs one full collection and then `gc.freeze()`s what is left, which moves it to
a generation no later collection walks, and collects the youngest generation every GEN0_THRESHOLD new
objects instead of every 700. Cycles made by tests are still collected, later; nothing is collected that
would not have been. Measured on four suite folders (617 tests, two workers, back to back): GC CPU 5.0 s ->
2.6-2.8 s, the processes' whole CPU about 2 s less.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 20_000


def pytest_collection_finish(session) -> None:
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, older, oldest)
