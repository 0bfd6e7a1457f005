"""Django's servers in the test process and `make eval` answer without Nagle's delay (config/local_servers.py)."""

from __future__ import annotations

import socket
import socketserver

import requests


def test_the_live_server_sends_with_tcp_nodelay(live_server, monkeypatch):
    # What the server's side of each accepted connection has set, read where socketserver sets it up.
    seen: list[int] = []
    setup = socketserver.StreamRequestHandler.setup

    def recording_setup(handler):
        setup(handler)
        seen.append(handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(socketserver.StreamRequestHandler, "setup", recording_setup)

    with requests.Session() as session:
        assert session.get(f"{live_server.url}/healthz", timeout=10).status_code == 200

    assert seen and all(seen), seen


def test_make_runs_runserver_answers_at_once_too(tmp_path):
    # `make run` serves config.wsgi with `manage.py runserver` (our site and the sandbox): loading the application
    # is what turns the flag on in that process, before runserver accepts its first connection.
    import subprocess
    import sys

    from tests.support.services import PROJECT_DIR

    code = (
        "from django.core.servers.basehttp import WSGIRequestHandler; "
        "before = WSGIRequestHandler.disable_nagle_algorithm; "
        "from django.core.servers.basehttp import get_internal_wsgi_application; "
        "import django; django.setup(); get_internal_wsgi_application(); "
        "print(before, WSGIRequestHandler.disable_nagle_algorithm)"
    )
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.dev", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
