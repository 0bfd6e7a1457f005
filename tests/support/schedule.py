"""The long tests first, spread over the pytest-xdist workers (a pytest plugin).

pytest-xdist's `worksteal` hands each worker a contiguous share of the collected tests, in collection order,
and an idle worker then takes half of the longest queue left. A test of 10-20 s (a whole corpus chunk, `make
run`, schemathesis, an outage) that happens to sit late in a share ran last, while the other workers had
finished: the run ended with one or two workers busy and the CPU half idle. Tests marked
`@pytest.mark.heavy(seconds)` (about what they take on a busy 2-core machine) are moved to the front of the
shares, the longest first, each into the share with the least heavy work so far; every other test keeps its
place in collection order, so module fixtures still see their module's tests together. Nothing but the order
changes, and every worker computes the same order (xdist checks that they collected the same tests).
"""

from __future__ import annotations

import pytest


def share_sizes(count: int, workers: int) -> list[int]:
    """How many tests xdist's worksteal sends each worker at the start (`WorkStealingScheduling.check_schedule`)."""
    sizes = []
    remaining = count
    for index in range(workers):
        size = remaining // (workers - index)
        sizes.append(size)
        remaining -= size
    return sizes


def heavy_first(items: list, weights: dict[int, float], workers: int) -> list:
    """`items` reordered: in each worker's share, its heavy tests first (`weights`: position -> seconds),
    then the others in their order."""
    sizes = share_sizes(len(items), workers)
    shares: list[list] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for position in sorted(weights, key=lambda position: (-weights[position], position)):
        roomy = [index for index in range(workers) if len(shares[index]) < sizes[index]]
        index = min(roomy, key=lambda index: (loads[index], index))
        shares[index].append(items[position])
        loads[index] += weights[position]
    others = iter(item for position, item in enumerate(items) if position not in weights)
    ordered = []
    for index, share in enumerate(shares):
        ordered += share + [next(others) for _ in range(sizes[index] - len(share))]
    return ordered


def _seconds(marker) -> float:
    return float(marker.kwargs.get("seconds", marker.args[0] if marker.args else 1))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workers = int(getattr(config, "workerinput", {}).get("workercount", 0))
    if workers < 2:
        return
    weights = {
        position: _seconds(marker)
        for position, item in enumerate(items)
        if (marker := item.get_closest_marker("heavy")) is not None
    }
    if weights:
        items[:] = heavy_first(items, weights, workers)
