"""tests/support/schedule.py: the heavy tests open the xdist workers' shares, spread by their seconds."""

from __future__ import annotations

from tests.support.schedule import heavy_first, share_sizes


def test_the_shares_are_the_sizes_worksteal_sends():
    assert share_sizes(10, 4) == [2, 2, 3, 3]
    assert share_sizes(1722, 4) == [430, 430, 431, 431]
    assert sum(share_sizes(7, 3)) == 7


def test_heavy_tests_open_the_shares_longest_first_into_the_lightest_share():
    items = [f"t{number}" for number in range(12)]
    weights = {9: 10.0, 10: 8.0, 11: 7.0, 1: 3.0, 2: 2.0}

    ordered = heavy_first(items, weights, 3)

    shares = [ordered[0:4], ordered[4:8], ordered[8:12]]
    assert [share[0] for share in shares] == ["t9", "t10", "t11"]  # one long test each
    # then each into the lightest share so far: 3 s to the 7 s share, 2 s to the 8 s one
    assert shares[2][:2] == ["t11", "t1"]
    assert shares[1][:2] == ["t10", "t2"]
    assert shares[0] == ["t9", "t0", "t3", "t4"]
    # the others keep their order, and nothing is lost or doubled
    assert [item for item in ordered if item not in {"t9", "t10", "t11", "t1", "t2"}] == [
        "t0", "t3", "t4", "t5", "t6", "t7", "t8"
    ]  # fmt: skip
    assert sorted(ordered) == sorted(items)


def test_without_heavy_tests_the_order_is_unchanged():
    items = list(range(9))
    assert heavy_first(items, {}, 2) == items
