"""The live server answers without Nagle's delay (a pytest plugin; see config/local_servers.py), and
`KeptAliveSession`, a client that talks to it on one kept-alive connection.

Loaded for the whole suite from `tests/conftest.py` (`pytest_plugins`). Without it every request a test sends
to pytest-django's `live_server` (the sandbox merchant over HTTP, the webhooks) waited about 40 ms for a
delayed ACK after its view had answered.
"""

from __future__ import annotations

import pytest
import requests

from config.local_servers import local_servers_answer_at_once


@pytest.hookimpl
def pytest_configure(config: pytest.Config) -> None:
    local_servers_answer_at_once()


class KeptAliveSession(requests.Session):
    """A `requests.Session` for many requests to the live server: one connection, kept alive.

    The live server serves each connection on a thread of its own, and that thread opens its own PostgreSQL
    connection: a request without a session (`requests.request`, or schemathesis' `case.call` without one) pays
    for a TCP connection, a thread and a PostgreSQL session (a backend started, authenticated, its caches
    filled) before its view runs. Close it when the test ends (`with`, or a fixture): the server's thread then
    ends and closes its PostgreSQL connection, which would otherwise keep the test database from being dropped.

    Some requests go out chunked (a body without a Content-Length: requests' adapter sends one so, whatever
    the headers say), which Django's test server does not read: it answers as if the body were empty and then
    takes the chunks' end ("0") for the next request, and answers that with a bare HTML error that the next
    request on the kept-alive connection read as its answer (BadStatusLine '<!DOCTYPE HTML>'), now and then,
    depending on which of the two came first. gunicorn reads chunked bodies; such a request gets a connection
    of its own, closed after it, which keeps a test about the application, not the test server.
    """

    def send(self, request, **kwargs):
        if request.body is not None and "Content-Length" not in request.headers:
            request.headers["Connection"] = "close"
        return super().send(request, **kwargs)
