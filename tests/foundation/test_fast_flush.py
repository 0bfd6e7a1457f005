"""The transactional tests' fast flush (tests/support/fast_flush.py) when a request is still running at teardown.

A live server can still be answering a request (a browser's last fetch, a sandbox call nobody waited for) when its
test ends. If that request holds a row lock the flush's DELETE needs, and then waits on a row the DELETE has already
taken, PostgreSQL ends one of them as a deadlock. When the flush lost, it used to leave every row behind for the next
test on the worker (seen as alice's demo cards in a test that expected one card). Here the deadlock is made on
purpose, with the flush as its victim, and the flush must still leave the tables empty.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection, connections

from tests.support.fast_flush import empty_tables

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row and row[0])


def test_a_flush_that_loses_a_deadlock_to_a_running_request_empties_the_tables_again():
    group = Group.objects.create(name="shoppers")
    user = User.objects.create(username="late-request")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        flush_pid = cursor.fetchone()[0]
    locked = threading.Event()
    outcome: dict[str, object] = {}

    def late_request() -> None:
        # A request that locks the user's row (auth_user is emptied after auth_group), waits until the flush is
        # blocked on that row, then wants the group's row, which the flush has already deleted: a deadlock.
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("UPDATE auth_user SET first_name = 'late' WHERE id = %s", [user.id])
                locked.set()
                deadline = time.monotonic() + 10
                while not _waiting_on_a_lock(flush_pid):
                    if time.monotonic() > deadline:
                        raise TimeoutError("the flush never waited on the request's lock")
                    time.sleep(0.02)
                cursor.execute("UPDATE auth_group SET name = 'late' WHERE id = %s", [group.id])
                time.sleep(0.2)  # the request still has work to do after the flush lost
                cursor.execute("COMMIT")
            outcome["request"] = "committed"
        except Exception as error:  # reported to the test below
            outcome["request"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=late_request)
    thread.start()
    assert locked.wait(10)

    emptied = empty_tables(connection)
    thread.join(15)

    # The request won the deadlock (the flush waited first, so its check ran first and it was the one ended) ...
    assert outcome.get("request") == "committed", outcome
    # ... and the flush still emptied both tables, the request's committed change included.
    assert emptied is not None and {"auth_group", "auth_user"} <= set(emptied)
    assert not Group.objects.exists()
    assert not User.objects.exists()
