"""The test harness keeps its PostgreSQL sessions where a server would (a pytest plugin).

Two parts of the harness closed a PostgreSQL connection after a moment's use, so the next query opened a new
session: a fork, authentication and a cold catalog cache in PostgreSQL, psycopg's connect and Django's set-up
here (about 1,700 sessions for tests/{merchant_client,sandbox_merchant,contract,foundation,conversations}):
- pytest-django's live server (Django's `ThreadedWSGIServer`) answers each HTTP connection in a new thread and
  closes that thread's database connections when it ends: a new session for every request sent on a new
  socket (the sandbox merchant, schemathesis, webhooks, our API): 4 in 5 of those sessions.
- Django's `TransactionTestCase` closes the test's connections after each transactional test, against a
  setting lost in a rolled-back transaction; on PostgreSQL, in autocommit, Django sets the time zone and role
  outside any transaction, so there is nothing to lose.

Instead an idle connection of those two (autocommit on, no transaction open, no error since its last commit,
younger than `CONN_MAX_AGE`) is put aside, and the next connection this process opens to the same database
with the same parameters takes it: what a production server's thread does with `CONN_MAX_AGE` (60 s by default).
Django still runs its connection set-up on it and, with `CONN_HEALTH_CHECKS`, checks it with a `SELECT 1` before
its first query, as for a persistent connection at the start of a request. A session put aside holds no lock and
no transaction, so the flush after a transactional test never waits for it. At most `IDLE_PER_DATABASE` are
kept per database; they are closed before pytest-django drops the test database. Pools (`OPTIONS["pool"]`),
`CONN_MAX_AGE` 0, other databases than PostgreSQL, and every connection the code under test or a test closes
itself are closed as before.
"""

from __future__ import annotations

import select
import threading
import time
from collections.abc import Hashable
from typing import Any

# The live server rarely has more than a couple of requests in flight (a client's call and its webhook, a
# sleeping fault and the next call); more idle sessions than this per worker would only crowd PostgreSQL's
# max_connections, which the workers (and other runs on the machine) share.
IDLE_PER_DATABASE = 4

_lock = threading.Lock()
_keeping = [True]  # until the test database is dropped: a server thread that ends after that closes its session
_idle: dict[tuple, list[tuple[Any, float | None]]] = {}  # key -> [(psycopg connection, close_at)], newest last
_originals: dict[str, Any] = {}


def _key(settings_dict: dict, conn_params: dict) -> tuple:
    """What a connection was made with. The cursor factory is left out: django-prometheus makes a new class for
    each connect (it is set again on the connection taken)."""
    options = settings_dict["OPTIONS"]
    params = tuple(
        sorted(
            (name, value if isinstance(value, Hashable) else repr(value))
            for name, value in conn_params.items()
            if name != "cursor_factory"
        )
    )
    return params, options.get("isolation_level"), options.get("assume_role")


def _idle_now(raw) -> bool:
    from psycopg.pq import ConnStatus, TransactionStatus

    return (
        not raw.closed
        and raw.info.status == ConnStatus.OK
        and raw.info.transaction_status == TransactionStatus.IDLE
        # The server sent something unasked (its "terminating connection" before it closed the socket).
        and not select.select([raw.fileno()], [], [], 0)[0]
    )


def connection_release(wrapper) -> None:
    """Put `wrapper`'s connection aside for the next connect of this process if it is idle, else close it."""
    raw = wrapper.connection
    keep = (
        raw is not None
        and _keeping[0]
        and wrapper.vendor == "postgresql"
        and wrapper.pool is None
        and not wrapper.allow_thread_sharing
        and wrapper.settings_dict["CONN_MAX_AGE"] != 0
        and wrapper.settings_dict["AUTOCOMMIT"]
        and wrapper.autocommit
        and not wrapper.in_atomic_block
        and not wrapper.errors_occurred
        and (wrapper.close_at is None or time.monotonic() < wrapper.close_at)
        and _idle_now(raw)
    )
    if keep:
        wrapper.validate_thread_sharing()
        try:
            key = _key(wrapper.settings_dict, wrapper.get_connection_params())
        except AttributeError:
            # A live server's request thread ending while its test tears its settings down (seen once in CI:
            # `settings.USE_TZ` gone mid-swap): the connection is closed instead of kept.
            wrapper.close()
            return
        with _lock:
            kept = _idle.setdefault(key, [])
            keep = _keeping[0] and len(kept) < IDLE_PER_DATABASE
            if keep:
                kept.append((raw, wrapper.close_at))
    if keep:
        wrapper.run_on_commit = []
        wrapper.connection = None
    else:
        wrapper.close()


def _connection_take(settings_dict: dict, conn_params: dict) -> tuple[Any, float | None] | None:
    key = _key(settings_dict, conn_params)
    while True:
        with _lock:
            kept = _idle.get(key)
            if not kept:
                return None
            raw, close_at = kept.pop()
        if (close_at is None or time.monotonic() < close_at) and _idle_now(raw):
            return raw, close_at
        raw.close()


def idle_connections_close() -> None:
    """Close every connection put aside (before a test database is dropped, and at the end of the run)."""
    with _lock:
        kept = [raw for connections in _idle.values() for raw, _ in connections]
        _idle.clear()
    for raw in kept:
        raw.close()


def _get_new_connection(self, conn_params):
    taken = _connection_take(self.settings_dict, conn_params) if self.pool is None else None
    if taken is None:
        return _originals["get_new_connection"](self, conn_params)
    raw, close_at = taken
    from psycopg import IsolationLevel

    # What Django's get_new_connection sets besides connecting (the connection itself has it already).
    level = self.settings_dict["OPTIONS"].get("isolation_level")
    self.isolation_level = IsolationLevel.READ_COMMITTED if level is None else IsolationLevel(level)
    raw.cursor_factory = conn_params["cursor_factory"]
    self.close_at = close_at  # its age counts from when it was opened
    self.health_check_done = False  # checked before its first query, as a persistent connection is
    return raw


def connections_release_all() -> None:
    """`connection_release` for each connection this thread opened: what a thread of the harness does when it ends
    (instead of `connections.close_all()`)."""
    from django.db import connections

    for wrapper in connections.all(initialized_only=True):
        connection_release(wrapper)


def _live_server_close_connections(self) -> None:
    connections_release_all()


def _should_reload_connections(self) -> bool:
    connections_release_all()
    return False


def _destroy_test_db(self, *args, **kwargs):
    # PostgreSQL refuses to drop a database with sessions; a live server thread still answering a browser's
    # kept-alive socket may end after this, and closes its session then.
    with _lock:
        _keeping[0] = False
    idle_connections_close()
    return _originals["destroy_test_db"](self, *args, **kwargs)


def _drop_test_database(self, test_database_name, verbosity) -> None:
    # A session still open on the test database (a live-server thread ending as the browser's socket closes, a
    # response nobody read) made the drop fail with a warning and left the database behind; it is ours, and the
    # run is over: PostgreSQL 13+ ends such sessions itself and then drops it.
    self.connection.close_pool()  # as Django's own
    with self._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE {self.connection.ops.quote_name(test_database_name)} WITH (FORCE)")


def _patched() -> list[tuple[Any, str, Any]]:
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.db.backends.base.creation import BaseDatabaseCreation
    from django.db.backends.postgresql.base import DatabaseWrapper
    from django.db.backends.postgresql.creation import DatabaseCreation as PostgresCreation
    from django.test import TransactionTestCase

    return [
        (DatabaseWrapper, "get_new_connection", _get_new_connection),
        (ThreadedWSGIServer, "_close_connections", _live_server_close_connections),
        (TransactionTestCase, "_should_reload_connections", _should_reload_connections),
        (BaseDatabaseCreation, "destroy_test_db", _destroy_test_db),
        (PostgresCreation, "_destroy_test_db", _drop_test_database),
    ]


def pytest_configure(config) -> None:
    try:
        patches = _patched()
    except ImportError:  # no psycopg: nothing here talks to PostgreSQL
        return
    _keeping[0] = True
    for owner, name, replacement in patches:
        _originals[name] = owner.__dict__[name]
        setattr(owner, name, replacement)


def pytest_unconfigure(config) -> None:
    idle_connections_close()
    if _originals:
        for owner, name, _ in _patched():
            setattr(owner, name, _originals[name])
        _originals.clear()
