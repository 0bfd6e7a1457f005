"""Suite-wide fixtures and the service markers.

Tests that need a real service carry a marker (`postgres`, `redis`, `browser`, `promtool`). When the service is
missing they are skipped with the reason, unless REQUIRE_SERVICES=1 (as in CI), which turns any such
skip, and any other skip, into a failure.
"""

from __future__ import annotations

import functools
import os

import pytest

from tests.support import services

pytest_plugins = [
    "tests.support.local_servers",
    "tests.support.sandbox",
    "tests.support.fake_merchant",
    "tests.support.commits",
    "tests.support.private_servers",
    "tests.support.eager",
    "tests.support.fast_flush",
    "tests.support.template_db",
    "tests.support.kept_connections",
    "tests.support.corpus_report",
    "tests.support.static_files",
    "tests.support.browser",
    "tests.support.gc_tuning",
    "tests.support.long_first",
]

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") == "1"

_SERVICE_CHECKS = {
    "postgres": services.postgres_problem,
    "redis": services.redis_problem,
    "browser": services.browser_problem,
    "promtool": services.promtool_problem,
}


@functools.cache
def _service_problem(name: str) -> str | None:
    return _SERVICE_CHECKS[name]()


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name in _SERVICE_CHECKS:
        if item.get_closest_marker(name) is None:
            continue
        problem = _service_problem(name)
        if problem is None:
            continue
        if REQUIRE_SERVICES:
            pytest.fail(f"{name} is required (REQUIRE_SERVICES=1) but {problem}", pytrace=False)
        pytest.skip(f"{name} unavailable: {problem}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if REQUIRE_SERVICES and report.skipped:
        # A skip of any kind under REQUIRE_SERVICES is a hole in CI; make it visible as a failure.
        report.outcome = "failed"
        report.longrepr = f"skipped under REQUIRE_SERVICES=1: {report.longrepr}"


@pytest.fixture(scope="module")
def spec_url():
    """An independent ACP merchant written from the spec (tests/support/spec_merchant.py) on a free local port."""
    from tests.support import spec_merchant

    server, url = spec_merchant.start()
    try:
        yield url
    finally:
        server.shutdown()


@pytest.fixture
def celery_worker(django_db_setup, django_db_blocker, tmp_path):
    """A real Celery worker process on this run's queue, talking to the test database.

    Tests that use it need data committed where the worker can see it: use `transactional_db`.
    """
    from django.db import connection

    with django_db_blocker.unblock():
        database_url = services.database_url_for(connection.settings_dict)
    worker = services.CeleryWorker(database_url=database_url, log_path=tmp_path / "worker.log")
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


class WallClock:
    """This process' wall clock, moved forward instead of sleeping (time-machine).

    `advance(seconds)` moves `time.time()`, `datetime.now()` and `timezone.now()` forward in every thread of
    this process (the live server's included); the clock keeps ticking from there. `time.monotonic()`, other
    processes, PostgreSQL's `now()` and Redis' clock and key expiry are not moved: use it where the code under
    test reads the Python wall clock (token and session expiry, breaker cool-downs).
    """

    def __init__(self, time_machine) -> None:
        self._time_machine = time_machine

    def advance(self, seconds: float) -> None:
        from datetime import UTC, datetime

        if self._time_machine.traveller is None:
            self._time_machine.move_to(datetime.now(UTC), tick=True)
        self._time_machine.shift(seconds)


@pytest.fixture
def wall_clock(time_machine) -> WallClock:
    return WallClock(time_machine)


@pytest.fixture
def otp_login(client):
    """Sign a staff user in to the admin as if they had entered a valid TOTP code.

    `otp_login(user)` returns the test client; pass `client=` to sign in another client.
    """
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def login(user, *, client=client):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test device", confirmed=True)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return login
