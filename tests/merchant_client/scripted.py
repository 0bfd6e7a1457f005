"""A tiny scripted HTTP server on a real socket: answers from a script, records what it received.

The HTTP base's own policy (retries, backoff, Retry-After, breaker, timeouts) is tested against this,
so the tests cover the real wire path (requests, urllib3, sockets) without depending on the sandbox.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int = 200
    body: object = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before answering (past the client's read timeout = lost answer)
    method: str | None = None  # only for requests with this method ...
    path: str | None = None  # ... and exactly this path (None: any)
    raw: bytes | None = None  # a body sent as is instead of JSON

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or self.path == path)


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self):
        return json.loads(self.body) if self.body else None


class ScriptedServer:
    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.default = Reply(200, {"ok": True})
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                reply = server._take(self.command, parts.path)
                with server._lock:
                    server.received.append(
                        Received(self.command, parts.path, parts.query, dict(self.headers.items()), body, time.time())
                    )
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.raw is not None:
                    payload = reply.raw
                else:
                    payload = json.dumps(reply.body).encode() if reply.body is not None else b""
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: exactly the lost-answer case

            do_GET = do_POST = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ScriptedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def then(self, *replies: Reply) -> ScriptedServer:
        with self._lock:
            self.script.extend(replies)
        return self

    def _take(self, method: str, path: str) -> Reply:
        with self._lock:
            for index, reply in enumerate(self.script):
                if reply.matches(method, path):
                    return self.script.pop(index)
            return self.default

    def requests_to(self, method: str | None = None, path: str | None = None) -> list[Received]:
        with self._lock:
            return [
                r for r in self.received if (method is None or r.method == method) and (path is None or r.path == path)
            ]
