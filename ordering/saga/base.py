"""What every part of the saga is made of: the steps' names, the claim a step runs under, the keys.

`Claim` (the step a worker runs, its lease, its keys), `TokenRequest` (the vault's delegate body, fixed when
the mint step is claimed) and `StepHistory` (the flow's earlier step rows, read once per claim); `round_key`
and `spend_reference` (the merchant's Idempotency-Key source and the spend reservation's reference); and
what the engine and the undo steps share: the retry timing (`retry_delay`, `refusal_wait`) and
`ask_for_a_person`.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from catalog_adapters.contract import PaymentToken
from catalog_adapters.errors import MerchantCircuitOpen, MerchantRateLimited
from config.statements import postgresql_or_orm
from consent.models import Address, PaymentMethod, Scope
from ordering.errors import FlowNotConfirmable
from ordering.hooks import PersonNeeded, person_needed
from ordering.models import CompensationStatus, EscalationReason, FlowStatus, FlowStep, OrderFlow, StepStatus
from ordering.services import conversation_mark_escalated

STEPS = ("check_consent", "reserve_spend", "score_risk", "verify_price", "mint_token", "complete_checkout")
# Steps that make no merchant call: they run together, in one transaction under the flow's lock.
LOCAL_STEPS = frozenset({"check_consent", "reserve_spend", "score_risk"})
NEXT_STEP = dict(itertools.pairwise(STEPS))
FLOW_SCOPES = (Scope.PLACE_ORDERS, Scope.USE_SAVED_PAYMENT, Scope.USE_SAVED_ADDRESS)
# Compensations of one placement round; cancel_checkout belongs to the whole flow (the session stays
# open for a new preview after a price change).
ROUND_COMPENSATIONS = ("cancel_order", "revoke_token", "release_spend")
RUNNABLE_STATUSES = (FlowStatus.CONFIRMED, FlowStatus.PLACING)
# Step rows whose call our own side refused (nothing sent): not attempts of the step.
REFUSED_CLASSES = frozenset({MerchantCircuitOpen.error_class, MerchantRateLimited.error_class})
# Spread over this many seconds, flows waiting for one breaker do not all come back at the same instant.
REFUSAL_JITTER_SECONDS = 1.0
# Undo steps still to run (or to run again).
UNDO_OPEN = (CompensationStatus.PENDING, CompensationStatus.FAILED)
# A session's statuses after a complete the merchant took but has not finished: the outcome is unknown (it may still
# charge and create the order, or turn it down), so the flow waits for it (ordering.saga.steps, "Awaiting").
MERCHANT_WAITING_STATUSES = frozenset(
    {"complete_in_progress", "pending_approval", "requires_escalation", "in_progress"}
)
# The merchant reviews the order (a person or its risk check), rather than only finishing the payment.
MERCHANT_REVIEW_STATUSES = frozenset({"pending_approval", "requires_escalation"})
# Statuses in which the merchant has not taken a payment: a complete answered so, with no order, placed nothing. Any
# other answer without an order (complete_in_progress, pending_approval, requires_escalation, in_progress, a status
# the spec does not list) leaves the outcome unknown: the merchant may still charge and create the order, so the flow
# waits for it (ordering.saga.steps._awaiting).
MERCHANT_UNPAID_STATUSES = frozenset(
    {"incomplete", "not_ready_for_payment", "ready_for_payment", "authentication_required"}
)


# -- what a step is given ------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A step this worker runs: its row, its keys, and the lease that proves the flow is still ours."""

    flow_id: Any
    step_id: int | None  # None for a local step (its row is written with its outcome)
    step: str
    attempt_in_round: int
    operation_id: str
    started: float
    lease_until: datetime | None = None
    result: dict[str, Any] = field(default_factory=dict)
    # mint_token: the delegate body fixed at the claim; complete_checkout: the round's recorded one.
    token_request: TokenRequest | None = None
    flow: OrderFlow = field(kw_only=True, compare=False, repr=False)
    history: StepHistory = field(kw_only=True, compare=False, repr=False)
    # When this logical call was first attempted: refusals wait at most ORDERING_STEP_GIVE_UP_SECONDS from it.
    since: datetime | None = None
    # complete_checkout: the handler the round's verify_price negotiated ("": the client negotiates it again).
    payment_handler: str = ""
    # complete_checkout: what the latest attempt recorded when the merchant took the complete but had not finished
    # it (`merchant_status`, `awaiting_since`, `polls`, …); None until then. Set, the step only reads the outcome.
    awaiting: dict[str, Any] | None = None

    @property
    def step_row_id(self) -> int:
        """The attempt row of a merchant step, inserted when it was claimed (a local step has none yet)."""
        if self.step_id is None:
            raise ValueError(f"{self.step} runs locally: its row is written with its outcome")
        return self.step_id


@dataclass(frozen=True)
class TokenRequest:
    """Everything the vault's delegate body is made of, recorded on the mint step (no secret in it)."""

    round_number: int
    payment_attempt: int
    amount: int
    currency: str
    expires_at: datetime
    # The seller's account with its PSP, from the negotiated card handler's config (rfc.payment_handlers: the agent
    # puts it in the allowance); "" when the handler names none (the merchant's id in our registry is sent then).
    psp_merchant_id: str = ""

    def as_result(self) -> dict[str, Any]:
        result = {
            "round": self.round_number,
            "payment_attempt": self.payment_attempt,
            "max_amount": self.amount,
            "currency": self.currency,
            "token_expires_at": self.expires_at.isoformat(),
        }
        if self.psp_merchant_id:
            result["psp_merchant_id"] = self.psp_merchant_id
        return result

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> TokenRequest:
        return cls(
            round_number=result["round"],
            payment_attempt=result.get("payment_attempt", 0),
            amount=result["max_amount"],
            currency=result["currency"],
            expires_at=datetime.fromisoformat(result["token_expires_at"]),
            psp_merchant_id=result.get("psp_merchant_id", ""),
        )


_HISTORY_COLUMNS = ("id", "name", "idempotency_key", "status", "result", "error_class", "started_at")


def _step_rows(flow: OrderFlow) -> list[tuple[Any, ...]]:
    """The flow's steps in attempt order, as (pk, name, key, status, result, error_class, started_at): hand-written on
    PostgreSQL (building the ORM's query cost more Python than reading it), the ORM's `values_list` elsewhere."""

    def one_statement() -> list[tuple[Any, ...]]:
        by_name = {field.name: field for field in FlowStep._meta.concrete_fields}
        fields = [by_name[name] for name in _HISTORY_COLUMNS]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        sql = (
            f"SELECT {columns} FROM {quote(FlowStep._meta.db_table)} "  # noqa: S608 - our own names only
            f"WHERE {quote(by_name['flow'].column)} = %s ORDER BY attempt, id"
        )
        converters = [(index, field.get_db_converters(connection)) for index, field in enumerate(fields)]  # type: ignore[attr-defined]
        converters = [(index, found) for index, found in converters if found]
        with connection.cursor() as cursor:
            cursor.execute(sql, [OrderFlow._meta.pk.get_db_prep_value(flow.pk, connection)])
            fetched = cursor.fetchall()
        rows = []
        for row in fetched:
            values = list(row)
            for index, found in converters:
                for converter in found:
                    values[index] = converter(values[index], None, connection)
            rows.append(tuple(values))
        return rows

    def orm() -> list[tuple[Any, ...]]:
        return list(
            FlowStep.objects.filter(flow=flow).order_by("attempt", "id").values_list("pk", *_HISTORY_COLUMNS[1:])
        )

    return postgresql_or_orm(postgresql=one_statement, orm=orm)


@dataclass
class StepHistory:
    """The flow's earlier step rows, read once per claim: attempt numbers, dead workers' rows, token requests.

    `per_key` counts the attempts of each logical call that may have reached the merchant; rows our own
    breaker or rate limit refused (nothing sent) are left out, so they use up no attempt.
    """

    totals: dict[str, int] = field(default_factory=dict)
    per_key: dict[str, int] = field(default_factory=dict)
    running: list[int] = field(default_factory=list)
    token_requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_started: dict[str, datetime] = field(default_factory=dict)
    # verify_price's key -> the payment handler it negotiated (complete pays with it without reading the session)
    payment_handlers: dict[str, str] = field(default_factory=dict)
    # verify_price's key -> the seller's PSP account its handler's config names (the token's allowance carries it)
    psp_merchant_ids: dict[str, str] = field(default_factory=dict)
    # complete_checkout's key -> the latest attempt's record of a complete the merchant took but had not finished
    awaiting: dict[str, dict[str, Any]] = field(default_factory=dict)
    # mint_token's key -> the token this task minted: held in memory only, never stored, so the complete that
    # follows in the same task pays with it instead of asking the vault again for the same token.
    minted: dict[str, PaymentToken] = field(default_factory=dict, repr=False)
    # Whether the customer had placed another order, as this task's risk step counted it (None: not assessed in
    # this task, e.g. a flow resumed after a review): the placement's first-or-repeat label, without a query.
    ordered_before: bool | None = None

    @classmethod
    def read(cls, flow: OrderFlow) -> StepHistory:
        history = cls()
        for pk, name, key, status, result, error_class, started_at in _step_rows(flow):
            history.totals[name] = history.totals.get(name, 0) + 1
            history.first_started.setdefault(key, started_at)
            if error_class not in REFUSED_CLASSES:
                history.per_key[key] = history.per_key.get(key, 0) + 1
            if status == StepStatus.RUNNING:
                history.running.append(pk)
            if name == "mint_token" and result:
                history.token_requests[key] = result  # the latest attempt's wins
            elif name == "complete_checkout" and result.get("awaiting_since"):
                history.awaiting[key] = result  # the latest attempt's wins
            elif name == "verify_price" and status == StepStatus.SUCCEEDED and result.get("payment_handler"):
                history.record(name, key, result)
        return history

    def record(self, name: str, key: str, result: dict[str, Any]) -> None:
        """What a step that just succeeded in this task tells the steps claimed after it in the same task."""
        if name == "verify_price" and result.get("payment_handler"):
            self.payment_handlers[key] = result["payment_handler"]
            if result.get("psp_merchant_id"):
                self.psp_merchant_ids[key] = result["psp_merchant_id"]

    def next_attempt(self, name: str, key: str) -> tuple[int, int]:
        """(the attempt number of the step's new row, its attempt number within this logical call).

        The second counts only earlier attempts that may have reached the merchant (see `per_key`).
        """
        self.totals[name] = self.totals.get(name, 0) + 1
        self.per_key[key] = self.per_key.get(key, 0) + 1
        return self.totals[name], self.per_key[key]


# -- keys ----------------------------------------------------------------------------------------


PAYMENT_STEPS = ("mint_token", "complete_checkout")


def round_key(flow: OrderFlow, name: str) -> str:
    """The operation id of one logical call of one placement round (the merchant's Idempotency-Key source).

    A payment retried after a specialist verified it is a new logical call (new token, a complete
    with an authentication result), so its steps carry the payment attempt number too.
    """
    key = f"flow:{flow.pk}:r{flow.confirmations}:{name}"
    if name in PAYMENT_STEPS and flow.payment_attempt:
        key += f":p{flow.payment_attempt}"
    return key


def spend_reference(flow: OrderFlow) -> str:
    return f"flow:{flow.pk}:r{flow.confirmations}"


def flow_instruments(flow: OrderFlow) -> tuple[PaymentMethod, Address]:
    """The card a confirmed flow pays with and the address it ships to (confirming requires both)."""
    if flow.payment_method is None or flow.shipping_address is None:
        raise FlowNotConfirmable("This order has no card or no shipping address.", flow_id=str(flow.pk))
    return flow.payment_method, flow.shipping_address


# -- shared by the steps and the undo steps -----------------------------------------------------


def retry_delay(attempt: int) -> float:
    base = settings.ORDERING_STEP_RETRY_BASE_SECONDS
    cap = settings.ORDERING_STEP_RETRY_MAX_SECONDS
    # Full jitter: many flows failing together against one merchant do not retry in lockstep.
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # noqa: S311 - jitter, not security


def refusal_wait(retry_after: float | None, *, deadline: datetime | None) -> float:
    """Seconds until a refused call should come back: when our breaker half-opens, never past the deadline.

    Coming back earlier would only be refused again; coming back at the deadline (refused or not)
    settles it. A little jitter spreads the flows that wait for the same breaker.
    """
    wait = (retry_after or 0.0) + random.uniform(0, REFUSAL_JITTER_SECONDS)  # noqa: S311 - jitter
    if deadline is not None:
        wait = min(wait, max(0.0, (deadline - timezone.now()).total_seconds()))
    return wait


def merchant_wait_delay(polls: int) -> float:
    """Seconds until the next read of a session the merchant is still completing: doubling from
    ORDERING_MERCHANT_WAIT_POLL_BASE_SECONDS up to ORDERING_MERCHANT_WAIT_POLL_MAX_SECONDS, a little jitter."""
    base = float(settings.ORDERING_MERCHANT_WAIT_POLL_BASE_SECONDS)
    cap = float(settings.ORDERING_MERCHANT_WAIT_POLL_MAX_SECONDS)
    delay: float = min(cap, base * 2.0 ** max(polls - 1, 0))
    return delay + random.uniform(0, delay / 10)  # noqa: S311 - jitter, not security


def flow_awaiting_merchant(flow: OrderFlow) -> bool:
    """Whether the flow waits for the merchant to finish a complete it took (complete_in_progress, pending_approval,
    requires_escalation): placing, its round's complete answered so and nothing after it decided (call with the
    flow locked)."""
    if flow.status != FlowStatus.PLACING or flow.next_step != "complete_checkout":
        return False
    return FlowStep.objects.filter(
        flow=flow, name="complete_checkout", idempotency_key=round_key(flow, "complete_checkout"),
        result__has_key="awaiting_since",
    ).exists()  # fmt: skip


def ask_for_a_person(flow: OrderFlow, reason: EscalationReason, detail: str) -> int:
    """Open an escalation about the flow in the current transaction (ordering.hooks.person_needed), and
    mark its conversation as with a person."""
    escalation_id = person_needed.ask(
        PersonNeeded(
            reason=reason,
            customer_id=flow.customer_id,
            flow_id=flow.pk,
            conversation_id=flow.conversation_id,
            detail=detail,
        )
    )
    conversation_mark_escalated(conversation_id=flow.conversation_id)
    return escalation_id
