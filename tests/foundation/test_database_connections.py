"""How processes hold PostgreSQL connections: the web's pool (DATABASE_POOL_MAX_SIZE, config/gunicorn.py) and
a Celery worker process keeping its connection between tasks (config/worker_connections.py). Real PostgreSQL,
a real `celery worker`."""

from __future__ import annotations

import json
import sys
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection, connections

from config.env import parse_database_url, with_connection_pool
from config.outages import unavailable_dependency
from tests.support import zygote
from tests.support.services import PROJECT_DIR, child_env

POSTGRES = "postgres://shop@db.internal/orders"


def test_a_pool_replaces_the_per_thread_connection_of_a_postgresql_database():
    pooled = with_connection_pool(parse_database_url(POSTGRES), max_size=16, min_size=2, timeout=10)

    assert pooled["OPTIONS"] == {
        "connect_timeout": 5,
        "pool": {"min_size": 2, "max_size": 16, "timeout": 10, "reconnect_timeout": 2.0},
    }
    assert pooled["CONN_MAX_AGE"] == 0  # Django's pool refuses persistent connections: the pool keeps them
    assert pooled["CONN_HEALTH_CHECKS"] is True  # the pool checks a connection before handing it out


def test_no_pool_at_size_0_and_never_for_sqlite():
    postgres = parse_database_url(POSTGRES)
    sqlite = parse_database_url("sqlite:///var/db.sqlite3")

    assert with_connection_pool(postgres, max_size=0, min_size=0, timeout=10) == postgres
    assert with_connection_pool(sqlite, max_size=16, min_size=2, timeout=10) == sqlite


@pytest.mark.parametrize(("min_size", "max_size", "timeout"), [(17, 16, 10), (-1, 16, 10), (2, 16, 0)])
def test_pool_sizes_that_cannot_work_are_refused_at_start_up(min_size, max_size, timeout):
    with pytest.raises(ImproperlyConfigured):
        with_connection_pool(parse_database_url(POSTGRES), max_size=max_size, min_size=min_size, timeout=timeout)


def _settings_in_a_fresh_process(**environment: str) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "db = settings.DATABASES['default']; "
        "print(json.dumps({'pool': db['OPTIONS'].get('pool'), 'age': db['CONN_MAX_AGE'], "
        "'reuse': settings.CELERY_DB_REUSE_MAX}))"
    )
    result = zygote.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=child_env(DJANGO_SETTINGS_MODULE="config.settings.dev", **environment),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_environment_turns_the_pool_on_and_a_worker_keeps_its_connection_by_default():
    default = _settings_in_a_fresh_process(DATABASE_URL=POSTGRES)
    pooled = _settings_in_a_fresh_process(DATABASE_URL=POSTGRES, DATABASE_POOL_MAX_SIZE="8")
    sqlite = _settings_in_a_fresh_process(DATABASE_URL="sqlite:///var/db.sqlite3", DATABASE_POOL_MAX_SIZE="8")

    assert default == {"pool": None, "age": 60, "reuse": 1000}
    assert pooled["pool"] == {"min_size": 2, "max_size": 8, "timeout": 10, "reconnect_timeout": 2.0}
    assert pooled["age"] == 0
    assert sqlite["pool"] is None


def test_gunicorn_gives_the_web_role_a_pool_unless_the_environment_says_otherwise(monkeypatch, tmp_path):
    import runpy

    # setenv first so that monkeypatch restores the variable's absence: gunicorn.py's setdefault would otherwise
    # leave DATABASE_POOL_MAX_SIZE=16 in this worker's environment, and every server a later test starts from it
    # (tests/support/services.py, private_servers.py) would run with a pool it did not ask for
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "")
    monkeypatch.delenv("DATABASE_POOL_MAX_SIZE")
    # and a metrics directory of its own, so that gunicorn.py does not choose one for this worker's /metrics
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    runpy.run_path(str(PROJECT_DIR / "config" / "gunicorn.py"))
    assert __import__("os").environ["DATABASE_POOL_MAX_SIZE"] == "16"

    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "0")
    runpy.run_path(str(PROJECT_DIR / "config" / "gunicorn.py"))
    assert __import__("os").environ["DATABASE_POOL_MAX_SIZE"] == "0"


@pytest.fixture
def pooled_connection(db):
    """A second connection to the test database, configured as the web role's: a pool of one."""
    settings_dict = {
        **connection.settings_dict,
        "CONN_MAX_AGE": 0,
        "OPTIONS": {**connection.settings_dict["OPTIONS"], "pool": {"min_size": 0, "max_size": 1, "timeout": 0.5}},
    }
    alias = "pool-of-test"
    wrapper_class = type(connections["default"])
    wrappers = []

    def in_this_thread():
        wrapper = wrapper_class(settings_dict, alias=alias)
        wrappers.append(wrapper)
        return wrapper

    yield in_this_thread
    for wrapper in wrappers:
        if wrapper._thread_ident == threading.get_ident():  # the others were closed by their thread
            wrapper.close()
    wrapper_class._connection_pools.pop(alias).close()


def _backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_a_connection_given_back_is_the_next_requests_without_a_new_postgresql_session(pooled_connection):
    # given a request that used a connection and handed it back, as a long-poll does before it waits
    first = pooled_connection()
    before = _backend_pid(first)
    first.close()

    # when another thread's request (the long-poll's read after its wait) needs one
    pids = []

    def next_request():
        wrapper = pooled_connection()
        pids.append(_backend_pid(wrapper))
        wrapper.close()

    thread = threading.Thread(target=next_request)
    thread.start()
    thread.join()

    # then it gets the same PostgreSQL session from the pool, not a new one
    assert pids == [before]


@pytest.mark.postgres
def test_a_request_that_finds_every_connection_taken_waits_then_counts_as_a_database_outage(pooled_connection):
    holder = pooled_connection()
    _backend_pid(holder)  # the pool's only connection, held

    errors = []

    def other_request():
        started, wrapper = time.monotonic(), pooled_connection()
        try:
            _backend_pid(wrapper)
        except OperationalError as error:
            errors.append((error, time.monotonic() - started))
        finally:
            wrapper.close()

    thread = threading.Thread(target=other_request)
    thread.start()
    thread.join()

    ((error, waited),) = errors
    assert waited >= 0.4  # it waited for the pool's timeout (0.5 s) before giving up
    assert unavailable_dependency(error) == "database"  # the API's 503 with Retry-After, not a 500


def _worker_backends(database: str) -> set[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start::text FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
        return set(cursor.fetchall())


def _sealed(event_id: int) -> bool:
    from audit.models import AuditSeal

    return AuditSeal.objects.filter(event_id=event_id).exists()


def _wait(condition, *, timeout: float, what: str) -> None:
    until = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < until, f"{what} within {timeout} s"
        time.sleep(0.1)


@pytest.mark.postgres
@pytest.mark.redis
def test_a_worker_process_keeps_its_postgresql_session_from_one_task_to_the_next(transactional_db, tmp_path):
    from audit.services import audit_record
    from audit.tasks import seal
    from tests.support.services import CeleryWorker, database_url_for

    database = connection.settings_dict["NAME"]
    worker = CeleryWorker(
        database_url=database_url_for(connection.settings_dict),
        log_path=tmp_path / "worker.log",
        concurrency=1,
        extra_env={"ORDERING_WARM_LEXICON": "0"},
    ).start()
    try:
        sessions = []
        for number in range(2):
            # a task that reads and writes the database (the sealer), run by the worker's one process
            event = audit_record(action=("test.first" if number == 0 else "test.second"), actor_type="system")
            seal.delay()
            _wait(lambda event=event: _sealed(event.pk), timeout=30, what="the worker sealed the event")
            sessions.append(_worker_backends(database))
    finally:
        worker.stop()

    # The worker's sessions are the ones that end with it (other sessions on this database, of this test
    # or of servers an earlier test left, stay). With the connection closed after every task (Celery's
    # default, CELERY_DB_REUSE_MAX=0) none would be open between tasks, and none would end here.
    after_first, after_second = sessions
    _wait(lambda: after_second - _worker_backends(database), timeout=15, what="the worker's session ended with it")
    worker_sessions = after_second - _worker_backends(database)
    # the session open after the second task was already open after the first: the second task used it
    assert worker_sessions, sessions
    assert worker_sessions <= after_first, sessions
