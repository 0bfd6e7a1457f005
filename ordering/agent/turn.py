"""One customer turn: the only door through which a planner acts and speaks.

`call_tool` checks the arguments against the tool's JSON Schema before anything runs, and records
every call with the planner's rationale (an `AgentDecision` for staff, an audit event for the
customer's activity log). `say` and `ask` post assistant messages; text from tools is rendered by
server code, and merchant text only ever travels as data.
"""

from __future__ import annotations

import logging
from typing import Any

import jsonschema
from django.db import transaction

from audit.models import ActorType, Outcome
from audit.services import audit_record
from ordering.agent import metrics as agent_metrics
from ordering.agent.state import state_bounded, state_load
from ordering.agent.tools import TOOLS, ToolCall, ToolResult
from ordering.models import (
    AgentDecision,
    Conversation,
    ConversationTurn,
    DecisionKind,
    Message,
    MessageRole,
    OrderFlow,
)
from ordering.services import conversation_post

logger = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_RESULT_CHARS = 4000


def _short(value: Any, limit: int = 300) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Turn:
    def __init__(self, *, conversation: Conversation, record: ConversationTurn | None, customer_text: str) -> None:
        self.conversation = conversation
        self.record = record
        self.customer_id: int = conversation.customer_id
        self.customer_text = customer_text
        self.state: dict[str, Any] = state_load(conversation.agent_state)
        self.planner_name = ""
        self._said: list[Message] = []
        # Products the shop answered during this turn (one fetch per product per turn).
        self.products: dict[str, Any] = {}
        # Units reserved (or released) at the shop by this turn's cart changes, per variant, after the
        # products above were fetched: their stock figures do not include them yet.
        self.reserved_since_fetch: dict[str, int] = {}
        # The shop's latest answer per checkout session this turn sent the cart to (a preview reads no more).
        self.checkout_sessions: dict[str, Any] = {}

    # -- the planner's interface --------------------------------------------------------------------

    def call_tool(self, call: ToolCall, *, speak: bool = True) -> ToolResult:
        """Run one tool call; its server-rendered `say` is posted to the customer unless `speak` is False."""
        spec = TOOLS.get(call.name)
        if spec is None:
            result = ToolResult(ok=False, data={}, error=f"There is no tool named {call.name!r}.")
            self._record_tool(call, result)
            return result
        arguments = call.arguments if isinstance(call.arguments, dict) else {}
        try:
            jsonschema.validate(arguments, spec.parameters)
        except jsonschema.ValidationError as error:
            where = ".".join(str(part) for part in error.absolute_path) or "arguments"
            result = ToolResult(ok=False, data={}, error=f"Invalid arguments for {call.name}: {where}: {error.message}")
            self._record_tool(call, result)
            return result
        try:
            result = spec.handler(self, dict(arguments))
        except Exception:
            logger.exception("tool %s crashed", call.name, extra={"conversation_id": str(self.conversation.pk)})
            result = ToolResult(ok=False, data={}, error="That did not work on our side; please try again.")
        self._record_tool(call, result)
        agent_metrics.tool_calls.labels(tool=call.name, ok=str(result.ok).lower()).inc()
        if result.say and speak:
            self.say(result.say, data=result.message_data)
        return result

    def say(self, text: str, *, data: dict | None = None) -> None:
        self._post(MessageRole.ASSISTANT, text, data)

    def ask(self, question: str, *, pending: dict | None = None, quick_replies: list[dict] | None = None) -> None:
        """One clarifying question; remembered as the pending question until answered."""
        self.state["pending"] = {**(pending or {}), "question": _short(question, 500)}
        self.save_state()
        self.record_decision(DecisionKind.CLARIFICATION, "ask", rationale=question, arguments=pending or {})
        data: dict[str, Any] = {"kind": "question"}
        if quick_replies:
            data["quick_replies"] = quick_replies
        self._post(MessageRole.ASSISTANT, question, data)

    def cart_flow(self) -> OrderFlow | None:
        from ordering.agent.merchant import cart_flow

        return cart_flow(self.conversation, self.state)

    def latest_preview_hash(self) -> str:
        """The preview hash when the assistant's latest message (before this turn's) is a preview waiting for
        a decision, or a reminder of it; "" when the latest message is anything else."""
        latest = (
            Message.objects.filter(conversation=self.conversation)
            .exclude(role=MessageRole.CUSTOMER)
            .exclude(pk__in=[message.pk for message in self._said])
            .order_by("-id")
            .first()
        )
        if latest is None or (latest.data or {}).get("kind") not in ("preview", "preview_reminder"):
            return ""
        data = latest.data
        return data.get("preview_hash") or (data.get("preview") or {}).get("preview_hash") or ""

    def recent_messages(self, limit: int) -> list[dict]:
        messages = list(
            Message.objects.filter(conversation=self.conversation).order_by("-created_at", "-id")[: max(0, limit)]
        )
        return [{"role": message.role, "text": _short(message.text, 1000)} for message in reversed(messages)]

    def messages_said(self) -> list[Message]:
        return list(self._said)

    # -- for the pipeline and the tools ---------------------------------------------------------------

    def save_state(self) -> None:
        self.conversation.agent_state = state_bounded(self.state)
        self.conversation.save(update_fields=["agent_state", "updated_at"])

    def record_decision(
        self,
        kind: str,
        name: str,
        *,
        rationale: str,
        arguments: dict | None = None,
        ok: bool = True,
        result: dict | None = None,
        error: str = "",
    ) -> AgentDecision:
        with transaction.atomic():
            decision = AgentDecision.objects.create(
                conversation=self.conversation,
                turn=self.record,
                kind=kind,
                name=name[:64],
                arguments=arguments or {},
                rationale=_short(rationale, 1000),
                ok=ok,
                result=_bounded_json(result or {}),
                error=_short(error or "", 1000),
                planner=self.planner_name,
            )
            audit_record(
                action="agent.decided" if kind != DecisionKind.TOOL else "agent.tool_called",
                actor_type=ActorType.AGENT,
                customer_id=self.customer_id,
                target_type="conversation",
                target_id=self.conversation.pk,
                outcome=Outcome.OK if ok else Outcome.FAILED,
                data={"kind": kind, "name": name, "rationale": _short(rationale), "decision_id": decision.pk},
            )
        return decision

    def _record_tool(self, call: ToolCall, result: ToolResult) -> None:
        self.record_decision(
            DecisionKind.TOOL,
            call.name,
            rationale=call.rationale or "(no rationale given)",
            arguments=call.arguments if isinstance(call.arguments, dict) else {"raw": _short(call.arguments)},
            ok=result.ok,
            result=result.data,
            error=result.error or "",
        )

    def _post(self, role: str, text: str, data: dict | None) -> Message:
        message = conversation_post(
            conversation_id=self.conversation.pk, role=role, text=_short(text, MAX_TEXT), data=data or {}
        )
        if self.record is not None:
            Message.objects.filter(pk=message.pk).update(turn=self.record)
            message.turn = self.record
        self._said.append(message)
        return message


def _bounded_json(value: dict) -> dict:
    import json

    text = json.dumps(value, default=str)
    if len(text) <= MAX_RESULT_CHARS:
        return json.loads(text)
    return {"truncated": text[:MAX_RESULT_CHARS]}
