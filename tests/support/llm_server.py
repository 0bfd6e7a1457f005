"""A scripted OpenAI-compatible chat server on a real socket, for testing the LLM path end to end.

The `openai` package talks to it exactly as to any compatible endpoint (`POST /v1/chat/completions`).
A test gives it a `brain`: a function of the request body (messages, tools, tool_choice) that returns
an assistant message or an `HttpFailure`. Every request is recorded in `.requests`.

    with ScriptedLLM(brain) as llm:
        settings.LLM_BASE_URL = llm.base_url

Public API (other tests and `manage.py eval_conversations --llm` rely on it; keep it stable):

- `ScriptedLLM(brain)`: context manager; `.base_url`, `.requests` (list of `RecordedRequest`),
  `.reset()` to forget recorded requests.
- `RecordedRequest`: `.body` (parsed JSON), `.size` (bytes), `.path`, `.headers`, and for asserting
  what was sent: `.messages`, `.tool_names`, `.tool_choice`, `.context()` (the `DialogueContext` and
  catalog lines the generator put in its context message), `.is_repair` (the request answers tool
  results: a repair round).
- Answers a brain returns:
  - `tool_calls(("add_items", {...}), ("apply_code", {"code": "RUN15"}), text=None)`: the model calls
    tools; arguments may be a dict or a raw (possibly broken) string, the name may be any string
    (an unknown tool), and `text` is free text sent alongside (the generator must ignore it);
  - `reply("...")`: a text-only answer (no tool call);
  - `HttpFailure(status=500)`: an error status; `hang(seconds)`: answers only after `seconds` (a
    timeout for the client); `malformed()`: a 200 whose body is not JSON.
- Brains:
  - `scripted(answer, answer, ...)`: answers in order, one per request (an answer may itself be a
    brain, called with the body); a request beyond the script gets a 500 and is counted in
    `.overrun` of the returned `Script`.
  - `offline_brain(generate=None)`: a "model" that answers what the offline command generator
    (`ordering.agent.understand`, built as `ordering.agent.pipeline.offline_generator()` builds it)
    reads in the last user message, given the context parsed back from the request, as tool calls.
    `generate(text=, context=, recent=)` may be passed instead. The offline generator is imported
    when a request arrives: the server must run in a process where Django is set up (the tests, the
    evaluation command). It reads the repair round's request the same way (same answer).
- Helpers for brains: `last_user_text(body)`, `recent_from_body(body)`,
  `tool_results_since_last_user(body)`.
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


def hang(seconds: float) -> HttpFailure:
    """An answer that comes only after `seconds` (and is then an error): the client times out first."""
    return HttpFailure(status=500, delay_seconds=seconds)


def malformed() -> HttpFailure:
    """A 200 whose body is not JSON at all."""
    return HttpFailure(status=200, body="<html>upstream proxy says hi</html>")


@dataclass
class RecordedRequest:
    body: dict
    size: int
    path: str
    headers: dict[str, str]

    @property
    def messages(self) -> list[dict]:
        return list(self.body.get("messages") or [])

    @property
    def tool_names(self) -> list[str]:
        return [tool["function"]["name"] for tool in self.body.get("tools") or []]

    @property
    def tool_choice(self) -> Any:
        return self.body.get("tool_choice")

    @property
    def is_repair(self) -> bool:
        return bool(self.messages) and self.messages[-1].get("role") == "tool"

    def context(self) -> tuple[Any, list[str]]:
        """(DialogueContext, catalog lines) as the generator sent them."""
        from ordering.agent.prompt import context_from_prompt

        return context_from_prompt(self.messages)


def reply(text: str) -> dict:
    return {"role": "assistant", "content": text}


def tool_calls(*calls: tuple[str, dict | str], text: str | None = None) -> dict:
    """An assistant message calling tools; arguments may be a dict or a raw (possibly broken) string."""
    return {
        "role": "assistant",
        "content": text,
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
class Script:
    """A brain that gives its answers in order, one per request."""

    answers: list[Any]
    overrun: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, body: dict) -> dict | HttpFailure:
        with self._lock:
            if not self.answers:
                self.overrun += 1
                return HttpFailure(status=500, body='{"error": {"message": "the script has no more answers"}}')
            answer = self.answers.pop(0)
        return answer(body) if callable(answer) else answer

    @property
    def remaining(self) -> int:
        return len(self.answers)


def scripted(*answers: Any) -> Script:
    return Script(list(answers))


@dataclass
class ScriptedLLM:
    brain: Brain
    requests: list[RecordedRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def reset(self) -> None:
        self.requests.clear()

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
                try:
                    answer = outer.brain(body)
                except Exception as error:  # a brain that breaks is a server error, visible to the test
                    message = json.dumps({"error": {"message": f"brain failed: {error!r}"[:500]}})
                    self._send(500, message.encode())
                    return
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
        # shutdown() waits for the loop to look again: every 0.5 s by default, half a second per test.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
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


def recent_from_body(body: dict) -> list[dict]:
    """The conversation's recent messages as the generator received them (`{"role", "text"}`), without
    the last user message."""
    roles = {"user": "customer", "assistant": "assistant"}
    messages = [m for m in body["messages"] if m["role"] in roles and not m.get("tool_calls")]
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=None)
    return [
        {"role": roles[m["role"]], "text": m.get("content") or ""} for i, m in enumerate(messages) if i != last_user
    ]


def tool_results_since_last_user(body: dict) -> list[dict]:
    """The tool messages answering the model's calls in this turn, parsed, oldest first."""
    results = []
    for message in reversed(body["messages"]):
        if message["role"] == "user":
            break
        if message["role"] == "tool":
            results.append(json.loads(message["content"]))
    return list(reversed(results))


def _offline_generate(*, text: str, context: Any, recent: list[dict]) -> list:
    """The offline generator the pipeline uses, built per request as the pipeline builds it per turn (its
    lexicon is cached), so a catalog change between tests is seen."""
    import inspect

    from ordering.agent.pipeline import offline_generator

    generate = offline_generator().generate
    if "recent" in inspect.signature(generate).parameters:
        return generate(text=text, context=context, recent=recent)
    return generate(text=text, context=context)


def offline_brain(generate: Callable[..., list] | None = None) -> Brain:
    """A scripted model that reads each message as the offline generator does (see the module docstring)."""
    from ordering.agent.commands import command_to_dict
    from ordering.agent.prompt import context_from_prompt

    read = generate or _offline_generate

    def brain(body: dict) -> dict:
        context, _catalog = context_from_prompt(body["messages"])
        commands = read(text=last_user_text(body), context=context, recent=recent_from_body(body))
        calls = []
        for command in commands:
            arguments = command_to_dict(command)
            calls.append((arguments.pop("kind"), arguments))
        return tool_calls(*calls) if calls else reply("")

    return brain
