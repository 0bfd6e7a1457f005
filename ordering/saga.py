"""The placement saga: check consent → reserve spend → score risk → verify price → mint token → complete.

One Celery task (`flow_advance`) runs the flow on while its next step is ready (`flow_run`): the local
steps (consent, spend, risk) together in one transaction, then each merchant step.
A merchant step runs in short pieces, never holding a row lock across a merchant call:

1. claim (one transaction): lock the flow, check its status and the step lease, take the lease,
   insert the `FlowStep` attempt row, register the compensation of what the step is about to do;
2. the step itself: foreign calls only, under an Idempotency-Key derived from the flow, the
   placement round and the step, so a repeated attempt (redelivery, sweeper, crash) replays;
3. finish (one transaction, which also claims the next step when it is ready): a conditional update
   proves the lease is still ours and locks the flow, then the attempt's outcome is recorded.

Lock order: the flow, then the customer's consent profile / spend rows (audit appends take no lock).

A worker that dies mid-step leaves its lease to run out; the sweeper on beat then resumes the flow
from its recovery point (`next_step`) with the same keys, so the merchant never places twice.
Compensations run in reverse registration order and tolerate "it never happened".

A refusal by our own circuit breaker or outbound rate limit sends nothing to the merchant: it is no
attempt, neither of a step nor of an undo step. The step or undo comes back when the breaker half-opens
(`MerchantError.retry_after`), within a deadline (ORDERING_STEP_GIVE_UP_SECONDS for a step,
ORDERING_UNDO_GIVE_UP_SECONDS for an undo step), so a short merchant outage neither fails a flow on
refusals nor escalates its undo; a long one still does, after the deadline.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from audit.models import ActorType, Outcome
from audit.services import audit_record
from catalog_adapters.contract import Allowance, CheckoutSession, Money, PaymentData, PaymentToken
from catalog_adapters.errors import MerchantCircuitOpen, MerchantClientError, MerchantError, MerchantRateLimited
from catalog_adapters.registry import get_merchant
from config.tracing import get_trace_id
from consent.exceptions import ConsentDenied, ConsentError, SpendReservationSettled
from consent.formatting import format_money
from consent.models import Scope
from consent.selectors import consent_require, spend_reservation_unsettled, stepup_verified_within
from consent.services.ledger import spend_commit, spend_release, spend_reserve
from ordering import metrics
from ordering.errors import FlowNotConfirmable, PreviewIncomplete
from ordering.hooks import PersonNeeded, person_needed
from ordering.models import (
    CompensationStatus,
    EscalationReason,
    ExperimentEventKind,
    FlowCompensation,
    FlowStatus,
    FlowStep,
    MessageRole,
    OrderFlow,
    StepStatus,
    WaitingFor,
)
from ordering.preview import preview_build, preview_drifted, preview_hash, preview_text
from ordering.risk import ALLOW, REVIEW, risk_assess
from ordering.rollout.events import experiment_event_of
from ordering.services import compensations_register, conversation_mark_escalated, conversation_post
from ordering.transitions import flow_advance_on_commit, flow_compensate_on_commit, flow_transition

logger = logging.getLogger(__name__)

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


# -- what a step can answer ----------------------------------------------------------------------


@dataclass
class Advance:
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Retry:
    """Transient trouble (merchant 5xx, network, breaker open): try the same step again later.

    `refused`: our own breaker or rate limit sent nothing; not an attempt, and the retry waits
    `retry_after` seconds (the breaker's half-open time) instead of a backoff.
    """

    error_class: str
    detail: str
    refused: bool = False
    retry_after: float | None = None


@dataclass
class Fail:
    code: str
    detail: str
    error_class: str = "business"


@dataclass
class Repreview:
    """The merchant's totals differ from the confirmed preview: charge nothing, ask again."""

    session: CheckoutSession


@dataclass
class NeedsAction:
    """The flow waits for `waiting_for` (the customer's step-up, the payment's verification); `escalate` also asks
    for a person. `code` names the stop in the chat message and the audit event."""

    code: str
    detail: str
    waiting_for: WaitingFor
    escalate: EscalationReason | None = None
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Escalate:
    """A person decides before the flow goes on (a risk review): the flow waits for them."""

    reason: EscalationReason
    code: str
    detail: str
    waiting_for: WaitingFor
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Placed:
    order_id: str
    result: dict[str, Any] = field(default_factory=dict)


StepOutcome = Advance | Retry | Fail | Repreview | NeedsAction | Escalate | Placed


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
    flow: OrderFlow | None = field(default=None, compare=False, repr=False)
    history: _StepHistory | None = field(default=None, compare=False, repr=False)
    # When this logical call was first attempted: refusals wait at most ORDERING_STEP_GIVE_UP_SECONDS from it.
    since: datetime | None = None
    # complete_checkout: the handler the round's verify_price negotiated ("": the client negotiates it again).
    payment_handler: str = ""


# -- keys ----------------------------------------------------------------------------------------


PAYMENT_STEPS = ("mint_token", "complete_checkout")
# A reservation must outlive the complete call by this much, or the round stops before paying.
RESERVATION_MARGIN = timedelta(seconds=60)


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


# -- claim / run / finish ------------------------------------------------------------------------


@dataclass
class _StepHistory:
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
    # mint_token's key -> the token this task minted: held in memory only, never stored, so the complete that
    # follows in the same task pays with it instead of asking the vault again for the same token.
    minted: dict[str, PaymentToken] = field(default_factory=dict, repr=False)

    @classmethod
    def read(cls, flow: OrderFlow) -> _StepHistory:
        history = cls()
        rows = FlowStep.objects.filter(flow=flow).order_by("attempt", "id")
        columns = ("pk", "name", "idempotency_key", "status", "result", "error_class", "started_at")
        for pk, name, key, status, result, error_class, started_at in rows.values_list(*columns):
            history.totals[name] = history.totals.get(name, 0) + 1
            history.first_started.setdefault(key, started_at)
            if error_class not in REFUSED_CLASSES:
                history.per_key[key] = history.per_key.get(key, 0) + 1
            if status == StepStatus.RUNNING:
                history.running.append(pk)
            if name == "mint_token" and result:
                history.token_requests[key] = result  # the latest attempt's wins
            elif name == "verify_price" and status == StepStatus.SUCCEEDED and result.get("payment_handler"):
                history.payment_handlers[key] = result["payment_handler"]
        return history

    def record(self, name: str, key: str, result: dict[str, Any]) -> None:
        """What a step that just succeeded in this task tells the steps claimed after it in the same task."""
        if name == "verify_price" and result.get("payment_handler"):
            self.payment_handlers[key] = result["payment_handler"]

    def next_attempt(self, name: str, key: str) -> tuple[int, int]:
        """(the attempt number of the step's new row, its attempt number within this logical call).

        The second counts only earlier attempts that may have reached the merchant (see `per_key`).
        """
        self.totals[name] = self.totals.get(name, 0) + 1
        self.per_key[key] = self.per_key.get(key, 0) + 1
        return self.totals[name], self.per_key[key]


def flow_run(*, flow_id: Any, max_units: int | None = None, max_seconds: float | None = None) -> str:
    """Run the flow on this worker while its next step is runnable now; returns the last outcome's name.

    A unit is one claim: the local steps (consent, spend, risk) together in one transaction, or one
    merchant step. The flow goes back to the queue only to wait (a retry's backoff; step-up, payment
    verification and human review wait for a person and are resumed by whoever answers) or when
    this task reached its bound (`ORDERING_FLOW_UNITS_PER_TASK`, `ORDERING_FLOW_SECONDS_PER_TASK`),
    so other flows in a burst get their turn. "skipped": nothing to run, or someone else holds it.
    """
    units = max_units or settings.ORDERING_FLOW_UNITS_PER_TASK
    deadline = time.monotonic() + (settings.ORDERING_FLOW_SECONDS_PER_TASK if max_seconds is None else max_seconds)
    finished: tuple[Claim, StepOutcome] | None = None
    last = "skipped"
    while True:
        budget = units if time.monotonic() < deadline else 0
        claim, used, name = _step_transaction(flow_id, finished=finished, budget=budget)
        units -= used
        last = name or last
        if claim is None:
            return last
        outcome = _run_remote(claim)
        finished = (claim, outcome)


def flow_run_next_step(*, flow_id: Any) -> str:
    """Run one unit of the flow (the local steps, or one merchant step) and enqueue the rest."""
    return flow_run(flow_id=flow_id, max_units=1)


def _claim(flow_id: Any) -> Claim | None:
    """Run the local steps if they are next, and claim the next merchant step (tests and tools)."""
    claim, _, _ = _step_transaction(flow_id, finished=None, budget=2)
    return claim


def _lock_flow(flow_id: Any) -> OrderFlow | None:
    # `of=self`: the card and address are read in the same round trip but never locked.
    return (
        OrderFlow.objects.select_for_update(of=("self",))
        .select_related("payment_method", "shipping_address")
        .filter(pk=flow_id)
        .first()
    )


def _holds(flow: OrderFlow | None, claim: Claim) -> bool:
    """Whether the claim is still the flow's current one: a takeover always writes a later lease."""
    return (
        flow is not None
        and flow.status in RUNNABLE_STATUSES
        and flow.next_step == claim.step
        and flow.step_lease_until == claim.lease_until
    )


def _save_placing(flow: OrderFlow, fields: tuple[str, ...]) -> None:
    """Save `fields` of the locked flow, moving a confirmed flow to placing in the same UPDATE.

    The move is written once the local steps have run (after the spend reservation and the risk
    assessment, in their transaction), together with the claim of the next step: one write of the
    flow's row instead of two.
    """
    if flow.status == FlowStatus.CONFIRMED:
        flow_transition(
            flow,
            FlowStatus.PLACING,
            actor_type=ActorType.AGENT,
            data={"round": flow.confirmations},
            extra_fields=fields,
        )
    elif fields:
        flow.save(update_fields=[*fields, "updated_at"])


def _step_transaction(
    flow_id: Any, *, finished: tuple[Claim, StepOutcome] | None, budget: int
) -> tuple[Claim | None, int, str | None]:
    """One transaction: record the step that just ran, run the local steps, claim the next merchant step.

    Returns (the claim to run now or None, the units used, the name of the last outcome recorded).
    """
    with transaction.atomic():
        if finished is not None:
            return _finish_and_continue(*finished, budget=budget)
        flow = _lock_flow(flow_id)
        now = timezone.now()
        if flow is None or flow.status not in RUNNABLE_STATUSES or not flow.next_step:
            return None, 0, None
        if flow.step_lease_until and flow.step_lease_until > now:
            return None, 0, None  # another worker is running this flow's step right now
        history = _StepHistory.read(flow)
        if history.running:
            # Rows left running by a worker that died: closed, the new attempt replaces them.
            FlowStep.objects.filter(pk__in=history.running).update(
                status=StepStatus.FAILED, finished_at=now, error_class="abandoned", error_detail="the worker stopped"
            )
        rows: list[FlowStep] = []
        used, name = 0, None
        if flow.next_step in LOCAL_STEPS:
            used, name = 1, "advance"
            outcome, attempt_in_round = _run_local_steps(flow, history, rows)
            if outcome is not None or used >= budget:
                FlowStep.objects.bulk_create(rows)
                flow.step_lease_until = None
                if outcome is None:
                    # This task had its share: the rest goes to the back of the queue.
                    _save_placing(flow, ("next_step", "step_lease_until"))
                    flow_advance_on_commit(flow.pk)
                    return None, used, name
                _save_placing(flow, ())
                _apply(flow, rows[-1].name, attempt_in_round, outcome)
                return None, used, type(outcome).__name__.lower()
        lease_until = now + timedelta(seconds=settings.ORDERING_STEP_LEASE_SECONDS)
        claim = _claim_remote(flow, history, rows, lease_until=lease_until, save_flow=True)
    return claim, used + 1, name


def _finish_and_continue(claim: Claim, outcome: StepOutcome, *, budget: int) -> tuple[Claim | None, int, str]:
    """Record a merchant step's outcome and, when the next step is ready and the task has budget, claim it."""
    name = type(outcome).__name__.lower()
    outcome = _given_up(outcome, claim.step, claim.attempt_in_round, since=claim.since)
    now = timezone.now()
    advancing = isinstance(outcome, Advance)
    next_step = NEXT_STEP[claim.step] if advancing else claim.step
    chain = advancing and budget > 0 and next_step not in LOCAL_STEPS
    lease_until = now + timedelta(seconds=settings.ORDERING_STEP_LEASE_SECONDS) if chain else None
    # One statement checks that the claim is still ours (a takeover always writes a later lease, a stop
    # changes the status), takes the flow's row lock, and moves the flow on: no re-read.
    held = OrderFlow.objects.filter(
        pk=claim.flow_id, status__in=RUNNABLE_STATUSES, next_step=claim.step, step_lease_until=claim.lease_until
    ).update(next_step=next_step, step_lease_until=lease_until, updated_at=now)
    if not held:
        _superseded(claim, now)
        return None, 0, name
    flow = claim.flow
    flow.next_step, flow.step_lease_until, flow.updated_at = next_step, lease_until, now
    FlowStep.objects.filter(pk=claim.step_id).update(**_step_fields(outcome, claim.result))
    metrics.step_seconds.labels(step=claim.step, status=_step_status(outcome)).observe(time.monotonic() - claim.started)
    if not advancing:
        _apply(flow, claim.step, claim.attempt_in_round, outcome, since=claim.since)
        return None, 0, name
    if not chain:
        flow_advance_on_commit(flow.pk)  # this task had its share: the rest goes to the back of the queue
        return None, 0, name
    claim.history.record(claim.step, claim.operation_id, outcome.result)
    return _claim_remote(flow, claim.history, [], lease_until=lease_until, save_flow=False), 1, name


def _superseded(claim: Claim, now: datetime) -> None:
    # The sweeper gave our step away (lease ran out), or the flow was stopped meanwhile: whoever holds
    # it now decides. Our foreign calls were idempotent, nothing is lost.
    logger.warning("flow step finished after losing its claim", extra={"flow_id": str(claim.flow_id)})
    status = OrderFlow.objects.filter(pk=claim.flow_id).values_list("status", flat=True).first() or "gone"
    FlowStep.objects.filter(pk=claim.step_id, status=StepStatus.RUNNING).update(
        status=StepStatus.FAILED,
        finished_at=now,
        error_class="superseded",
        error_detail=f"the flow became {status} while the step ran",
    )


def _given_up(outcome: StepOutcome, step: str, attempt_in_round: int, *, since: datetime | None = None) -> StepOutcome:
    """A retry past the step's budget becomes a failure: real attempts by count, refusals by the deadline."""
    if not isinstance(outcome, Retry):
        return outcome
    if outcome.refused:
        waited = (timezone.now() - since).total_seconds() if since else 0.0
        if waited < settings.ORDERING_STEP_GIVE_UP_SECONDS:
            return outcome
        return Fail(
            code="merchant_unavailable",
            detail=f"{step} waited {waited:.0f}s for the merchant to be reachable: {outcome.detail}",
            error_class=outcome.error_class,
        )
    if attempt_in_round >= settings.ORDERING_STEP_MAX_ATTEMPTS:
        return Fail(
            code="internal_error" if outcome.error_class == "internal_error" else "merchant_unavailable",
            detail=f"{step} failed {attempt_in_round} times: {outcome.detail}",
            error_class=outcome.error_class,
        )
    return outcome


def _step_status(outcome: StepOutcome) -> str:
    succeeded = isinstance(outcome, Advance | Placed | Repreview | NeedsAction | Escalate)
    return StepStatus.SUCCEEDED if succeeded else StepStatus.FAILED


def _step_fields(outcome: StepOutcome, claimed_result: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "status": _step_status(outcome),
        "finished_at": timezone.now(),
        "result": getattr(outcome, "result", None) or claimed_result,
    }
    if isinstance(outcome, Retry | Fail):
        fields["error_class"] = outcome.error_class
        fields["error_detail"] = outcome.detail[:2000]
    return fields


def _run_local_steps(flow: OrderFlow, history: _StepHistory, rows: list[FlowStep]) -> tuple[StepOutcome | None, int]:
    """Run consent, spend and risk in the caller's transaction: (the outcome that stopped them, its attempt).

    The outcome is None when they all advanced.

    Each step keeps its own row and its compensation, registered before it. A step that crashes (a bug)
    is recorded and retried later, as a merchant step would be; its database writes are atomic on their
    own (the spend reservation is a savepoint inside `spend_reserve`).
    """
    while flow.next_step in LOCAL_STEPS:
        step_name = flow.next_step
        key = round_key(flow, step_name)
        attempt, attempt_in_round = history.next_attempt(step_name, key)
        compensations_register(
            flow=flow, undo=_compensations_before(flow, step_name), placement_round=flow.confirmations
        )
        started_at, started = timezone.now(), time.monotonic()
        claim = Claim(flow.pk, None, step_name, attempt_in_round, key, started, flow=flow)
        try:
            outcome = _STEP_FUNCTIONS[step_name](flow, claim)
        except DatabaseError:
            # Our database failed mid-transaction: nothing of this run is kept (the spend reservation
            # included), and the sweeper resumes the flow from the same step.
            raise
        except Exception as error:
            logger.exception("flow step %s crashed", step_name, extra={"flow_id": str(flow.pk)})
            outcome = Retry(error_class="internal_error", detail=repr(error)[:500])
        outcome = _given_up(outcome, step_name, attempt_in_round)
        row = FlowStep(
            flow=flow,
            name=step_name,
            attempt=attempt,
            idempotency_key=key,
            started_at=started_at,
            trace_id=get_trace_id() or "",
            **_step_fields(outcome, {}),
        )
        rows.append(row)
        metrics.step_seconds.labels(step=step_name, status=row.status).observe(time.monotonic() - started)
        if not isinstance(outcome, Advance):
            return outcome, attempt_in_round
        flow.next_step = NEXT_STEP[step_name]
    return None, 0


def _claim_remote(
    flow: OrderFlow, history: _StepHistory, rows: list[FlowStep], *, lease_until: datetime, save_flow: bool
) -> Claim:
    """Take the lease on the flow's next merchant step; its row and its undo are written before the call."""
    step_name = flow.next_step
    operation_id = round_key(flow, step_name)
    attempt, attempt_in_round = history.next_attempt(step_name, operation_id)
    token_request = None
    payment_handler = ""
    if step_name == "mint_token":
        # Fixed before the first call and reused by every later attempt: a replay must send the
        # identical body, even when an attempt died before it could record anything.
        recorded = history.token_requests.get(operation_id)
        token_request = (
            TokenRequest.from_result(recorded)
            if recorded
            else TokenRequest(
                round_number=flow.confirmations,
                payment_attempt=flow.payment_attempt,
                amount=flow.total_amount or 0,
                currency=flow.currency,
                expires_at=(timezone.now() + timedelta(seconds=settings.ORDERING_PAYMENT_TOKEN_TTL_SECONDS)).replace(
                    microsecond=0
                ),
            )
        )
    elif step_name == "complete_checkout":
        recorded = history.token_requests.get(round_key(flow, "mint_token"))
        token_request = TokenRequest.from_result(recorded) if recorded else None
        payment_handler = history.payment_handlers.get(round_key(flow, "verify_price"), "")
    result = token_request.as_result() if step_name == "mint_token" and token_request else {}
    if result:
        history.token_requests[operation_id] = result  # what the complete claimed next in this task pays with
    step = FlowStep(
        flow=flow,
        name=step_name,
        attempt=attempt,
        idempotency_key=operation_id,
        started_at=timezone.now(),  # after the local steps of this transaction, as the rows' order says
        trace_id=get_trace_id() or "",
        result=result,
    )
    FlowStep.objects.bulk_create([*rows, step])
    compensations_register(flow=flow, undo=_compensations_before(flow, step_name), placement_round=flow.confirmations)
    if save_flow:
        flow.step_lease_until = lease_until
        _save_placing(flow, ("next_step", "step_lease_until"))
    return Claim(
        flow.pk,
        step.pk,
        step_name,
        attempt_in_round,
        operation_id,
        time.monotonic(),
        lease_until=lease_until,
        result=result,
        token_request=token_request,
        flow=flow,
        history=history,
        since=history.first_started.get(operation_id) or step.started_at,
        payment_handler=payment_handler,
    )


def _run_remote(claim: Claim) -> StepOutcome:
    """A merchant step, with no lock held and no transaction open."""
    try:
        return _STEP_FUNCTIONS[claim.step](claim.flow, claim)
    except MerchantError as error:
        # A 429 past our wait cap or a request still in flight is a 4xx worth retrying later; other
        # 4xx mean the merchant refuses this request as it is.
        if isinstance(error, MerchantClientError) and not error.retry_later:
            return Fail(code=error.code or "merchant_refused", detail=str(error), error_class=error.error_class)
        return Retry(
            error_class=error.error_class,
            detail=str(error),
            refused=error.refused_locally,
            retry_after=error.retry_after,
        )
    except Exception as error:
        # A bug or an outage of our own: record it on the step, then let the sweeper try again later.
        logger.exception("flow step %s crashed", claim.step, extra={"flow_id": str(claim.flow_id)})
        return Retry(error_class="internal_error", detail=repr(error)[:500])


def _compensations_before(flow: OrderFlow, step_name: str) -> list[tuple[str, str]]:
    """What to register before a step's foreign effect, so the undo exists before the thing it undoes."""
    if step_name == "reserve_spend":
        return [("release_spend", spend_reference(flow))]
    if step_name == "mint_token":
        return [("revoke_token", round_key(flow, "mint_token"))]
    if step_name == "complete_checkout":
        return [("cancel_order", f"{flow.checkout_session_id}:r{flow.confirmations}")]
    return []


def _retry_delay(attempt: int) -> float:
    base = settings.ORDERING_STEP_RETRY_BASE_SECONDS
    cap = settings.ORDERING_STEP_RETRY_MAX_SECONDS
    # Full jitter: many flows failing together against one merchant do not retry in lockstep.
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # noqa: S311 - jitter, not security


def _refusal_wait(retry_after: float | None, *, deadline: datetime | None) -> float:
    """Seconds until a refused call should come back: when our breaker half-opens, never past the deadline.

    Coming back earlier would only be refused again; coming back at the deadline (refused or not)
    settles it. A little jitter spreads the flows that wait for the same breaker.
    """
    wait = (retry_after or 0.0) + random.uniform(0, REFUSAL_JITTER_SECONDS)  # noqa: S311 - jitter
    if deadline is not None:
        wait = min(wait, max(0.0, (deadline - timezone.now()).total_seconds()))
    return wait


def _step_retry_countdown(outcome: Retry, attempt_in_round: int, since: datetime | None) -> float:
    if outcome.refused:
        deadline = since + timedelta(seconds=settings.ORDERING_STEP_GIVE_UP_SECONDS) if since else None
        return _refusal_wait(outcome.retry_after, deadline=deadline)
    # A merchant that said when to come back (429 / 503 Retry-After) is not asked sooner.
    return max(_retry_delay(attempt_in_round), outcome.retry_after or 0.0)


def _ask_for_a_person(flow: OrderFlow, reason: EscalationReason, detail: str) -> int:
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


def _apply(
    flow: OrderFlow, step: str, attempt_in_round: int, outcome: StepOutcome, *, since: datetime | None = None
) -> None:
    """Move the (locked) flow on according to a step's outcome that ends this task's run of it."""
    try:
        with transaction.atomic():
            if isinstance(outcome, Retry):
                flow.save(update_fields=["step_lease_until", "updated_at"])
                flow_advance_on_commit(flow.pk, countdown=_step_retry_countdown(outcome, attempt_in_round, since))
            elif isinstance(outcome, Placed):
                _placed(flow, outcome)
            elif isinstance(outcome, Fail):
                _failed(flow, step, outcome)
            elif isinstance(outcome, Repreview):
                _repreview(flow, outcome.session)
            elif isinstance(outcome, NeedsAction):
                _needs_action(flow, outcome)
            elif isinstance(outcome, Escalate):
                _escalate(flow, outcome)
    except Exception as error:
        # Recording the outcome failed (our database, the ledger): a person must look, and the
        # outcome goes to them verbatim, an order id included, so nothing is done twice or lost.
        logger.exception("recording a flow step's outcome failed", extra={"flow_id": str(flow.pk)})
        flow.refresh_from_db()
        flow.failure_code = "internal_error"
        flow.failure_detail = f"{step} ended with {outcome!r} but recording it failed: {error!r}"[:2000]
        flow.next_step = ""
        flow.step_lease_until = None
        flow_transition(
            flow,
            FlowStatus.ESCALATED,
            actor_type=ActorType.SYSTEM,
            outcome=Outcome.FAILED,
            data={"step": step, "outcome": type(outcome).__name__},
            extra_fields=("failure_code", "failure_detail", "next_step", "step_lease_until"),
            waiting_for=WaitingFor.SPECIALIST,
        )
        person_needed.ask(
            PersonNeeded(
                reason=EscalationReason.AGENT_STUCK,
                customer_id=flow.customer_id,
                flow_id=flow.pk,
                conversation_id=flow.conversation_id,
                detail=flow.failure_detail,
            )
        )


def _placed(flow: OrderFlow, outcome: Placed) -> None:
    # The ledger first: it locks the reservation after the flow, the order every writer keeps.
    spend_commit(flow_reference=spend_reference(flow), amount=flow.total_amount)
    flow.merchant_order_id = outcome.order_id
    flow.placed_at = timezone.now()
    flow.next_step = ""
    flow_transition(
        flow,
        FlowStatus.PLACED,
        actor_type=ActorType.AGENT,
        data={"merchant_order_id": outcome.order_id, "round": flow.confirmations},
        extra_fields=("merchant_order_id", "placed_at", "next_step", "step_lease_until"),
    )
    # The order stands: this round's and the flow's own undo steps are retired. An earlier round's
    # (a token or a reservation left by a price change) still runs.
    flow.compensations.filter(
        status__in=(CompensationStatus.PENDING, CompensationStatus.FAILED), placement_round__in=(0, flow.confirmations)
    ).update(status=CompensationStatus.NOT_NEEDED, finished_at=timezone.now())
    # Only a flow confirmed more than once can have an earlier round left to undo.
    if flow.confirmations > 1 and flow.compensations.filter(status=CompensationStatus.PENDING).exists():
        flow_compensate_on_commit(flow.pk)
    conversation_post(
        conversation_id=flow.conversation_id,
        role=MessageRole.ASSISTANT,
        text=f"Your order is placed. The merchant's order number is {outcome.order_id}.",
        data={"kind": "flow_placed", "flow_id": str(flow.pk), "merchant_order_id": outcome.order_id},
    )
    # The A/B report's order: in the phase and arm stored on the flow, in this transaction.
    experiment_event_of(
        flow,
        kind=ExperimentEventKind.ORDER_PLACED,
        order_ref=outcome.order_id,
        amount=flow.total_amount,
        currency=flow.currency,
    )
    metrics.flows_placed.labels(merchant=flow.merchant_id, **metrics.rollout_labels(flow)).inc()
    metrics.flow_outcomes.labels(outcome="placed", **metrics.rollout_labels(flow)).inc()
    metrics.order_value.labels(currency=flow.currency).observe(flow.total_amount or 0)
    if flow.confirmed_at:
        metrics.confirm_to_placed.observe(max((flow.placed_at - flow.confirmed_at).total_seconds(), 0.0))
    ordered_before = (
        OrderFlow.objects.filter(customer_id=flow.customer_id, status=FlowStatus.PLACED).exclude(pk=flow.pk).exists()
    )
    metrics.orders_by_history.labels(purchase="repeat" if ordered_before else "first").inc()


_FAILURE_TEXT = {
    "payment_declined": (
        "Your card was declined, so nothing was charged. You can pick another card, finish at the merchant's "
        "checkout page, or talk to a person."
    ),
    "out_of_stock": "Sorry, that item sold out before the order went through. Nothing was charged.",
    "merchant_unavailable": (
        "The shop is not answering right now, so I could not place the order and nothing was charged. "
        "Please try again in a little while, or ask for a person."
    ),
    "spend_cap_exceeded": "This order would go over one of your spending limits, so I did not place it.",
    "payment_handler_unavailable": (
        "This shop does not take the kind of payment I can make for you, so I did not place the order and "
        "nothing was charged. You can finish at the shop's own checkout page, or talk to a person."
    ),
    # The merchant took an order, but not the one confirmed: it is canceled now (the undo that follows), and
    # a person takes over if the shop does not confirm the cancellation.
    "total_mismatch": (
        "The shop completed your order at a different total than the one you confirmed, so I'm canceling it "
        "with the shop; any charge is refunded in full. Nothing was ordered. Say if you'd like a new preview."
    ),
    "content_mismatch": (
        "The shop completed your order with different items or details than the ones you confirmed, so I'm "
        "canceling it with the shop; any charge is refunded in full. Nothing was ordered. Say if you'd like a "
        "new preview."
    ),
}


def _failed(flow: OrderFlow, step: str, outcome: Fail) -> None:
    flow.failure_code = outcome.code[:64]
    flow.failure_detail = outcome.detail
    flow.next_step = ""
    facts = {"step": step, "code": outcome.code, "error_class": outcome.error_class}
    if outcome.code == "payment_declined" and flow.payment_method is not None:
        # The customer's activity says which card was declined (brand and last four, nothing more).
        facts["card"] = flow.payment_method.masked
    flow_transition(
        flow,
        FlowStatus.FAILED,
        actor_type=ActorType.AGENT,
        outcome=Outcome.FAILED,
        data=facts,
        extra_fields=("failure_code", "failure_detail", "next_step", "step_lease_until"),
    )
    text = _FAILURE_TEXT.get(outcome.code) or (
        outcome.detail
        if outcome.error_class in ("consent", "spend")
        else "I could not place this order; nothing was charged."
    )
    data = {"kind": "flow_failed", "flow_id": str(flow.pk), "code": outcome.code}
    if outcome.code in ("payment_declined", "payment_handler_unavailable"):
        data["options"] = (
            ["another_card", "manual_checkout", "talk_to_human"]
            if outcome.code == "payment_declined"
            else ["manual_checkout", "talk_to_human"]
        )
        continue_url = flow.preview.get("continue_url")
        if continue_url:
            data["manual_checkout_url"] = continue_url
    conversation_post(conversation_id=flow.conversation_id, role=MessageRole.ASSISTANT, text=text, data=data)
    metrics.flows_failed.labels(step=step, error_class=outcome.error_class, **metrics.rollout_labels(flow)).inc()
    metrics.flow_outcomes.labels(outcome="failed", **metrics.rollout_labels(flow)).inc()
    flow_compensate_on_commit(flow.pk)


def _repreview(flow: OrderFlow, session: CheckoutSession) -> None:
    preview = preview_build(
        merchant_id=flow.merchant_id, session=session, payment_method=flow.payment_method, address=flow.shipping_address
    )
    old_total = flow.total_amount
    flow.preview = preview
    flow.preview_hash = preview_hash(preview)
    flow.total_amount = preview["total"]
    flow.currency = preview["currency"]
    flow.next_step = ""
    flow_transition(
        flow,
        FlowStatus.PREVIEWED,
        actor_type=ActorType.AGENT,
        data={"reason": "price_changed", "old_total": old_total, "preview_hash": flow.preview_hash},
        extra_fields=("preview", "preview_hash", "total_amount", "currency", "next_step", "step_lease_until"),
    )
    conversation_post(
        conversation_id=flow.conversation_id,
        role=MessageRole.ASSISTANT,
        text=(
            f"The shop's price changed from {format_money(old_total or 0, flow.currency)}, so nothing was charged. "
            + preview_text(preview)
        ),
        data={"kind": "preview", "flow_id": str(flow.pk), "preview": preview, "preview_hash": flow.preview_hash},
    )
    metrics.flow_outcomes.labels(outcome="repreviewed", **metrics.rollout_labels(flow)).inc()
    flow_compensate_on_commit(flow.pk)


def _needs_action(flow: OrderFlow, outcome: NeedsAction) -> None:
    flow.failure_detail = outcome.detail
    flow_transition(
        flow,
        FlowStatus.REQUIRES_ACTION,
        actor_type=ActorType.AGENT,
        data={"code": outcome.code},
        extra_fields=("failure_detail", "step_lease_until"),
        waiting_for=outcome.waiting_for,
    )
    if outcome.escalate is not None:
        _ask_for_a_person(flow, outcome.escalate, outcome.detail)
        text = "Your bank wants to verify this payment. A specialist is looking at this and will get back to you here."
    else:
        text = "Before I place this order, please confirm it's you with the code from your authenticator app."
    data: dict[str, Any] = {"kind": "flow_requires_action", "flow_id": str(flow.pk), "code": outcome.code}
    if outcome.waiting_for == WaitingFor.PAYMENT_VERIFICATION:
        text = (
            "Your bank wants to verify this payment. Open the link to confirm it with your bank; nothing is "
            "charged until you do. A specialist is also looking at this and will get back to you here."
        )
        data["link"] = payment_verification_link(flow)
    conversation_post(conversation_id=flow.conversation_id, role=MessageRole.ASSISTANT, text=text, data=data)
    metrics.flow_outcomes.labels(outcome="requires_action", **metrics.rollout_labels(flow)).inc()


def _escalate(flow: OrderFlow, outcome: Escalate) -> None:
    flow.failure_detail = outcome.detail
    flow_transition(
        flow,
        FlowStatus.ESCALATED,
        actor_type=ActorType.AGENT,
        data={"code": outcome.code, **outcome.result},
        extra_fields=("failure_detail", "step_lease_until"),
        waiting_for=outcome.waiting_for,
    )
    _ask_for_a_person(flow, outcome.reason, outcome.detail)
    conversation_post(
        conversation_id=flow.conversation_id,
        role=MessageRole.ASSISTANT,
        text="A specialist needs to look at this order before it goes through. They will reply here.",
        data={"kind": "flow_escalated", "flow_id": str(flow.pk), "code": outcome.code},
    )
    metrics.flow_outcomes.labels(outcome="escalated", **metrics.rollout_labels(flow)).inc()


# -- the steps -----------------------------------------------------------------------------------


def _consent_outcome(flow: OrderFlow) -> Fail | None:
    try:
        consent_require(user_id=flow.customer_id, scopes=FLOW_SCOPES)
    except ConsentDenied as denied:
        return Fail(code=f"consent_{denied.reason}", detail=denied.message, error_class="consent")
    return None


def step_check_consent(flow: OrderFlow, claim: Claim) -> StepOutcome:
    return _consent_outcome(flow) or Advance()


def step_reserve_spend(flow: OrderFlow, claim: Claim) -> StepOutcome:
    try:
        reservation = spend_reserve(
            user_id=flow.customer_id,
            amount=flow.total_amount or 0,
            currency=flow.currency,
            flow_reference=spend_reference(flow),
            chat_session_reference=str(flow.conversation_id),
        )
    except ConsentError as error:
        return Fail(code=error.code, detail=error.message, error_class="spend")
    return Advance({"reservation_id": reservation.pk, "amount": reservation.amount})


def step_score_risk(flow: OrderFlow, claim: Claim) -> StepOutcome:
    if flow.risk_approved_by:
        return Advance({"decision": "approved_by_staff", "by": flow.risk_approved_by})
    assessment = risk_assess(flow=flow)
    audit_record(
        action="risk.assessed",
        actor_type=ActorType.SYSTEM,
        customer_id=flow.customer_id,
        target_type="flow",
        target_id=flow.pk,
        policy_version=assessment.policy_version,
        data=assessment.as_dict(),
    )
    if assessment.decision == ALLOW:
        return Advance(assessment.as_dict())
    if assessment.decision == REVIEW:
        return Escalate(
            reason=EscalationReason.RISK_REVIEW,
            code="risk_review",
            detail="Risk review: " + ", ".join(assessment.reasons),
            waiting_for=WaitingFor.RISK_REVIEW,
            result=assessment.as_dict(),
        )
    if stepup_verified_within(user_id=flow.customer_id):
        return Advance({**assessment.as_dict(), "step_up": "verified"})
    return NeedsAction(
        code="step_up_required",
        detail=", ".join(assessment.reasons),
        waiting_for=WaitingFor.STEP_UP,
        result=assessment.as_dict(),
    )


def step_verify_price(flow: OrderFlow, claim: Claim) -> StepOutcome:
    session = get_merchant(flow.merchant_id).checkout.get(session_id=flow.checkout_session_id)
    if session.status in ("canceled", "expired", "completed"):
        return Fail(code=f"session_{session.status}", detail=f"The merchant's checkout session is {session.status}.")
    try:
        current = preview_build(
            merchant_id=flow.merchant_id,
            session=session,
            payment_method=flow.payment_method,
            address=flow.shipping_address,
        )
    except PreviewIncomplete as incomplete:
        return Fail(code=str(incomplete.details.get("code") or "preview_incomplete"), detail=incomplete.message)
    if preview_drifted(flow.preview, current):
        return Repreview(session)
    if session.payment_handler is None:
        # Negotiation found no payment handler both sides support: stop before a token is minted.
        offered = ", ".join(handler.name for handler in session.payment_handlers) or "none"
        return Fail(
            code="payment_handler_unavailable",
            detail=f"The merchant offers no payment handler we can pay with (offered: {offered}).",
        )
    # Recorded with the step: the complete pays with this handler instead of reading the session again.
    return Advance({"total": current["total"], "payment_handler": session.payment_handler.id})


@dataclass(frozen=True)
class TokenRequest:
    """Everything the vault's delegate body is made of, recorded on the mint step (no secret in it)."""

    round_number: int
    payment_attempt: int
    amount: int
    currency: str
    expires_at: datetime

    def as_result(self) -> dict[str, Any]:
        return {
            "round": self.round_number,
            "payment_attempt": self.payment_attempt,
            "max_amount": self.amount,
            "currency": self.currency,
            "token_expires_at": self.expires_at.isoformat(),
        }

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> TokenRequest:
        return cls(
            round_number=result["round"],
            payment_attempt=result.get("payment_attempt", 0),
            amount=result["max_amount"],
            currency=result["currency"],
            expires_at=datetime.fromisoformat(result["token_expires_at"]),
        )


def _mint_token(flow: OrderFlow, request: TokenRequest) -> PaymentToken:
    """Delegate the saved card into a one-time token; the same round replays the same token.

    The token is never stored: whoever needs it (complete, or the revoke compensation) asks the vault
    again with the same Idempotency-Key and the same body, and gets the same token back.
    """
    return get_merchant(flow.merchant_id).vault.delegate(
        vault_reference=flow.payment_method.vault_reference,
        allowance=Allowance(
            max_amount=Money(request.amount, request.currency),
            checkout_session_id=flow.checkout_session_id,
            merchant_id=flow.merchant_id,
            expires_at=request.expires_at,
        ),
        operation_id=f"flow:{flow.pk}:r{request.round_number}:mint_token"
        + (f":p{request.payment_attempt}" if request.payment_attempt else ""),
        metadata={"flow_id": str(flow.pk)},
    )


def _recorded_token_request(flow: OrderFlow, operation_id: str) -> TokenRequest | None:
    step = (
        FlowStep.objects.filter(flow=flow, idempotency_key=operation_id).exclude(result={}).order_by("-attempt").first()
    )
    return TokenRequest.from_result(step.result) if step else None


def step_mint_token(flow: OrderFlow, claim: Claim) -> StepOutcome:
    denied = _consent_outcome(flow)
    if denied:
        return denied
    request = claim.token_request  # fixed when the step was claimed
    token = _mint_token(flow, request)
    if claim.history is not None:
        claim.history.minted[claim.operation_id] = token
    return Advance(request.as_result())


def step_complete_checkout(flow: OrderFlow, claim: Claim) -> StepOutcome:
    denied = _consent_outcome(flow)
    if denied:
        return denied
    request = claim.token_request  # what the round's mint step delegated
    if request is None or request.expires_at <= timezone.now():
        return Fail(code="payment_token_expired", detail="The one-time payment token expired before completion.")
    if claim.attempt_in_round == 1:
        # Nothing can have been charged yet: make sure the spend reservation still stands, so the
        # charge can be committed against it (a flow that waited long for a person may have outlived it).
        reservation = spend_reservation_unsettled(flow_reference=spend_reference(flow))
        if reservation is None or (
            reservation.expires_at and reservation.expires_at <= timezone.now() + RESERVATION_MARGIN
        ):
            return Fail(
                code="spend_reservation_expired",
                detail="This order waited too long and its spending reservation ran out; please confirm it again.",
                error_class="spend",
            )
    # The token this task's mint step got, else the same token again from the vault (same key, same body).
    minted = claim.history.minted.get(round_key(flow, "mint_token")) if claim.history is not None else None
    token = minted or _mint_token(flow, request)
    checkout = get_merchant(flow.merchant_id).checkout
    try:
        session = checkout.complete(
            session_id=flow.checkout_session_id,
            payment=PaymentData(token=token.id, handler_id=claim.payment_handler),
            operation_id=claim.operation_id,
            # The issuer's result from the customer's challenge, or what two specialists vouched for;
            # set only with its evidence (see flow_payment_verified).
            authentication_result=flow.payment_authentication_result or None,
        )
    except MerchantClientError as error:
        if error.status != 405:
            raise
        # "Already completed": an earlier attempt whose answer we lost did complete it. Read the
        # session and carry on with what the merchant holds.
        session = checkout.get(session_id=flow.checkout_session_id)
    if session.status == "completed" and session.order is not None:
        total = session.total("total")
        if total is None or total.amount != flow.total_amount:
            # The merchant charged something else than the customer confirmed: undo the order.
            return Fail(
                code="total_mismatch",
                detail=f"The merchant completed at {total} instead of the confirmed {flow.total_amount}.",
            )
        try:
            completed = preview_build(
                merchant_id=flow.merchant_id,
                session=session,
                payment_method=flow.payment_method,
                address=flow.shipping_address,
            )
        except PreviewIncomplete:
            completed = None
        if completed is None or preview_drifted(flow.preview, completed):
            # Same total, other content (a line or the address changed after the price check).
            return Fail(code="content_mismatch", detail="The merchant completed an order other than the one confirmed.")
        return Placed(order_id=session.order.id, result={"merchant_order_id": session.order.id})
    if session.price_changed:
        # ACP warning `price_change` (the lines carry the new unit amounts): charge nothing, ask again.
        return Repreview(session)
    if session.status == "authentication_required" or session.has_message("requires_3ds"):
        return NeedsAction(
            code="payment_verification",
            detail="The card issuer asked for 3-D Secure verification.",
            waiting_for=WaitingFor.PAYMENT_VERIFICATION,
            escalate=EscalationReason.PAYMENT_VERIFICATION,
        )
    for code in ("payment_declined", "out_of_stock"):
        if session.has_message(code):
            return Fail(code=code, detail=next(m.content for m in session.messages if m.code == code))
    first_error = session.errors[0] if session.errors else None
    return Fail(
        code=first_error.code if first_error else "not_completed",
        detail=first_error.content if first_error else f"The merchant left the session {session.status}.",
    )


_STEP_FUNCTIONS = {
    "check_consent": step_check_consent,
    "reserve_spend": step_reserve_spend,
    "score_risk": step_score_risk,
    "verify_price": step_verify_price,
    "mint_token": step_mint_token,
    "complete_checkout": step_complete_checkout,
}


# -- compensations -------------------------------------------------------------------------------


def _compensate_one(flow: OrderFlow, compensation: FlowCompensation) -> tuple[str, str]:
    """Undo one thing; returns (status, note). Raises MerchantError on transient trouble."""
    merchant = get_merchant(flow.merchant_id)
    operation_id = f"flow:{flow.pk}:undo:{compensation.action}:{compensation.target_ref}"
    if compensation.action == "cancel_checkout":
        try:
            merchant.checkout.cancel(session_id=compensation.target_ref, operation_id=operation_id)
        except MerchantClientError as error:
            if error.status in (404, 405):
                return CompensationStatus.NOT_NEEDED, f"session already {error.code or 'closed'}"
            raise
        return CompensationStatus.DONE, "checkout session canceled, stock released"
    if compensation.action == "release_spend":
        try:
            entry = spend_release(flow_reference=compensation.target_ref, reason=flow.failure_code or "flow_ended")
        except SpendReservationSettled:
            return CompensationStatus.NOT_NEEDED, "the spend was committed by a placed order"
        return (CompensationStatus.DONE, "reservation released") if entry else (CompensationStatus.NOT_NEEDED, "none")
    if compensation.action == "revoke_token":
        request = _recorded_token_request(flow, compensation.target_ref)
        if request is None:
            return CompensationStatus.NOT_NEEDED, "no token was minted"
        token = _mint_token(flow, request)
        revocation = merchant.vault.revoke(token_id=token.id, operation_id=operation_id)
        if revocation.revoked:
            return CompensationStatus.DONE, "token revoked"
        return CompensationStatus.NOT_NEEDED, revocation.reason or "token not revocable"
    if compensation.action == "cancel_order":
        if flow.merchant_order_id or flow.status == FlowStatus.PLACED:
            return CompensationStatus.NOT_NEEDED, "the flow's order stands"
        session_id = compensation.target_ref.rsplit(":r", 1)[0]
        session = merchant.checkout.get(session_id=session_id)
        if session.order is None:
            return CompensationStatus.NOT_NEEDED, "no order was created"
        merchant.orders.cancel(order_id=session.order.id, operation_id=operation_id)
        return CompensationStatus.DONE, f"order {session.order.id} canceled and refunded"
    raise ValueError(f"unknown compensation {compensation.action!r}")


def _flow_is_ending(flow: OrderFlow) -> bool:
    """A flow that will not place anything: all of its effects are to be undone."""
    if flow.merchant_order_id:
        return False
    if flow.status in (FlowStatus.FAILED, FlowStatus.COMPENSATING, FlowStatus.CANCELED, FlowStatus.EXPIRED):
        return True
    # Escalated because undoing failed (not a risk review waiting for a person).
    return flow.status == FlowStatus.ESCALATED and flow.waiting_for != WaitingFor.RISK_REVIEW


def _runnable_compensations(flow: OrderFlow):
    pending = flow.compensations.filter(status__in=(CompensationStatus.PENDING, CompensationStatus.FAILED))
    if _flow_is_ending(flow):
        return pending
    # A flow still alive (a new preview, a later round placing or placed) undoes only rounds that are
    # over: never its checkout session, never the effects of the round in progress.
    finished_rounds = flow.confirmations if flow.status == FlowStatus.PREVIEWED else flow.confirmations - 1
    return pending.filter(action__in=ROUND_COMPENSATIONS, placement_round__gte=1, placement_round__lte=finished_rounds)


UNDO_OPEN = (CompensationStatus.PENDING, CompensationStatus.FAILED)


def flow_compensate_run(*, flow_id: Any) -> str:
    """Run the flow's undo steps that are due, newest first; then finish the flow, wait, or escalate.

    Each undo step is claimed before it runs (`retry_at` becomes this run's lease), so a scheduled retry
    and the sweeper never run one at the same time, and no lock is held across a merchant call. Its
    outcome is written with its audit event. The flow's own move is decided last, from the rows, so a
    run that finds nothing due still finishes a flow whose undo steps all settled (the run that settled
    the last one died before its final transaction).

    Returns "compensated" (nothing left to undo), "retrying" (undo steps left, their retry scheduled or
    left to the sweeper), "waiting" (nothing was due now) or "escalated" (an undo step gave up).
    """
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow_id)
        if flow.status == FlowStatus.FAILED:
            flow_transition(flow, FlowStatus.COMPENSATING, actor_type=ActorType.AGENT)
    flow = OrderFlow.objects.select_related("payment_method").get(pk=flow_id)
    ran, gave_up = 0, False
    for candidate in _runnable_compensations(flow).order_by("-registered_at", "-id"):
        claimed = _undo_claim(candidate.pk)
        if claimed is None:
            continue  # not due yet, or another worker runs it right now
        compensation, lease = claimed
        ran += 1
        gave_up |= _undo_attempt(flow, compensation, lease=lease)
    return _undo_settle(flow_id, ran=ran, gave_up=gave_up)


def _undo_claim(compensation_id: int) -> tuple[FlowCompensation, datetime] | None:
    """Take a due undo step for this run: (its row as claimed, the lease that proves it ours), or None."""
    now = timezone.now()
    with transaction.atomic():
        compensation = (
            FlowCompensation.objects.select_for_update(skip_locked=True)
            .filter(pk=compensation_id, status__in=UNDO_OPEN, gave_up_at__isnull=True)
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
            .first()
        )
        if compensation is None:
            return None
        # A worker that dies while undoing leaves this lease to run out; the sweeper then finds it due.
        compensation.retry_at = now + timedelta(seconds=settings.ORDERING_STEP_LEASE_SECONDS)
        compensation.save(update_fields=["retry_at"])
    return compensation, compensation.retry_at


def _undo_attempt(flow: OrderFlow, compensation: FlowCompensation, *, lease: datetime) -> bool:
    """Try one claimed undo step; record its outcome with its audit event. True when it gives up.

    A refusal by our own breaker or rate limit (nothing sent) is not an attempt: the undo comes back when
    the breaker half-opens. A real failure is retried with backoff up to ORDERING_STEP_MAX_ATTEMPTS, then
    on every sweeper pass. It gives up only ORDERING_UNDO_GIVE_UP_SECONDS after its first failure, or,
    for a merchant answer that retrying cannot change (a 4xx other than 429 / in flight), once its
    attempts are spent.
    """
    merchant_error: MerchantError | None = None
    try:
        status, note = _compensate_one(flow, compensation)
    except MerchantError as failure:
        merchant_error, status, note = failure, CompensationStatus.FAILED, str(failure)
    except DatabaseError:
        raise  # our own database: nothing can be recorded; the lease runs out and the sweeper retries
    except Exception as failure:
        # A bug must not keep the other undo steps from running: recorded, retried, escalated in time.
        logger.exception("undo step %s crashed", compensation.action, extra={"flow_id": str(flow.pk)})
        status, note = CompensationStatus.FAILED, repr(failure)[:500]
    now = timezone.now()
    refused = merchant_error is not None and merchant_error.refused_locally
    attempts = compensation.attempts + (0 if refused else 1)
    fields: dict[str, Any] = {"status": status, "attempts": attempts}
    gives_up = False
    if status == CompensationStatus.FAILED:
        failing_since = compensation.failing_since or now
        deadline = failing_since + timedelta(seconds=settings.ORDERING_UNDO_GIVE_UP_SECONDS)
        retry_after = merchant_error.retry_after if merchant_error is not None else None
        budget_spent = attempts >= settings.ORDERING_STEP_MAX_ATTEMPTS
        hopeless = merchant_error is not None and not refused and not merchant_error.retry_later
        gives_up = now >= deadline or (budget_spent and hopeless)
        if refused and not gives_up:
            retry_at = now + timedelta(seconds=_refusal_wait(retry_after, deadline=deadline))
        elif gives_up or budget_spent:
            # Due at once: past its quick retries the sweeper tries it on every pass until the deadline; one
            # that gives up but whose escalation is never committed (the task died) is tried and judged again.
            retry_at = now
        else:
            delay = max(_retry_delay(attempts), retry_after or 0.0)
            retry_at = min(now + timedelta(seconds=delay), deadline)
        fields.update(last_error=note, failing_since=failing_since, retry_at=retry_at, finished_at=None)
    else:
        fields.update(last_error="", failing_since=None, retry_at=None, finished_at=now)
    facts: dict[str, Any] = {
        "status": status,
        "note": note[:300],
        "target": compensation.target_ref,
        "attempt": attempts,
    }
    if refused:
        facts.update(refused=True, retry_at=fields["retry_at"].isoformat())
    with transaction.atomic():
        # Recorded only while the claim is ours: a lease that ran out went to another run, which records.
        held = FlowCompensation.objects.filter(pk=compensation.pk, retry_at=lease).update(**fields)
        if not held:
            logger.warning("undo step finished after losing its claim", extra={"flow_id": str(flow.pk)})
            return False
        audit_record(
            action=f"compensation.{compensation.action}",
            actor_type=ActorType.AGENT,
            customer_id=flow.customer_id,
            target_type="flow",
            target_id=flow.pk,
            outcome=Outcome.FAILED if status == CompensationStatus.FAILED else Outcome.OK,
            data=facts,
        )
    metrics.compensations.labels(action=compensation.action, outcome="refused" if refused else status).inc()
    return gives_up


def _undo_settle(flow_id: Any, *, ran: int, gave_up: bool) -> str:
    """The flow's move after a run, decided under its lock from its undo rows (see flow_compensate_run)."""
    now = timezone.now()
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow_id)
        left = list(_runnable_compensations(flow))
        open_undo = [c for c in left if c.gave_up_at is None]
        given_up = [c for c in left if c.gave_up_at is not None]
        if gave_up or (given_up and flow.status == FlowStatus.COMPENSATING):
            failing = [c for c in open_undo if c.status == CompensationStatus.FAILED]
            # A person owns the flow's failing undo from now on: the sweeper leaves it to them.
            FlowCompensation.objects.filter(pk__in=[c.pk for c in failing]).update(gave_up_at=now, retry_at=None)
            _ask_for_a_person(
                flow,
                EscalationReason.COMPENSATION_FAILED,
                "; ".join(f"{c.action}: {c.last_error[:200]}" for c in (*failing, *given_up)),
            )
            if flow.status == FlowStatus.COMPENSATING:
                flow_transition(
                    flow,
                    FlowStatus.ESCALATED,
                    actor_type=ActorType.AGENT,
                    data={"code": "compensation_failed"},
                    waiting_for=WaitingFor.SPECIALIST,
                )
            return "escalated"
        if open_undo:
            if not ran:
                return "waiting"  # whoever holds or scheduled them settles the flow
            # Undo steps within their quick retries come back on their own; the others on the sweeper.
            scheduled = [
                c.retry_at
                for c in open_undo
                if c.status == CompensationStatus.FAILED
                and c.retry_at is not None
                and c.attempts < settings.ORDERING_STEP_MAX_ATTEMPTS
            ]
            if scheduled:
                countdown = max(0.0, (min(scheduled) - now).total_seconds())
                from ordering import tasks

                transaction.on_commit(
                    lambda: tasks.flow_compensate.apply_async(args=[str(flow_id)], countdown=countdown)
                )
            return "retrying"
        if flow.status == FlowStatus.COMPENSATING:
            flow_transition(flow, FlowStatus.COMPENSATED, actor_type=ActorType.AGENT)
    return "compensated"


# -- the sweeper ---------------------------------------------------------------------------------


def flows_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Resume flows left behind: a lost enqueue after commit, a worker killed mid-step, undo left to do.

    Undo is picked up when an undo step is due (never run, its retry time came, or a dead worker's lease
    ran out; an undo step past its quick retries is retried here, on every pass, until its deadline), and
    when a failed or compensating flow has no undo left but never reached its final status.
    """
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.ORDERING_STUCK_AFTER_SECONDS)
    stuck = (
        OrderFlow.objects.filter(status__in=RUNNABLE_STATUSES, updated_at__lt=quiet_since)
        .exclude(next_step="")
        .exclude(step_lease_until__gt=now)
        .values_list("pk", flat=True)
    )
    undo_due = Q(compensations__status__in=UNDO_OPEN, compensations__gave_up_at__isnull=True) & (
        Q(compensations__retry_at__isnull=True) | Q(compensations__retry_at__lte=now)
    )
    ending = Q(status__in=(FlowStatus.FAILED, FlowStatus.COMPENSATING, FlowStatus.CANCELED, FlowStatus.EXPIRED)) | (
        Q(status=FlowStatus.ESCALATED) & ~Q(waiting_for=WaitingFor.RISK_REVIEW)
    )
    # A live flow only undoes rounds that are over (see _runnable_compensations).
    old_round = Q(compensations__action__in=ROUND_COMPENSATIONS, compensations__placement_round__gte=1) & (
        Q(status=FlowStatus.PREVIEWED, compensations__placement_round__lte=F("confirmations"))
        | Q(status__in=(FlowStatus.PLACED, *RUNNABLE_STATUSES, FlowStatus.REQUIRES_ACTION),
            compensations__placement_round__lt=F("confirmations"))
    )  # fmt: skip
    undo = (
        OrderFlow.objects.filter(updated_at__lt=quiet_since)
        .filter(undo_due & (ending | old_round))
        .distinct()
        .values_list("pk", flat=True)
    )
    open_undo = FlowCompensation.objects.filter(flow=OuterRef("pk"), status__in=UNDO_OPEN, gave_up_at__isnull=True)
    settled = (
        OrderFlow.objects.filter(status__in=(FlowStatus.FAILED, FlowStatus.COMPENSATING), updated_at__lt=quiet_since)
        .exclude(Exists(open_undo))
        .values_list("pk", flat=True)
    )
    from ordering import tasks

    resumed = [str(pk) for pk in stuck[:500]]
    compensating = [str(pk) for pk in undo[:500]]
    finishing = [str(pk) for pk in settled[:500] if str(pk) not in compensating]
    for flow_id in resumed:
        tasks.flow_advance.apply_async(args=[flow_id])
    for flow_id in (*compensating, *finishing):
        tasks.flow_compensate.apply_async(args=[flow_id])
    if resumed or compensating or finishing:
        logger.info(
            "sweeper resumed flows",
            extra={"resumed": len(resumed), "compensating": len(compensating), "finishing": len(finishing)},
        )
    return {"resumed": len(resumed), "compensating": len(compensating), "finishing": len(finishing)}


def _staff_resume(flow: OrderFlow, *, staff_id: int, next_step: str, approved: str, fields: tuple[str, ...]) -> None:
    flow.next_step = next_step
    flow.failure_detail = ""
    flow_transition(
        flow,
        FlowStatus.PLACING,
        actor_type=ActorType.STAFF,
        actor_id=staff_id,
        data={"approved": approved},
        extra_fields=("next_step", "failure_detail", *fields),
    )
    flow_advance_on_commit(flow.pk)


def flow_staff_approve(*, flow_id: Any, staff_id: int) -> OrderFlow:
    """A specialist approved a risk review (or vouched for the customer instead of a step-up code)."""
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow_id)
        if flow.waiting_for not in (WaitingFor.RISK_REVIEW, WaitingFor.STEP_UP):
            raise FlowNotConfirmable("This order is not waiting for a risk decision.", flow_id=str(flow.pk))
        flow.risk_approved_by = str(staff_id)
        _staff_resume(flow, staff_id=staff_id, next_step="score_risk", approved="risk", fields=("risk_approved_by",))
    return flow


def payment_verification_link(flow: OrderFlow) -> dict[str, str]:
    """The chat's link to the issuer's challenge: our own URL, which opens a fresh challenge when followed."""
    from django.urls import reverse

    return {
        "url": reverse("flow-payment-verification", args=[flow.pk]),
        "label": "Verify the payment with your bank",
    }


def flow_waiting_for_payment_verification(flow: OrderFlow) -> bool:
    return flow.status == FlowStatus.REQUIRES_ACTION and flow.waiting_for == WaitingFor.PAYMENT_VERIFICATION


def flow_payment_verified(
    flow: OrderFlow,
    *,
    evidence: dict[str, Any],
    authentication_result: dict[str, Any],
    actor_type: ActorType,
    actor_id: Any,
    verified_by: str,
) -> None:
    """Pay again with the evidence's authentication result (the flow is locked and waiting for it).

    The only way out of a payment verification: a new payment attempt (a fresh token, new keys) that
    completes with `authentication_result`, with the evidence recorded on the flow and in the audit event.
    """
    if not flow_waiting_for_payment_verification(flow):
        raise FlowNotConfirmable("This order is not waiting for a payment verification.", flow_id=str(flow.pk))
    flow.payment_verified_by = verified_by[:64]
    flow.payment_verification_evidence = evidence
    flow.payment_authentication_result = authentication_result
    flow.payment_attempt += 1
    flow.next_step = "mint_token"
    flow.failure_detail = ""
    flow_transition(
        flow,
        FlowStatus.PLACING,
        actor_type=actor_type,
        actor_id=actor_id,
        data={"approved": "payment_verification", "evidence": evidence},
        extra_fields=(
            "next_step",
            "failure_detail",
            "payment_verified_by",
            "payment_verification_evidence",
            "payment_authentication_result",
            "payment_attempt",
        ),
    )
    flow_advance_on_commit(flow.pk)


def flow_staff_verify_payment(*, flow_id: Any, staff_id: int, recorded_by: int, note: str) -> OrderFlow:
    """A second specialist confirms the first one's verification of the payment: pay again, authenticated.

    Called only by `escalations.services.escalation_payment_verification_confirm`, which holds the
    recorded verification; the two people must differ (checked there and here).
    """
    if staff_id == recorded_by:
        raise FlowNotConfirmable(
            "A payment verification needs a second specialist: you recorded it yourself.", flow_id=str(flow_id)
        )
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow_id)
        flow_payment_verified(
            flow,
            evidence={
                "kind": "staff_two_person",
                "recorded_by": recorded_by,
                "confirmed_by": staff_id,
                "note": note[:500],
                "at": timezone.now().isoformat(),
            },
            # Specialists have no issuer result to hand on. ACP's `authenticated` needs the issuer's
            # outcome_details (cryptogram, ECI, transaction id, version), which only a real challenge
            # yields; `not_supported` says "no 3-D Secure result exists", and the merchant decides.
            authentication_result={"outcome": "not_supported"},
            actor_type=ActorType.STAFF,
            actor_id=staff_id,
            verified_by=f"{recorded_by}+{staff_id}",
        )
    return flow


def flow_staff_retry_compensations(*, flow_id: Any, staff_id: int) -> OrderFlow:
    """After the merchant recovered, run the undo steps that had given up, once more."""
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow_id)
        failed = flow.compensations.filter(status=CompensationStatus.FAILED)
        if not failed.exists():
            raise FlowNotConfirmable("Nothing of this order is waiting to be undone.", flow_id=str(flow.pk))
        # A fresh start: its own attempts, its own deadline, and no longer a person's to hold.
        failed.update(status=CompensationStatus.PENDING, attempts=0, retry_at=None, failing_since=None, gave_up_at=None)
        if flow.status == FlowStatus.ESCALATED:
            flow_transition(flow, FlowStatus.COMPENSATING, actor_type=ActorType.STAFF, actor_id=staff_id)
        flow_compensate_on_commit(flow.pk)
    return flow
