"""The few long CPU-bound tests start first among the tests of their group (tests/support/long_first.py)."""

from __future__ import annotations

from tests.support.long_first import _django_group, long_first


def test_each_groups_long_items_move_to_its_front_in_their_order_and_the_groups_stay_in_place():
    items = [("a", 0), ("B", 0), ("c", 1), ("D", 1), ("e", 1), ("F", 1), ("g", 2), ("H", 2)]  # upper case: long

    ordered = long_first(items, group_of=lambda item: item[1], is_long=lambda item: item[0].isupper())

    assert [name for name, _ in ordered] == ["B", "a", "D", "F", "c", "e", "H", "g"]


def test_nothing_marked_leaves_the_order_as_it_was():
    items = list(range(10))

    assert long_first(items, group_of=lambda item: item // 4, is_long=lambda item: False) == items


def test_in_this_run_every_long_test_comes_before_the_short_tests_of_its_group(request):
    assert request.config.pluginmanager.has_plugin("tests.support.long_first")
    items = request.session.items  # the order the run follows (each pytest-xdist worker collects the same)
    long_tests = [index for index, item in enumerate(items) if item.get_closest_marker("long")]
    if len(items) > 1000:  # the whole suite: the schemathesis explorations are in it, marked
        assert any("schemathesis" in items[index].nodeid for index in long_tests)

    for index in long_tests:
        group = _django_group(items[index])
        before = index - 1
        while before >= 0 and _django_group(items[before]) == group:
            assert items[before].get_closest_marker("long"), (
                f"{items[index].nodeid} runs after the short test {items[before].nodeid} of its group"
            )
            before -= 1
