"""Empty the tables after a transactional test in a few milliseconds instead of Django's `flush` (a pytest plugin).

Tests that need real commits (`transactional_db`, `live_server`, the sandbox over HTTP, Celery workers) leave
rows behind; Django's TransactionTestCase then runs `flush`: a TRUNCATE of every table (with the audit app's
append-only triggers dropped and put back around it) and the post_migrate signal, which recreates every
content type and permission. That took 1.5-3.5 s per test here, longer than most tests themselves.

On PostgreSQL this plugin does the same in one round trip: it finds the tables that have rows and DELETEs
from them with `session_replication_role = replica`, which skips triggers (the foreign-key checks and the
audit log's append-only triggers) for that statement only. Content types, permissions and the migration
history are kept: post_migrate would only have recreated them. The result is what `flush` leaves: every
other table empty, sequences not reset. It needs a superuser (as the test database owner is in CI and
here); without one, and on SQLite, Django's `flush` runs as before.

A request the live server is still answering when its test ends (a browser's last fetch, a sandbox call the test did
not wait for) can hold row locks that the DELETE needs while it waits on one the DELETE holds: PostgreSQL then ends
one of the two as a deadlock. When that is the DELETE, the tables are probed and emptied again (a few times, a moment
apart) instead of leaving rows for the next test on the worker.
"""

from __future__ import annotations

import time

from django.core.management import call_command
from django.db import DatabaseError, OperationalError, connections
from django.test import TransactionTestCase

# What Django's flush re-creates at once through post_migrate, and the migration history it keeps.
KEPT_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})
# PostgreSQL's deadlock_detected: the DELETE lost to a transaction that is still running; it ends in a moment.
DEADLOCK = "40P01"
ATTEMPTS = 5

_django_fixture_teardown = TransactionTestCase._fixture_teardown


def empty_tables(connection) -> list[str] | None:
    """Delete every row of every table but KEPT_TABLES; the tables emptied, or None when this cannot be done."""
    if connection.vendor != "postgresql":
        return None
    attempt = 1
    while True:
        try:
            return _empty_once(connection)
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != DEADLOCK or attempt == ATTEMPTS:
                raise
        time.sleep(0.1 * attempt)
        attempt += 1


def _empty_once(connection) -> list[str] | None:
    tables = sorted(
        set(connection.introspection.django_table_names(only_existing=True, include_views=False)) - KEPT_TABLES
    )
    if not tables:
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        probes = (f"SELECT {index} WHERE EXISTS (SELECT 1 FROM {quote(table)})" for index, table in enumerate(tables))
        cursor.execute(" UNION ALL ".join(probes))
        filled = [tables[row[0]] for row in cursor.fetchall()]
        if not filled:
            return []
        try:
            cursor.execute("SET session_replication_role = replica")
        except DatabaseError:
            return None  # not a superuser: Django's flush does it
        try:
            # One implicit transaction (simple query protocol): all of them or none.
            cursor.execute("; ".join(f"DELETE FROM {quote(table)}" for table in filled))
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
    return filled


def _fixture_teardown(self: TransactionTestCase) -> None:
    if self.available_apps is not None or self.serialized_rollback:
        _django_fixture_teardown(self)
        return
    for db_name in self._databases_names(include_mirrors=False):
        if empty_tables(connections[db_name]) is None:
            call_command(
                "flush", verbosity=0, interactive=False, database=db_name, reset_sequences=False, allow_cascade=False
            )


def pytest_configure(config) -> None:
    TransactionTestCase._fixture_teardown = _fixture_teardown


def pytest_unconfigure(config) -> None:
    TransactionTestCase._fixture_teardown = _django_fixture_teardown
