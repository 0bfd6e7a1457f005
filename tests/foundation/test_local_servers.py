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
