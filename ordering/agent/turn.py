"""One customer turn: the only door through which a planner acts and speaks.

`call_tool` checks the arguments against the tool's JSON Schema before anything runs (a validator
built once per tool and kept), and records every call with the planner's rationale (an
`AgentDecision` for staff, an audit event for the customer's activity log). `say` and `ask` post
assistant messages; text from tools is rendered by server code, and merchant text only ever travels
as data.

Cheap by construction: the conversation's state is written once, at the end of the turn
(`state_flush`; `save_state` only marks it changed), the cart's flow is read once between two tool
calls (`cart_flow`), and no new tool call starts once the turn's deadline has passed
(`config.deadline`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from typing import TYPE_CHECKING, Any

import jsonschema
from django.db import connection, transaction

from audit.models import ActorType, Outcome
from audit.services import audit_record_many
from config.deadline import deadline_check
from config.statements import models_select, postgresql_or_orm
from consent.models import Address, MerchantAccount, PaymentMethod
from consent.selectors import (
    SavedDetails,
    address_get,
    addresses_for_customer,
    merchant_account_for_customer,
    payment_methods_for_customer,
)
from ordering import metrics as flow_metrics
from ordering.agent import metrics as agent_metrics
from ordering.agent.state import state_bounded, state_load
from ordering.agent.tools import TOOL_STEPS, TOOLS, ToolCall, ToolResult
from ordering.models import (
    AgentDecision,
    Conversation,
    ConversationTurn,
    DecisionKind,
    Message,
    MessageRole,
    OrderFlow,
)

if TYPE_CHECKING:
    from ordering.agent.merchant import CartBuyer

logger = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_RESULT_CHARS = 4000
# Saved cards or addresses a turn reads (the settings page keeps far fewer).
MAX_SAVED = 50


@functools.cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    """The tool's argument validator, built once per process (tool schemas are constants)."""
    schema = TOOLS[name].parameters
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _short(value: Any, limit: int = 300) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Turn:
    def __init__(
        self,
        *,
        conversation: Conversation,
        record: ConversationTurn | None,
        customer_text: str,
        saved: SavedDetails | None = None,
    ) -> None:
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
        # Codes this turn will apply once its cart exists, offered to the shop with the cart's create (one call
        # instead of a create and an update); and, per code the create carried, the shop's answer to it
        # (`ordering.agent.tools.cart`: `cart_send`, `apply_promo`).
        self.codes_on_create: list[str] = []
        self.codes_created_with: dict[str, Any] = {}
        self._state_saved = json.dumps(self.state, sort_keys=True, default=str)
        # Whether the turn's end found the state changed (`ordering.agent.pipeline.turn_run`).
        self.state_changed = False
        # The cart's flow as read since the last tool call: (flow id it was read for, the flow or None).
        self._cart_flow: tuple[str | None, OrderFlow | None] | None = None
        self._cart_flow_written = False
        # The customer's consent profile as this turn's last placement check read it (a 1-tuple once read).
        self.placement_profile: tuple[Any] | None = None
        self._payment_methods: list[PaymentMethod] | None = None
        self._addresses: list[Address] | None = None
        self._merchant_account: tuple[str, MerchantAccount | None] | None = None
        if saved is not None:
            # Read with the turn itself (`ordering.services.turn_execute`): no read of their own.
            self._payment_methods = list(saved.payment_methods[:MAX_SAVED])
            self._addresses = list(saved.addresses[:MAX_SAVED])
            self._merchant_account = (saved.merchant_id, saved.account)
        # Decisions recorded and not written yet, and those written inside a transaction not committed yet.
        self._decisions: list[AgentDecision] = []
        self._decisions_in_flight: list[AgentDecision] = []

    # -- the planner's interface --------------------------------------------------------------------

    def call_tool(self, call: ToolCall, *, speak: bool = True) -> ToolResult:
        """Run one tool call; its server-rendered `say` is posted to the customer unless `speak` is False."""
        spec = TOOLS.get(call.name)
        if spec is None:
            result = ToolResult(ok=False, data={}, error=f"There is no tool named {call.name!r}.")
            self._record_tool(call, result)
            return result
        deadline_check()
        # A tool may change the cart's flow (create, preview, cancel it): read it again after any tool, unless
        # the last one wrote it and kept it as saved (`cart_flow_written`).
        if not self._cart_flow_written:
            self._cart_flow = None
        self._cart_flow_written = False
        arguments = call.arguments if isinstance(call.arguments, dict) else {}
        try:
            error = jsonschema.exceptions.best_match(_validator(call.name).iter_errors(arguments))
            if error is not None:
                raise error
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
        if result.shop_error_class and call.name in TOOL_STEPS:
            step = TOOL_STEPS[call.name]
            flow_metrics.turn_step_failures.labels(step=step, error_class=result.shop_error_class).inc()
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
        """The flow owning the cart's checkout session, read once between two tool calls (or as the last tool
        wrote it)."""
        from ordering.agent.merchant import cart_flow

        flow_id = self.state.get("flow_id")
        if self._cart_flow is None or self._cart_flow[0] != flow_id:
            self._cart_flow = (flow_id, cart_flow(self.conversation, self.state))
            self._cart_flow_written = False
        return self._cart_flow[1]

    def cart_flow_written(self, flow: OrderFlow | None) -> None:
        """A tool has just written the cart's flow (started, previewed or stopped it) and holds it as saved:
        the next tool call starts from it instead of reading it again."""
        from ordering.agent.merchant import CART_FLOW_STATUSES

        if flow is not None and str(flow.pk) != self.state.get("flow_id"):
            return
        cart = flow if flow is not None and flow.status in CART_FLOW_STATUSES else None
        self._cart_flow = (self.state.get("flow_id"), cart)
        self._cart_flow_written = True

    def forget_cart_flow(self) -> None:
        """The cart's flow changed outside a tool call (a confirmation, a decline): read it again next time."""
        self._cart_flow = None
        self._cart_flow_written = False

    # -- the customer's saved details, read once per turn ---------------------------------------------

    def payment_methods(self) -> list[PaymentMethod]:
        """The customer's saved cards, default first (read once per turn)."""
        if self._payment_methods is None:
            self._payment_methods = list(payment_methods_for_customer(user_id=self.customer_id)[:MAX_SAVED])
        return self._payment_methods

    def addresses(self) -> list[Address]:
        """The customer's saved addresses, default first (read once per turn)."""
        if self._addresses is None:
            self._addresses = list(addresses_for_customer(user_id=self.customer_id)[:MAX_SAVED])
        return self._addresses

    def payment_method_default(self) -> PaymentMethod | None:
        return next((method for method in self.payment_methods() if method.is_default), None)

    def shipping_address(self) -> Address | None:
        """The address chosen in this conversation, else the default one (as `merchant.shipping_address`)."""
        address_id = self.state.get("address_id")
        if not address_id:
            return next((address for address in self.addresses() if address.is_default), None)
        known = next((address for address in self.addresses() if address.pk == address_id), None)
        return known or address_get(user_id=self.customer_id, address_id=address_id)

    def merchant_account(self, merchant_id: str) -> MerchantAccount | None:
        """Who the customer is at the shop (read once per turn)."""
        if self._merchant_account is None or self._merchant_account[0] != merchant_id:
            self._merchant_account = (
                merchant_id,
                merchant_account_for_customer(user_id=self.customer_id, merchant_id=merchant_id),
            )
        return self._merchant_account[1]

    def buyer(self) -> CartBuyer:
        """Who the cart is for, from what this turn has read (the account at the shop read once)."""
        from ordering.agent.merchant import CartBuyer, merchant_id_default

        return CartBuyer(
            customer=self.conversation.customer,
            account=self.merchant_account(merchant_id_default()),
            address=self.shipping_address(),
            payment_methods=tuple(self.payment_methods()),
            addresses=tuple(self.addresses()),
        )

    def latest_preview_hash(self) -> str:
        """The preview hash when the assistant's latest message (before this turn's) is a preview waiting for
        a decision, or a reminder of it; "" when the latest message is anything else."""
        latest = self._latest_reply()
        if latest is None or (latest.data or {}).get("kind") not in ("preview", "preview_reminder"):
            return ""
        data = latest.data
        return data.get("preview_hash") or (data.get("preview") or {}).get("preview_hash") or ""

    def latest_reply_kind(self) -> str:
        """The kind of the assistant's latest message before this turn's ("preview", "info", "not_found", …), or ""."""
        latest = self._latest_reply()
        return str((latest.data or {}).get("kind") or "") if latest is not None else ""

    def _latest_reply(self) -> Message | None:
        said = [message.pk for message in self._said]

        def read() -> Message | None:
            where = "t.conversation_id = %s AND t.role <> %s"
            if said:
                where += f" AND t.id NOT IN ({', '.join(['%s'] * len(said))})"
            rows = models_select(
                Message,
                where=where,
                params=[self.conversation.pk, MessageRole.CUSTOMER, *said],
                tail="ORDER BY t.id DESC LIMIT 1",
            )
            return rows[0] if rows else None

        return postgresql_or_orm(
            postgresql=read,
            orm=lambda: (
                Message.objects.filter(conversation=self.conversation)
                .exclude(role=MessageRole.CUSTOMER)
                .exclude(pk__in=said)
                .order_by("-id")
                .first()
            ),
        )

    def recent_messages(self, limit: int) -> list[dict]:
        limit = max(0, int(limit))
        messages = postgresql_or_orm(
            postgresql=lambda: models_select(
                Message,
                where="t.conversation_id = %s",
                params=[self.conversation.pk],
                tail=f"ORDER BY t.created_at DESC, t.id DESC LIMIT {limit}",
            ),
            orm=lambda: list(
                Message.objects.filter(conversation=self.conversation).order_by("-created_at", "-id")[:limit]
            ),
        )
        return [{"role": message.role, "text": _short(message.text, 1000)} for message in reversed(messages)]

    def messages_said(self) -> list[Message]:
        return list(self._said)

    # -- for the pipeline and the tools ---------------------------------------------------------------

    def save_state(self) -> None:
        """The state changed: keep it bounded; it is written once, at the end of the turn (`state_flush`)."""
        self.conversation.agent_state = state_bounded(self.state)

    def state_flush(self, *, write: bool = True) -> bool:
        """Write the state if the turn changed it (one UPDATE per turn at most); returns whether it changed.

        With `write` False the caller writes `conversation.agent_state` itself (with the turn's end)."""
        self.conversation.agent_state = state_bounded(self.state)
        current = json.dumps(self.state, sort_keys=True, default=str)
        if current == self._state_saved:
            return False
        if write:
            self.conversation.save(update_fields=["agent_state", "updated_at"])
        self._state_saved = current
        return True

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
        """Record a decision; it is written with its audit event at the turn's next safe point
        (`decisions_flush`: before a message is posted, and at the end of the turn, failed or not)."""
        decision = AgentDecision(
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
        self._decisions.append(decision)
        return decision

    def decisions_unwritten(self) -> list[AgentDecision]:
        """The decisions recorded since the last flush (all of the turn's, when it has posted nothing yet)."""
        return list(self._decisions)

    def decisions_flush(self, *, message: Message | None = None) -> None:
        """Write the decisions recorded since the last flush, and their audit events, in one transaction
        (one multi-row INSERT each). A `message` (not saved yet) is written in the decisions' INSERT statement.

        Inside a caller's transaction (a confirmation) they count as written only once it commits: if it
        rolls back, the next flush outside any transaction writes them again, so none is ever lost.
        """
        if self._decisions_in_flight and not transaction.get_connection().in_atomic_block:
            for decision in self._decisions_in_flight:
                decision.pk = None
                decision._state.adding = True
            self._decisions[:0] = self._decisions_in_flight
            self._decisions_in_flight = []
        decisions, self._decisions = self._decisions, []
        if not decisions:
            if message is not None:
                message.save(force_insert=True)
            return
        for decision in decisions:
            decision.planner = decision.planner or self.planner_name
        with transaction.atomic(savepoint=False):
            if message is None:
                AgentDecision.objects.bulk_create(decisions)
            else:
                _insert_with_message(decisions, message)
            audit_record_many(
                [
                    {
                        "action": "agent.decided" if decision.kind != DecisionKind.TOOL else "agent.tool_called",
                        "actor_type": ActorType.AGENT,
                        "customer_id": self.customer_id,
                        "target_type": "conversation",
                        "target_id": self.conversation.pk,
                        "outcome": Outcome.OK if decision.ok else Outcome.FAILED,
                        "data": {
                            "kind": decision.kind,
                            "name": decision.name,
                            "rationale": _short(decision.rationale),
                            "decision_id": decision.pk,
                        },
                    }
                    for decision in decisions
                ]
            )
        if transaction.get_connection().in_atomic_block:
            self._decisions_in_flight.extend(decisions)
            transaction.on_commit(lambda: self._written(decisions))

    def _written(self, decisions: list[AgentDecision]) -> None:
        written = {id(decision) for decision in decisions}
        self._decisions_in_flight = [d for d in self._decisions_in_flight if id(d) not in written]

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
        # The customer reads the message only with the decisions that led to it already on record.
        message = Message(
            conversation_id=self.conversation.pk,
            role=role,
            text=_short(text, MAX_TEXT),
            data=data or {},
            turn=self.record,
        )
        with transaction.atomic() if self._decisions else contextlib.nullcontext():
            self.decisions_flush(message=message)
        self._said.append(message)
        return message


def _insert_with_message(decisions: list[AgentDecision], message: Message) -> None:
    """The decisions (one multi-row INSERT, as `bulk_create`) and the message they led to: one statement on
    PostgreSQL."""
    from ordering.services import insert_select, mark_saved

    def one_statement() -> None:
        quote = connection.ops.quote_name
        rows, params = [], []
        for decision in decisions:
            columns, values, row_params = insert_select(decision, computed={})
            rows.append(f"({values})")
            params.extend(row_params)
        message_columns, message_values, message_params = insert_select(message, computed={})
        # Only our own table and column names are interpolated; values are parameters.
        decisions_insert = f"INSERT INTO {quote(AgentDecision._meta.db_table)} ({columns}) VALUES {', '.join(rows)}"  # noqa: S608
        message_insert = f"INSERT INTO {quote(Message._meta.db_table)} ({message_columns}) VALUES ({message_values})"  # noqa: S608
        ctes = f"d AS ({decisions_insert} RETURNING id), m AS ({message_insert} RETURNING id)"
        sql = f"WITH {ctes} SELECT (SELECT array_agg(id ORDER BY id) FROM d), (SELECT id FROM m)"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *message_params])
            decision_ids, message_id = cursor.fetchone()
        for decision, pk in zip(decisions, decision_ids, strict=True):
            mark_saved(decision, pk)
        mark_saved(message, message_id)

    def orm() -> None:
        AgentDecision.objects.bulk_create(decisions)
        message.save(force_insert=True)

    postgresql_or_orm(postgresql=one_statement, orm=orm)


def _bounded_json(value: dict) -> dict:
    text = json.dumps(value, default=str)
    if len(text) <= MAX_RESULT_CHARS:
        return json.loads(text)
    return {"truncated": text[:MAX_RESULT_CHARS]}
