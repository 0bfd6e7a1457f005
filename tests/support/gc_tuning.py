"""The garbage collector of a test process: what was loaded before the first test is frozen, and it runs less
often (a pytest plugin).

A test process holds a large, long-lived heap (Django, the apps, the collected tests, hypothesis and
schemathesis, the sandbox's compiled reads), and CPython's collector walks it again and again: with the
default thresholds (700, 10, 10) a worker collected ~4,700 times over a third of the suite, 9-10 % of its CPU.
After collection this plugin runs one full collection and then `gc.freeze()`s what is left, which moves it to
a generation no later collection walks, and collects the youngest generation every GEN0_THRESHOLD new
objects instead of every 700. Cycles made by tests are still collected, later (tests/foundation/test_gc_tuning.py).
What was frozen is never collected, even if it becomes garbage: a test process lives for one run, and what it
loaded before its first test lives that long anyway. Measured over the whole suite, back to back: the workers'
GC 10.3 -> 5.5 s of CPU, the run 159.8 -> 152.7 s. Server processes do the same as they start
(config/process_heap.py, whose PROCESS_GC_GEN0_THRESHOLD this plugin follows).
"""

from __future__ import annotations

from config.process_heap import gen0_threshold, heap_settle

GEN0_THRESHOLD = gen0_threshold()


def pytest_collection_finish(session) -> None:
    heap_settle()
