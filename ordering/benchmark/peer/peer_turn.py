"""The peer of `make bench` row 1: a LangGraph agent turn with a Postgres checkpointer.

Run by the bench in its own virtualenv (var/bench-peer, ordering/benchmark/peer/requirements.txt);
it imports nothing of the project. One turn: the agent node asks the scripted OpenAI-compatible
server (over a real socket, the same server our side calls) with one tool, `merchant_search`; the
tool node calls the sandbox merchant's product search over HTTP; the agent node asks the model again
with the tool's answer; the state is checkpointed in PostgreSQL after every node. Each turn is a new
thread (as each of our timed turns is a new conversation).

Prints one JSON object: the wall time of each timed turn and the time spent in merchant HTTP calls
during it (milliseconds), and the LLM requests made.
"""

from __future__ import annotations

import argparse
import json
import operator
import time
import urllib.parse
import urllib.request
import uuid
from typing import Annotated, TypedDict

from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.graph import END, START, StateGraph

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "merchant_search",
            "description": "Search the merchant's catalog for products matching the customer's words.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string", "description": "what to search for"}},
                "required": ["query"],
            },
        },
    }
]
SYSTEM = "You are a shopping assistant. Search the merchant's catalog for what the customer wants."


class State(TypedDict):
    messages: Annotated[list, operator.add]


class Peer:
    def __init__(self, *, llm_url: str, merchant_url: str, merchant_token: str) -> None:
        self.llm_url = llm_url.rstrip("/")
        self.merchant_url = merchant_url.rstrip("/")
        self.merchant_token = merchant_token
        self.merchant_seconds = 0.0
        self.llm_requests = 0

    def _json(self, request: urllib.request.Request) -> dict:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the bench's local servers
            return json.loads(response.read())

    def agent(self, state: State) -> dict:
        body = {"model": "scripted", "messages": state["messages"], "tools": TOOLS, "tool_choice": "auto"}
        request = urllib.request.Request(  # noqa: S310 - the bench's local servers
            f"{self.llm_url}/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Bearer not-needed"},
        )
        self.llm_requests += 1
        message = self._json(request)["choices"][0]["message"]
        return {"messages": [{key: value for key, value in message.items() if value is not None}]}

    def tools(self, state: State) -> dict:
        answers = []
        for call in state["messages"][-1].get("tool_calls") or []:
            arguments = json.loads(call["function"]["arguments"] or "{}")
            query = urllib.parse.urlencode({"q": arguments.get("query", ""), "limit": 5})
            request = urllib.request.Request(  # noqa: S310 - the bench's local servers
                f"{self.merchant_url}/products?{query}",
                headers={
                    "Authorization": f"Bearer {self.merchant_token}",
                    "API-Version": "2026-04-17",
                    "Request-Id": str(uuid.uuid4()),
                },
            )
            started = time.perf_counter()
            data = self._json(request)
            self.merchant_seconds += time.perf_counter() - started
            products = [
                {"id": item.get("id"), "title": item.get("title"), "price": item.get("price")}
                for item in data.get("data", [])
            ]
            answers.append({"role": "tool", "tool_call_id": call["id"], "content": json.dumps(products)})
        return {"messages": answers}

    @staticmethod
    def route(state: State) -> str:
        return "tools" if state["messages"][-1].get("tool_calls") else END


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--llm-url", required=True)
    parser.add_argument("--merchant-url", required=True)
    parser.add_argument("--merchant-token", required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--text", default="Buy the blue running shoes I liked last week and apply my 10% promo")
    options = parser.parse_args()

    peer = Peer(llm_url=options.llm_url, merchant_url=options.merchant_url, merchant_token=options.merchant_token)
    builder = StateGraph(State)
    builder.add_node("agent", peer.agent)
    builder.add_node("tools", peer.tools)
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", peer.route, ["tools", END])
    builder.add_edge("tools", "agent")

    turns_ms, merchant_ms = [], []
    with PostgresSaver.from_conn_string(options.dsn) as checkpointer:
        checkpointer.setup()
        graph = builder.compile(checkpointer=checkpointer)
        llm_before = 0
        for index in range(options.warmup + options.turns):
            config = {"configurable": {"thread_id": f"peer-{uuid.uuid4().hex}"}}
            merchant_before, llm_before = peer.merchant_seconds, peer.llm_requests
            started = time.perf_counter()
            graph.invoke(
                {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": options.text}]},
                config,
            )
            elapsed = time.perf_counter() - started
            if index >= options.warmup:
                turns_ms.append(elapsed * 1000)
                merchant_ms.append((peer.merchant_seconds - merchant_before) * 1000)
    print(
        json.dumps(
            {"turns_ms": turns_ms, "merchant_ms": merchant_ms, "llm_requests_per_turn": peer.llm_requests - llm_before}
        )
    )


if __name__ == "__main__":
    main()
