import json
import urllib.error
import urllib.request

import pytest

from tests.support.services import ServerProcess, child_env, free_port


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_healthz_answers_without_touching_the_database(client):
    # no django_db mark: a query here would raise instead of answering
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_is_503_and_names_the_database_when_it_is_down(tmp_path):
    # given a server whose database is a port where nothing listens (the broker stays reachable)
    dead_port = free_port()
    server = ServerProcess(
        env=child_env(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{dead_port}/nothing",
            REDIS_URL=None,
            CELERY_BROKER_URL=None,
            VAR_DIR=str(tmp_path),
        ),
        log_path=tmp_path / "server.log",
    )
    server.start()
    try:
        # when
        liveness = _get(f"{server.url}/healthz")
        readiness = _get(f"{server.url}/readyz")
    finally:
        server.stop()

    # then the process is alive but not ready, and says why
    assert liveness == (200, {"status": "ok"})
    assert readiness == (503, {"status": "unavailable", "checks": {"database": "unreachable", "broker": "ok"}})


def test_readyz_is_503_and_names_the_broker_when_redis_is_down(tmp_path):
    dead_port = free_port()
    server = ServerProcess(
        env=child_env(
            DATABASE_URL=None,
            REDIS_URL=f"redis://127.0.0.1:{dead_port}/0",
            CELERY_BROKER_URL=None,
            VAR_DIR=str(tmp_path),
        ),
        log_path=tmp_path / "server.log",
    )
    server.start()
    try:
        readiness = _get(f"{server.url}/readyz")
    finally:
        server.stop()

    assert readiness == (503, {"status": "unavailable", "checks": {"database": "ok", "broker": "unreachable"}})
