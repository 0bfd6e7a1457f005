"""`production_commits`: on_commit callbacks run where production would commit, in a test that rolls back
(a pytest plugin, loaded for the whole suite by tests/conftest.py).

A test with `db` runs inside a transaction that is rolled back at its end, so Django never commits and
`transaction.on_commit` callbacks never run: a flow confirmed in such a test would never be placed (the
saga is enqueued on commit). `django_capture_on_commit_callbacks` runs them only when its block ends,
not when the code under test would have committed, so answers built in between see too little.

With this fixture the test's own transaction (and pytest-django's, both marked `_from_testcase`) counts
as "no transaction", as in production's autocommit:
- an `atomic` block opened by the code under test is an outermost block; when it exits without an error,
  the callbacks registered inside it run at once, in order, as Django runs them after a real COMMIT
  (robust ones log their error and the next one runs);
- callbacks registered inside a block (or savepoint) that rolls back are dropped, as Django drops them;
- `on_commit` called outside any block of the code under test (where production, in autocommit, would
  run the callback at once) is kept, as Django keeps it, and runs when the next block of the code ends.
  Running it at once would be closer, but code reads Django's list of pending callbacks to know whether
  its transaction is still open (the audit log's buffer, audit/services.py), and that list must hold it.
What it cannot give: other connections (threads, a live server, a Celery worker process) still see none
of the test's rows. A test that needs that uses `transactional_db`.
"""

from __future__ import annotations

import logging

import pytest
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger("django.db.backends.base")


def _only_test_blocks(connection: BaseDatabaseWrapper) -> bool:
    """No atomic block of the code under test is open: production would be in autocommit here."""
    return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _run(func, robust: bool) -> None:
    if not robust:
        func()
        return
    try:
        func()
    except Exception as error:  # as Django's run_and_clear_commit_hooks: a robust callback's error is logged
        logger.exception("Error calling %s in on_commit() (%s).", getattr(func, "__qualname__", func), error)


@pytest.fixture
def production_commits(monkeypatch, db):
    """Run on_commit callbacks where production would commit, in a `db` test (see this module's docstring)."""
    original_exit = transaction.Atomic.__exit__
    original_on_commit = BaseDatabaseWrapper.on_commit
    running: list[bool] = []  # non-empty while pending callbacks run: as after a real COMMIT, in autocommit

    def on_commit(self, func, robust=False):
        if running and _only_test_blocks(self):
            _run(func, robust)  # registered by a callback after the "commit": runs at once, as in production
            return
        original_on_commit(self, func, robust)

    def exit_(self, exc_type, exc_value, traceback):
        connection = transaction.get_connection(self.using)
        result = original_exit(self, exc_type, exc_value, traceback)
        outermost = not getattr(self, "_from_testcase", False) and _only_test_blocks(connection)
        if exc_type is None and outermost and connection.in_atomic_block:
            # Production committed here: what is pending runs now, in order.
            running.append(True)
            try:
                while connection.run_on_commit:
                    _savepoints, func, robust = connection.run_on_commit.pop(0)
                    _run(func, robust)
            finally:
                running.pop()
        return result

    monkeypatch.setattr(BaseDatabaseWrapper, "on_commit", on_commit)
    monkeypatch.setattr(transaction.Atomic, "__exit__", exit_)
    yield
