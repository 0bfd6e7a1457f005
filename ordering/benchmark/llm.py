"""The scripted OpenAI-compatible server of a bench run, on a real socket, shared by both sides.

It is the test suite's server (tests/support/llm_server.py) with one brain for two clients:
- our LLM command generator gets what the offline generator reads in the message (`offline_brain`),
  computed once per message and then replayed, so that a timed turn does not pay for the "model"
  thinking (the peer's model answers from a script too);
- the LangGraph peer (its tool is `merchant_search`) gets a search call for the customer's words,
  then, once the tool answered, a short text reply.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

PEER_TOOL = "merchant_search"


def bench_brain() -> Any:
    from tests.support.llm_server import last_user_text, offline_brain, reply, tool_calls

    ours = offline_brain()
    answers: dict[str, Any] = {}
    lock = threading.Lock()

    def brain(body: dict) -> Any:
        messages = body.get("messages") or []
        repair = bool(messages) and messages[-1].get("role") == "tool"
        names = [tool["function"]["name"] for tool in body.get("tools") or []]
        if PEER_TOOL in names:
            if repair:
                return reply("I found these running shoes; which one would you like?")
            return tool_calls((PEER_TOOL, {"query": last_user_text(body)}))
        key = json.dumps([last_user_text(body), repair, len(messages)])
        with lock:
            if key in answers:
                return answers[key]
        answer = ours(body)
        with lock:
            answers[key] = answer
        return answer

    return brain


@contextlib.contextmanager
def scripted_llm() -> Iterator[Any]:
    try:
        from tests.support.llm_server import ScriptedLLM
    except ImportError as error:
        raise RuntimeError(f"the bench needs the scripted LLM server of tests/support/llm_server.py: {error}") from None
    with ScriptedLLM(bench_brain()) as server:
        yield server
