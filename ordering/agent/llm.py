"""The LLM dialog manager: any OpenAI-compatible endpoint chooses tools; deterministic code does the rest.

The model only chooses tools and words. It never sees card data, never computes a price (its free
text is not shown when it contains amounts; the tools' server-rendered text is), and cannot place an
order (no tool does). Tool arguments are validated against the tool's JSON schema before anything
runs. A turn is bounded: `LLM_MAX_TOOL_ROUNDS` model calls, each with a timeout and one retry. When
the endpoint fails, answers nonsense, or runs out of rounds, the turn falls back to the deterministic
parser (unless a tool already changed something in this turn), and the fallback is logged.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import openai
from django.conf import settings
from prometheus_client import Counter, Histogram

from ordering.agent.prompt import prompt_messages, tool_definitions, tool_result_message

logger = logging.getLogger(__name__)

llm_calls = Counter("ordering_llm_calls_total", "Chat completion calls", ["outcome"])
llm_tokens = Counter("ordering_llm_tokens_total", "Tokens reported by the endpoint", ["kind"])
llm_fallbacks = Counter("ordering_llm_fallbacks_total", "Turns handed to the deterministic parser", ["reason"])
llm_latency = Histogram(
    "ordering_llm_call_seconds", "Latency of one chat completion call", buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30)
)

# Amounts in free text ("$71.10", "71.10 USD", "€5"): the model must not be the source of a price.
_MONEY_TEXT = re.compile(r"([$€£¥]\s?\d)|(\d+[.,]\d{2}\s?(usd|eur|gbp|dollars?)\b)", re.IGNORECASE)


class LLMFailure(Exception):
    """The model could not finish the turn: unreachable, malformed, or out of rounds."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# Tools that only read: a turn that called nothing else can safely be handed to the parser.
READ_ONLY_TOOLS = frozenset(
    {"search_products", "show_product", "list_saved_items", "list_my_promotions", "order_status"}
)


class LLMPlanner:
    name = "llm"

    def __init__(self, *, fallback: Any, client: openai.OpenAI | None = None) -> None:
        self.fallback = fallback
        self.client = client or openai.OpenAI(
            base_url=settings.LLM_BASE_URL,
            api_key=settings.LLM_API_KEY or "not-needed",
            timeout=settings.LLM_TIMEOUT_SECONDS,
            max_retries=1,
        )

    def run(self, turn: Any) -> None:
        changed_something = []
        try:
            self._run(turn, changed_something)
        except (openai.OpenAIError, LLMFailure) as error:
            reason = error.reason if isinstance(error, LLMFailure) else type(error).__name__
            llm_fallbacks.labels(reason=reason).inc()
            logger.warning(
                "llm.fallback",
                extra={"reason": reason, "error": str(error)[:300], "conversation_id": str(turn.conversation.pk)},
            )
            turn.planner_name = "llm>parser"
            if changed_something:
                # The parser would act on the same words again; say where things stand instead.
                turn.say("Sorry, I lost my train of thought there. Here is where we are; tell me what to do next.")
            else:
                self.fallback.run(turn)

    def _run(self, turn: Any, changed_something: list) -> None:
        from ordering.agent.tools import TOOLS, ToolCall

        messages = prompt_messages(
            state=turn.state_summary(),
            recent=turn.recent_messages(settings.LLM_RECENT_MESSAGES),
            customer_text=turn.customer_text,
        )
        tools = tool_definitions(TOOLS)
        for _ in range(settings.LLM_MAX_TOOL_ROUNDS):
            message = self._complete(messages, tools)
            calls = message.tool_calls or []
            if not calls:
                self._speak(turn, message.content or "")
                return
            messages.append(
                {
                    "role": "assistant",
                    "content": message.content,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.function.name, "arguments": c.function.arguments},
                        }
                        for c in calls
                    ],
                }
            )
            for call in calls:
                name = call.function.name
                if name not in TOOLS:
                    messages.append(
                        tool_result_message(call_id=call.id, ok=False, data=None, error=f"no tool {name!r}")
                    )
                    continue
                try:
                    arguments = json.loads(call.function.arguments or "{}")
                    if not isinstance(arguments, dict):
                        raise ValueError("arguments must be a JSON object")
                except ValueError as error:
                    messages.append(
                        tool_result_message(
                            call_id=call.id, ok=False, data=None, error=f"arguments are not JSON: {error}"
                        )
                    )
                    continue
                result = turn.call_tool(
                    ToolCall(
                        name=name,
                        arguments=arguments,
                        rationale=f"the model chose {name} for the customer's words: {turn.customer_text[:120]!r}",
                    )
                )
                if result.ok and name not in READ_ONLY_TOOLS:
                    changed_something.append(name)
                messages.append(
                    tool_result_message(call_id=call.id, ok=result.ok, data=result.data, error=result.error)
                )
        raise LLMFailure("too_many_rounds", f"no answer after {settings.LLM_MAX_TOOL_ROUNDS} rounds")

    def _complete(self, messages: list[dict], tools: list[dict]) -> Any:
        started = time.monotonic()
        try:
            response = self.client.chat.completions.create(
                model=settings.LLM_MODEL, messages=messages, tools=tools, tool_choice="auto", temperature=0
            )
        except openai.OpenAIError:
            llm_calls.labels(outcome="error").inc()
            raise
        finally:
            llm_latency.observe(time.monotonic() - started)
        llm_calls.labels(outcome="ok").inc()
        if response.usage is not None:
            llm_tokens.labels(kind="prompt").inc(response.usage.prompt_tokens or 0)
            llm_tokens.labels(kind="completion").inc(response.usage.completion_tokens or 0)
        if not response.choices:
            raise LLMFailure("empty_response")
        return response.choices[0].message

    def _speak(self, turn: Any, text: str) -> None:
        text = text.strip()
        if not text:
            if not turn.messages_said():
                raise LLMFailure("empty_reply")
            return
        if _MONEY_TEXT.search(text):
            # Only server-rendered text may carry amounts; the tools already said what matters.
            logger.info("llm.money_text_suppressed", extra={"conversation_id": str(turn.conversation.pk)})
            if not turn.messages_said():
                turn.say("Here is what I have so far.")
            return
        turn.say(text)
