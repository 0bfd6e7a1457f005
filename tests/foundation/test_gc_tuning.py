"""The test processes' garbage collector (tests/support/gc_tuning.py): the start-up heap frozen, the youngest
generation collected less often, and a test's own garbage cycles still collected."""

import gc
import weakref

from tests.support.gc_tuning import GEN0_THRESHOLD


def test_what_was_loaded_before_the_tests_is_frozen_and_collections_are_rarer():
    # the objects alive when collection ended (modules, classes, the collected tests) are out of the collector's walks
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold()[0] == GEN0_THRESHOLD


def test_a_cycle_made_by_a_test_is_still_collected():
    class Node:
        pass

    first, second = Node(), Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second

    gc.collect()

    assert gone() is None
