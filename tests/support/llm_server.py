"""A scripted OpenAI-compatible chat server on a real socket, for testing the LLM path end to end.

The `openai` package talks to it exactly as to any compatible endpoint (`POST /v1/chat/completions`).
A test gives it a `brain`: a function of the request body (messages, tools) that returns either an
assistant reply or tool calls, built with `reply(...)` / `tool_calls(...)`, or an `HttpFailure` to
answer with an error status (or after a delay, to provoke a timeout). Every request is recorded
(`.requests`: the parsed body and its size in bytes).

    with ScriptedLLM(brain) as llm:
        settings.LLM_BASE_URL = llm.base_url
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class HttpFailure:
    status: int = 500
    delay_seconds: float = 0.0
    body: str = '{"error": {"message": "scripted failure", "type": "server_error"}}'


@dataclass
class RecordedRequest:
    body: dict
    size: int
    path: str
    headers: dict[str, str]


def reply(text: str) -> dict:
    return {"role": "assistant", "content": text}


def tool_calls(*calls: tuple[str, dict | str]) -> dict:
    """An assistant message calling tools; arguments may be a dict or a raw (possibly broken) string."""
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
            for name, args in calls
        ],
    }


Brain = Callable[[dict], "dict | HttpFailure"]


@dataclass
class ScriptedLLM:
    brain: Brain
    requests: list[RecordedRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ScriptedLLM:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw or b"{}")
                outer.requests.append(RecordedRequest(body, len(raw), self.path, dict(self.headers)))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                answer = outer.brain(body)
                if isinstance(answer, HttpFailure):
                    time.sleep(answer.delay_seconds)
                    self._send(answer.status, answer.body.encode())
                    return
                finish = "tool_calls" if answer.get("tool_calls") else "stop"
                payload = {
                    "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "scripted"),
                    "choices": [{"index": 0, "message": answer, "finish_reason": finish}],
                    "usage": {
                        "prompt_tokens": len(raw) // 4,
                        "completion_tokens": 10,
                        "total_tokens": len(raw) // 4 + 10,
                    },
                }
                self._send(200, json.dumps(payload).encode())

            def _send(self, status: int, data: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- helpers for brains --------------------------------------------------------------------------


def last_user_text(body: dict) -> str:
    for message in reversed(body["messages"]):
        if message["role"] == "user":
            return message.get("content") or ""
    return ""


def tool_results_since_last_user(body: dict) -> list[dict]:
    """The tool messages answering the model's calls in this turn, parsed, oldest first."""
    results = []
    for message in reversed(body["messages"]):
        if message["role"] == "user":
            break
        if message["role"] == "tool":
            results.append(json.loads(message["content"]))
    return list(reversed(results))
