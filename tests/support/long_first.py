"""Tests marked `long` start first among the tests of their kind (a pytest plugin).

pytest-django runs the tests in three groups, as Django's runner does: those in a rolled-back transaction, then
the transactional ones (real commits, emptied afterwards), then those without a database. Within a group the
order is the files' order, and pytest-xdist (`--dist worksteal`) hands each worker a contiguous quarter of that
list and lets an idle worker take the back half of another's remaining tests. So a long test near the back of
a quarter is among the last to start, and the run ends with one worker still in it while the others wait: the
schemathesis explorations (7-14 s each, the longest CPU-bound tests of the suite) ran last in one worker, 14 s
after the other three had finished (2026-12-04; CPU idle 32-43 % over those seconds).

Moved to the front of their group, they start early in the worker whose quarter holds that front, and the short
tests behind them are what the others take. Only a few, CPU-bound tests carry the mark: moving every test that
waits on a server or a timer to the front made them run together and the run slower.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import pytest

Item = TypeVar("Item")


def long_first(
    items: Sequence[Item], *, group_of: Callable[[Item], int], is_long: Callable[[Item], bool]
) -> list[Item]:
    """The items in their order, but with each contiguous group's long items moved to its front (stably)."""
    ordered: list[Item] = []
    start = 0
    while start < len(items):
        end = start
        group = group_of(items[start])
        while end < len(items) and group_of(items[end]) == group:
            end += 1
        run = items[start:end]
        ordered.extend([item for item in run if is_long(item)] + [item for item in run if not is_long(item)])
        start = end
    return ordered


def _django_group(item: pytest.Item) -> int:
    """pytest-django's group for the item: 0 rolled back, 1 transactional, 2 no database (its own rules)."""
    from pytest_django.plugin import validate_django_db

    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    transactional = uses_db = False
    if marker is not None:
        transaction, reset_sequences, *_ = validate_django_db(marker)
        transactional, uses_db = bool(transaction or reset_sequences), True
    transactional = transactional or "transactional_db" in fixtures or "live_server" in fixtures
    uses_db = uses_db or "db" in fixtures
    return 1 if transactional else 0 if uses_db else 2


@pytest.hookimpl(trylast=True)  # after pytest-django has sorted the items into its groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items[:] = long_first(
        items, group_of=_django_group, is_long=lambda item: item.get_closest_marker("long") is not None
    )
