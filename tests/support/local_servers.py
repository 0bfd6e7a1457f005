"""The live server answers without Nagle's delay (a pytest plugin; see config/local_servers.py).

Loaded for the whole suite from `tests/conftest.py` (`pytest_plugins`). Without it every request a test sends
to pytest-django's `live_server` (the sandbox merchant over HTTP, the webhooks) waited about 40 ms for a
delayed ACK after its view had answered.
"""

from __future__ import annotations

import pytest

from config.local_servers import local_servers_answer_at_once


@pytest.hookimpl
def pytest_configure(config: pytest.Config) -> None:
    local_servers_answer_at_once()
