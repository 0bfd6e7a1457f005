"""The test harness keeps its idle PostgreSQL sessions for the next connect (tests/support/kept_connections.py), and
only idle, healthy ones. Real PostgreSQL, pytest-django's live server over HTTP."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from django.db import connection, connections
from django.db.backends.signals import connection_created

from tests.support import kept_connections
from tests.support.kept_connections import connection_release


def _backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def own_wrapper(db):
    """Wrappers of this thread on the test database, under parameters of their own (so they share idle sessions
    with each other only), closed at the end."""
    settings_dict = {
        **connection.settings_dict,
        "CONN_MAX_AGE": 60,
        "OPTIONS": {**connection.settings_dict["OPTIONS"], "application_name": "kept-connections-test"},
    }
    wrapper_class = type(connections["default"])
    made = []

    def make(**overrides):
        wrapper = wrapper_class({**settings_dict, **overrides}, alias="kept-connections-test")
        made.append(wrapper)
        return wrapper

    yield make
    for wrapper in made:
        wrapper.close()
    # an idle session left aside by a test below: the next wrapper takes it, and closing that one ends it
    leftover = make()
    leftover.ensure_connection()
    leftover.close()


@pytest.mark.postgres
def test_live_server_requests_on_new_sockets_share_one_postgresql_session(live_server, monkeypatch):
    pids, threads, opened = [], [], []

    def record(sender, connection, **kwargs):
        if "process_request_thread" in threading.current_thread().name:
            pids.append(connection.connection.info.backend_pid)
            threads.append(threading.current_thread())

    open_session = kept_connections._originals["get_new_connection"]

    def counted_open(wrapper, conn_params):
        raw = open_session(wrapper, conn_params)
        if "process_request_thread" in threading.current_thread().name:
            opened.append(raw.info.backend_pid)
        return raw

    monkeypatch.setitem(kept_connections._originals, "get_new_connection", counted_open)
    connection_created.connect(record, weak=False)
    try:
        for _ in range(3):
            # a new socket each time, so a new thread of the live server; `Connection: close` ends the thread (and
            # sets its session aside) as soon as it has answered, not when the client's socket is collected
            response = requests.get(f"{live_server.url}/readyz", headers={"Connection": "close"}, timeout=10)
            assert response.status_code == 200, response.text  # /readyz queries the database
            threads[-1].join(timeout=10)
    finally:
        connection_created.disconnect(record)

    # a thread of its own for each request, and at most the first opened a PostgreSQL session: the second and the
    # third took one set aside (the first's, unless a thread of an earlier test set its own aside meanwhile)
    assert len(pids) == 3 and len(set(threads)) == 3, pids
    assert opened in ([], pids[:1]), (opened, pids)


@pytest.mark.postgres
def test_an_idle_session_is_the_next_connects_and_django_checks_it_first(own_wrapper, monkeypatch):
    first = own_wrapper()
    pid = _backend_pid(first)
    connection_release(first)
    assert first.connection is None

    second = own_wrapper()
    checks = []
    is_usable = type(second).is_usable
    monkeypatch.setattr(type(second), "is_usable", lambda wrapper: checks.append(wrapper) or is_usable(wrapper))
    second.ensure_connection()

    assert checks == [second]  # a SELECT 1 before it is used, as for a persistent connection at a request's start
    assert _backend_pid(second) == pid


@pytest.mark.postgres
def test_a_session_in_a_transaction_is_closed_not_kept(own_wrapper):
    first = own_wrapper()
    first.ensure_connection()
    raw = first.connection
    raw.execute("BEGIN")
    raw.execute("SELECT 1")  # idle in transaction: it could hold locks the flush after a test would wait for

    connection_release(first)

    assert raw.closed


@pytest.mark.postgres
def test_a_session_past_conn_max_age_or_with_conn_max_age_0_is_closed(own_wrapper):
    never = own_wrapper(CONN_MAX_AGE=0)
    never.ensure_connection()
    never_raw = never.connection
    connection_release(never)

    old = own_wrapper()
    old.ensure_connection()
    old_raw = old.connection
    old.close_at = time.monotonic() - 1
    connection_release(old)

    assert never_raw.closed and old_raw.closed


@pytest.mark.postgres
def test_a_session_that_postgresql_ended_while_it_was_set_aside_is_not_handed_out(own_wrapper):
    first = own_wrapper()
    pid = _backend_pid(first)
    connection_release(first)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])  # returns once the backend has exited

    second = own_wrapper()

    assert _backend_pid(second) != pid


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_test_database_with_a_session_still_open_is_dropped_all_the_same():
    import uuid

    import psycopg
    from psycopg import sql

    from tests.support.services import postgres_admin_connection

    name = f"kept_drop_{uuid.uuid4().hex[:10]}"
    with postgres_admin_connection(connection.settings_dict, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    settings_dict = connection.settings_dict
    lingering = psycopg.connect(
        dbname=name, host=settings_dict["HOST"], port=settings_dict["PORT"] or 5432, user=settings_dict["USER"]
    )
    try:
        # what Django's teardown calls to drop a test database, here with a session a thread left open on it
        connection.creation._destroy_test_db(name, verbosity=0)

        with postgres_admin_connection(connection.settings_dict, autocommit=True) as admin:
            left = admin.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]).fetchone()[0]
        assert left == 0
    finally:
        lingering.close()
        with postgres_admin_connection(connection.settings_dict, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
