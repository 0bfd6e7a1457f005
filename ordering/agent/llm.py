"""The LLM command generator: any OpenAI-compatible endpoint reads the customer's message into commands.

The model does what the offline generator (`ordering.agent.understand`) does, through tool calling:
one request per customer message (`ordering.agent.prompt.command_prompt`: the rules, the
`DialogueContext` and a compact catalog index as JSON data, the last few messages, the new text) with
one tool per command kind, named exactly the kind, whose parameters are the command's JSON Schema.
Each tool call becomes a command through `command_from_dict`; a call that does not fit (unknown tool,
arguments that are not JSON or break the schema) is sent back once with the error, and the model
answers again (at most two requests per message). Everything else is an `LLMFailure` with a short,
bounded `reason`, and the caller lets the offline generator answer the same message.

The generator acts on nothing and decides nothing: it reports what the model read, even a `confirm`
nobody asked for; the policy (`ordering.agent.policy`) checks every command against the invariants
(explicit confirmation of the latest preview, nothing substituted, ...) and speaks to the customer.
The model's own text is never used, so it can neither state a price nor talk the customer into
anything. It never sees card data beyond the last four digits the customer sees too.

Bounds: each request waits at most `LLM_TIMEOUT_SECONDS` and is retried once by the `openai` client on
a timeout, a connection error or a 5xx; the repair request is not retried. A turn therefore waits at
most about three times the timeout before the offline generator takes over, and never past the turn's
deadline (`config.deadline`): each request's timeout is capped by the time left, and no retry is made
when the time left would not cover it.

Metrics: `ordering_llm_calls_total{outcome}` (ok, timeout, connection, http_error, bad_response),
`ordering_llm_tokens_total{kind}` (prompt, completion), `ordering_llm_call_seconds`, and
`ordering_llm_fallbacks_total{reason}`, counted here once per failed message (the caller does not
count it again). Every label value comes from a fixed set.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from prometheus_client import Counter, Histogram

from config.deadline import time_left, timeout_capped
from ordering.agent.commands import COMMAND_TYPES, Command, CommandError, DialogueContext, command_from_dict
from ordering.agent.prompt import command_prompt, command_tools

if TYPE_CHECKING:
    import openai

logger = logging.getLogger(__name__)

llm_calls = Counter("ordering_llm_calls_total", "Chat completion calls", ["outcome"])
llm_tokens = Counter("ordering_llm_tokens_total", "Tokens reported by the endpoint", ["kind"])
llm_fallbacks = Counter(
    "ordering_llm_fallbacks_total", "Customer messages the offline generator answered instead", ["reason"]
)
llm_latency = Histogram(
    "ordering_llm_call_seconds", "Latency of one chat completion call", buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30)
)

# More commands than this from one message is not a reading of it.
MAX_COMMANDS_PER_MESSAGE = 8

REPAIR_HINT = (
    "Call the tools again only for the calls that failed, with corrected arguments (or cannot_handle for"
    " words you cannot express as a command); the accepted calls stand."
)


class LLMFailure(Exception):
    """The model gave no usable commands: unreachable, too slow, malformed, or invalid twice.

    `reason` is one of a fixed set (a metric label); `detail` is for the log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@functools.lru_cache(maxsize=8)
def _client(base_url: str, api_key: str, timeout: float) -> openai.OpenAI:
    # One client (and connection pool) per endpoint for the process, not one per message. `openai` is imported
    # here, not with this module: its types cost about a second of CPU, which a process without a model (every
    # Celery worker, server and test process of a deployment or run with no LLM_* set) never needs to pay.
    import openai

    return openai.OpenAI(
        base_url=base_url,
        api_key=api_key,
        timeout=timeout,
        max_retries=1,
        # The SDK's own defaults (timeouts, pool limits, redirects), with the process' one TLS context: each new
        # client otherwise loads the CA bundle again, ~15 ms of CPU (a client per endpoint, and a new endpoint in
        # each test with its own scripted model server).
        http_client=openai.DefaultHttpxClient(verify=_tls_context()),
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The TLS context the SDK's HTTP client makes by default (the system's CA bundle, or `SSL_CERT_FILE` /
    `SSL_CERT_DIR`), made once per process: an SSLContext is safe to share between threads and clients."""
    import httpx2

    return httpx2.create_ssl_context()


def llm_generator_for_settings() -> LLMGenerator | None:
    """The LLM generator when `LLM_BASE_URL` and `LLM_MODEL` are set; None: the offline generator alone."""
    if settings.LLM_BASE_URL and settings.LLM_MODEL:
        return LLMGenerator(tool_choice=getattr(settings, "LLM_TOOL_CHOICE", "") or "required")
    return None


def catalog_index_from_lexicon(lexicon: Any) -> list[dict]:
    """The products of an offline `CatalogLexicon` as the prompt's catalog index entries."""
    return [
        {
            "id": product.id,
            "title": product.title,
            "category": product.category,
            "colours": list(product.colours),
            "sizes": list(product.sizes),
        }
        for product in lexicon.products
    ]


def catalog_index_default() -> list[dict] | None:
    """The default merchant's catalog index, from the offline reader's lexicon; None when it cannot be had
    (the model then names products in words, and the policy searches)."""
    try:
        from ordering.agent.merchant import merchant_id_default
        from ordering.agent.understand import catalog_lexicon

        return catalog_index_from_lexicon(catalog_lexicon(merchant_id_default()))
    except Exception as error:  # the index only helps the model; a turn never fails for want of it
        logger.warning("llm.no_catalog_index", extra={"error": f"{type(error).__name__}: {error}"[:300]})
        return None


class LLMGenerator:
    """Reads one customer message into commands with a language model (see the module docstring)."""

    name = "llm"

    def __init__(
        self,
        *,
        client: openai.OpenAI | None = None,
        model: str | None = None,
        tool_choice: str = "required",
        catalog: Callable[[], list[dict] | None] | None = None,
    ) -> None:
        self.client = client or _client(
            settings.LLM_BASE_URL, settings.LLM_API_KEY or "not-needed", float(settings.LLM_TIMEOUT_SECONDS)
        )
        self.model = model or settings.LLM_MODEL
        # "required": the answer must be tool calls. An endpoint that cannot force them may take "auto";
        # a reply with text only is then a failure ("no_commands") and the offline generator answers.
        self.tool_choice = tool_choice
        self.catalog = catalog or catalog_index_default
        self.calls = 0  # requests made by the last `generate`, for the evaluation's calls-per-turn

    def generate(
        self,
        *,
        text: str,
        context: DialogueContext,
        recent: list[dict],
        catalog_index: list[dict] | None = None,
    ) -> list[Command]:
        """The commands the model read in `text`; raises LLMFailure (already counted) when it gave none usable.

        `recent` is the conversation's last messages (`{"role", "text"}`, oldest first); `catalog_index`
        the shop's products (`{"id", "title", "category", "colours", "sizes"}`), listed for the model
        when there are at most `prompt.MAX_CATALOG_PRODUCTS`; by default the offline reader's lexicon
        of the default merchant (cached there)."""
        self.calls = 0
        if catalog_index is None:
            catalog_index = self.catalog()
        try:
            return self._generate(text=text, context=context, recent=recent, catalog_index=catalog_index)
        except LLMFailure as failure:
            llm_fallbacks.labels(reason=failure.reason).inc()
            logger.warning(
                "llm.generator_failed",
                extra={"reason": failure.reason, "detail": failure.detail[:300], "llm_calls": self.calls},
            )
            raise

    def _generate(
        self, *, text: str, context: DialogueContext, recent: list[dict], catalog_index: list[dict] | None
    ) -> list[Command]:
        limit = max(0, int(settings.LLM_RECENT_MESSAGES))
        messages = command_prompt(
            text=text, context=context, recent=recent[-limit:] if limit else [], catalog_index=catalog_index
        )
        message = self._complete(messages, retries=True)
        calls = _tool_calls(message)
        if not calls:
            raise LLMFailure("no_commands", "the model answered without calling a tool")
        accepted, problems = _read_calls(calls)
        if not problems:
            return _bounded(accepted)

        # One repair round: the model sees which calls failed and why, and answers again.
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
                    for call_id, name, arguments in calls
                ],
            }
        )
        for call_id, name, _arguments in calls:
            problem = problems.get(call_id)
            content = (
                json.dumps({"ok": False, "error": problem, "what_to_do": REPAIR_HINT})
                if problem
                else json.dumps({"ok": True, "accepted": name})
            )
            messages.append({"role": "tool", "tool_call_id": call_id, "content": content})
        repaired_calls = _tool_calls(self._complete(messages, retries=False))
        if not repaired_calls:
            raise LLMFailure("invalid_commands", "; ".join(problems.values())[:300])
        repaired, still_wrong = _read_calls(repaired_calls)
        if still_wrong:
            raise LLMFailure("invalid_commands", "; ".join(still_wrong.values())[:300])
        if len([command for command in repaired if command not in accepted]) < len(problems):
            # A failed call the repair left out would be words of the customer's silently dropped (a code
            # never answered); the offline generator reads the whole message instead.
            raise LLMFailure("invalid_commands", f"the repair answered {len(repaired)} of {len(problems)} calls")
        return _bounded(_merge(calls, accepted, problems, repaired))

    def _complete(self, messages: list[dict], *, retries: bool) -> Any:
        import openai  # imported already by whoever made the client (see `_client`): a lookup in sys.modules

        left = time_left()
        if left is not None and left <= 0:
            # The turn's deadline passed: no request at all (the offline reader answers, if time allows).
            raise LLMFailure("timeout", "the turn's deadline passed before the request")
        if left is not None and retries and left < 2 * float(settings.LLM_TIMEOUT_SECONDS):
            retries = False  # a retry would only run into the deadline; the time left goes to one attempt
        client = self.client if retries else self.client.with_options(max_retries=0)
        self.calls += 1
        started = time.monotonic()
        try:
            response = client.chat.completions.create(
                model=self.model,
                # `messages` and `tools` go on the wire as they are (the same JSON, in the same place): the
                # client's per-request walk of them against its TypedDicts (~5 ms a request for the constant
                # tool schemas, ~2 ms for the messages) has nothing to convert in plain JSON data.
                messages=[],
                tool_choice=self.tool_choice,
                temperature=0,
                extra_body={"messages": messages, "tools": command_tools()},
                # Each attempt waits at most LLM_TIMEOUT_SECONDS, and never past the turn's deadline.
                timeout=timeout_capped(float(settings.LLM_TIMEOUT_SECONDS)),
            )
        except openai.APITimeoutError as error:
            llm_calls.labels(outcome="timeout").inc()
            raise LLMFailure("timeout", str(error)) from error
        except openai.APIConnectionError as error:
            llm_calls.labels(outcome="connection").inc()
            raise LLMFailure("connection", str(error)) from error
        except openai.APIStatusError as error:
            llm_calls.labels(outcome="http_error").inc()
            raise LLMFailure("http_error", f"status {error.status_code}") from error
        except (openai.OpenAIError, ValueError) as error:  # ValueError: a body that is not JSON
            llm_calls.labels(outcome="bad_response").inc()
            raise LLMFailure("bad_response", str(error)) from error
        finally:
            llm_latency.observe(time.monotonic() - started)
        try:
            usage = response.usage
            if usage is not None:
                llm_tokens.labels(kind="prompt").inc(max(0, int(usage.prompt_tokens or 0)))
                llm_tokens.labels(kind="completion").inc(max(0, int(usage.completion_tokens or 0)))
            message = response.choices[0].message
        except (AttributeError, IndexError, TypeError, ValueError) as error:
            llm_calls.labels(outcome="bad_response").inc()
            raise LLMFailure("bad_response", f"no message in the response: {error}") from error
        llm_calls.labels(outcome="ok").inc()
        return message


def _tool_calls(message: Any) -> list[tuple[str, str, str]]:
    """(id, name, raw arguments) of each tool call; the message's text is ignored whatever it says."""
    calls: list[tuple[str, str, str]] = []
    try:
        for call in message.tool_calls or []:
            call_id = str(call.id or "")
            if not call_id or any(call_id == seen for seen, _name, _arguments in calls):
                # Ids tie the repair's error messages to the calls; some endpoints leave them out or repeat them.
                call_id = f"call_{uuid.uuid4().hex[:12]}"
            arguments = call.function.arguments
            calls.append((call_id, str(call.function.name or ""), arguments if isinstance(arguments, str) else ""))
    except (AttributeError, TypeError) as error:
        raise LLMFailure("bad_response", f"malformed tool calls: {error}") from error
    return calls


def _read_calls(calls: list[tuple[str, str, str]]) -> tuple[list[Command], dict[str, str]]:
    """The commands of the calls that fit, and an error message for each call (by id) that does not."""
    commands: list[Command] = []
    problems: dict[str, str] = {}
    for call_id, name, raw_arguments in calls:
        if name not in COMMAND_TYPES:
            problems[call_id] = f"There is no tool {name[:60]!r}; the tools are the command kinds."
            continue
        try:
            arguments = json.loads(raw_arguments or "{}")
        except ValueError as error:
            problems[call_id] = f"The arguments of {name} are not JSON: {error}."
            continue
        if not isinstance(arguments, dict):
            problems[call_id] = f"The arguments of {name} must be a JSON object."
            continue
        if arguments.pop("kind", name) != name:
            # The tool's name is the command; an argument may not turn "thanks" into "confirm".
            problems[call_id] = f"The arguments of {name} may not carry another kind."
            continue
        try:
            commands.append(command_from_dict({**arguments, "kind": name}))
        except CommandError as error:
            problems[call_id] = error.message
    return commands, problems


def _merge(
    calls: list[tuple[str, str, str]], accepted: list[Command], problems: dict[str, str], repaired: list[Command]
) -> list[Command]:
    """The first answer with its failed calls replaced by the repair, in the order the customer said them."""
    # A model that answers the repair with every call again must not double the accepted ones.
    repaired = [command for command in repaired if command not in accepted]
    failed = [call_id for call_id, _name, _arguments in calls if call_id in problems]
    if len(repaired) != len(failed):
        return accepted + repaired
    fixes = dict(zip(failed, repaired, strict=True))
    ordered = iter(accepted)
    return [fixes[call_id] if call_id in fixes else next(ordered) for call_id, _name, _arguments in calls]


def _bounded(commands: list[Command]) -> list[Command]:
    if len(commands) > MAX_COMMANDS_PER_MESSAGE:
        raise LLMFailure("too_many_commands", f"{len(commands)} commands from one message")
    return commands
