"""`production_commits` (tests/support/commits.py) runs on_commit callbacks where production would commit (#18)."""

from __future__ import annotations

import pytest
from django.db import transaction

pytestmark = pytest.mark.usefixtures("production_commits")


def test_a_callback_runs_when_the_outermost_block_of_the_code_exits_not_before():
    ran = []
    with transaction.atomic():
        with transaction.atomic():
            transaction.on_commit(lambda: ran.append("inner"))
        assert ran == []  # a nested block is a savepoint: nothing is committed yet
        transaction.on_commit(lambda: ran.append("outer"))
        assert ran == []
    assert ran == ["inner", "outer"]


def test_outside_any_block_of_the_code_a_callback_waits_for_the_next_block_to_end():
    ran = []
    transaction.on_commit(lambda: ran.append("registered outside"))
    assert ran == []
    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("inside"))
    assert ran == ["registered outside", "inside"]


def test_a_block_that_rolls_back_drops_its_callbacks():
    ran = []
    with pytest.raises(ValueError), transaction.atomic():
        transaction.on_commit(lambda: ran.append("never"))
        raise ValueError("rolled back")
    with transaction.atomic():
        try:
            with transaction.atomic():
                transaction.on_commit(lambda: ran.append("savepoint rolled back"))
                raise ValueError("rolled back to the savepoint")
        except ValueError:
            pass
        transaction.on_commit(lambda: ran.append("kept"))
    assert ran == ["kept"]


def test_a_callback_registered_by_a_callback_runs_too_and_a_robust_error_does_not_stop_the_next():
    ran = []

    def fails():
        raise RuntimeError("a robust callback failed")

    with transaction.atomic():
        transaction.on_commit(lambda: transaction.on_commit(lambda: ran.append("chained")))
        transaction.on_commit(fails, robust=True)
        transaction.on_commit(lambda: ran.append("after the failure"))
    assert ran == ["chained", "after the failure"]


def test_a_decorated_function_commits_on_return():
    ran = []

    @transaction.atomic
    def service():
        transaction.on_commit(lambda: ran.append("committed"))
        assert ran == []

    service()
    assert ran == ["committed"]
