"""The saga's engine: claim a step, run it, record its outcome, claim the next one (`flow_run`, Celery task
`ordering.flow_advance`).

A merchant step runs in short pieces, never holding a row lock across a merchant call:

1. claim (one transaction): lock the flow, check its status and the step lease, take the lease,
   insert the `FlowStep` attempt row, register the compensation of what the step is about to do;
2. the step itself: foreign calls only, under an Idempotency-Key derived from the flow, the
   placement round and the step, so a repeated attempt (redelivery, sweeper, crash) replays;
3. finish (one transaction, which also claims the next step when it is ready): a conditional update
   proves the lease is still ours and locks the flow, then the attempt's outcome is recorded.

Lock order: the flow, then the customer's consent profile / spend rows (audit appends take no lock).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import ActorType
from catalog_adapters.errors import MerchantClientError, MerchantError
from config.statements import (
    fields_update,
    fields_update_check,
    fields_update_hand_written,
    fields_update_statement,
    hand_written_sql,
    postgresql_or_orm,
    row_model,
    select_list,
)
from config.tracing import get_trace_id
from consent.models import Address, PaymentMethod
from ordering import metrics
from ordering.models import FlowCompensation, FlowStatus, FlowStep, OrderFlow, StepStatus
from ordering.saga.base import LOCAL_STEPS, NEXT_STEP, RUNNABLE_STATUSES, Claim, StepHistory, TokenRequest, round_key
from ordering.saga.outcomes import (
    Advance,
    Await,
    Escalate,
    Fail,
    NeedsAction,
    Placed,
    Repreview,
    Retry,
    StepOutcome,
    outcome_apply,
)
from ordering.saga.steps import STEP_FUNCTIONS, compensations_before
from ordering.services import compensations_register, insert_select, mark_saved
from ordering.transitions import flow_advance_on_commit, flow_transition

logger = logging.getLogger(__name__)


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
    """The flow, locked, with its card and address (read in the same round trip but never locked).

    Hand-written on PostgreSQL: the ORM spent about 2 ms of Python per call building this three-table
    `select_related` (once per task that starts a flow), several times what running it costs."""

    def one_statement() -> OrderFlow | None:
        quote = connection.ops.quote_name
        card_field, address_field = OrderFlow.payment_method.field, OrderFlow.shipping_address.field
        card_model, address_model = PaymentMethod, Address
        card_join = f"c.{quote(card_model._meta.pk.column)} = f.{quote(card_field.column)}"
        address_join = f"a.{quote(address_model._meta.pk.column)} = f.{quote(address_field.column)}"
        # Only our own table and column names are interpolated; the id is a parameter.
        sql = (
            f"SELECT {select_list(OrderFlow, 'f')}, {select_list(card_model, 'c')}, "  # noqa: S608
            f"{select_list(address_model, 'a')} FROM {quote(OrderFlow._meta.db_table)} f "
            f"LEFT JOIN {quote(card_model._meta.db_table)} c ON {card_join} "
            f"LEFT JOIN {quote(address_model._meta.db_table)} a ON {address_join} "
            f"WHERE f.{quote(OrderFlow._meta.pk.column)} = %s FOR UPDATE OF f"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [OrderFlow._meta.pk.get_db_prep_value(flow_id, connection)])
            row = cursor.fetchone()
        if row is None:
            return None
        flow_width, card_width = len(OrderFlow._meta.concrete_fields), len(card_model._meta.concrete_fields)
        flow = row_model(OrderFlow, row[:flow_width])
        card_row, address_row = row[flow_width : flow_width + card_width], row[flow_width + card_width :]
        card_field.set_cached_value(flow, row_model(card_model, card_row) if card_row[0] is not None else None)
        address_field.set_cached_value(
            flow, row_model(address_model, address_row) if address_row[0] is not None else None
        )
        return flow

    def orm() -> OrderFlow | None:
        return (
            OrderFlow.objects.select_for_update(of=("self",))
            .select_related("payment_method", "shipping_address")
            .filter(pk=flow_id)
            .first()
        )

    return postgresql_or_orm(postgresql=one_statement, orm=orm)


def _save_placing(
    flow: OrderFlow, fields: tuple[str, ...], *, write: Callable[[list[str]], None] | None = None
) -> None:
    """Save `fields` of the locked flow, moving a confirmed flow to placing in the same UPDATE.

    The move is written once the local steps have run (after the spend reservation and the risk
    assessment, in their transaction), together with the claim of the next step: one write of the
    flow's row instead of two. `write`: handed the fields instead, for the caller's next statement to write.
    """
    if flow.status == FlowStatus.CONFIRMED:
        flow_transition(
            flow,
            FlowStatus.PLACING,
            actor_type=ActorType.AGENT,
            data={"round": flow.confirmations},
            extra_fields=fields,
            write=write,
        )
    elif fields:
        if write is not None:
            write([*fields, "updated_at"])
        else:
            fields_update(flow, [*fields, "updated_at"])


def _step_transaction(
    flow_id: Any, *, finished: tuple[Claim, StepOutcome] | None, budget: int
) -> tuple[Claim | None, int, str | None]:
    """One transaction: record the step that just ran, run the local steps, claim the next merchant step.

    Returns (the claim to run now or None, the units used, the name of the last outcome recorded).
    """
    if finished is not None and _finishes_in_one_statement(*finished, budget=budget):
        # Recorded and the next step claimed by one statement (`_finish_write`), atomic by itself: no BEGIN and
        # COMMIT of its own around it.
        return _finish_and_continue(*finished, budget=budget)
    with transaction.atomic():
        if finished is not None:
            return _finish_and_continue(*finished, budget=budget)
        flow = _lock_flow(flow_id)
        now = timezone.now()
        if flow is None or flow.status not in RUNNABLE_STATUSES or not flow.next_step:
            return None, 0, None
        if flow.step_lease_until and flow.step_lease_until > now:
            return None, 0, None  # another worker is running this flow's step right now
        history = StepHistory.read(flow)
        if history.running:
            # Rows left running by a worker that died: closed, the new attempt replaces them.
            FlowStep.objects.filter(pk__in=history.running).update(
                status=StepStatus.FAILED, finished_at=now, error_class="abandoned", error_detail="the worker stopped"
            )
        rows: list[FlowStep] = []
        undo: list[tuple[str, str]] = []
        used, name = 0, None
        if flow.next_step in LOCAL_STEPS:
            used, name = 1, "advance"
            outcome, attempt_in_round = _run_local_steps(flow, history, rows, undo)
            if outcome is not None or used >= budget:
                _steps_write(flow, rows=rows, undo=undo, placement_round=flow.confirmations)
                flow.step_lease_until = None
                if outcome is None:
                    # This task had its share: the rest goes to the back of the queue.
                    _save_placing(flow, ("next_step", "step_lease_until"))
                    flow_advance_on_commit(flow.pk)
                    return None, used, name
                _save_placing(flow, ())
                outcome_apply(flow, rows[-1].name, attempt_in_round, outcome)
                return None, used, type(outcome).__name__.lower()
        lease_until = now + timedelta(seconds=settings.ORDERING_STEP_LEASE_SECONDS)
        claim = _claim_remote(flow, history, rows, lease_until=lease_until, save_flow=True, undo=undo)
    return claim, used + 1, name


def _finishes_in_one_statement(claim: Claim, outcome: StepOutcome, *, budget: int) -> bool:
    """Whether recording this outcome is `_finish_write`'s one statement and nothing else: a merchant step that
    advanced to another merchant step this task claims (its row and undo written by that statement, which also
    proves the lease), where the hand-written statements run. A lost claim then marks the step superseded with a
    conditional UPDATE of its own, as it did inside the transaction."""
    return (
        isinstance(outcome, Advance)
        and budget > 0
        and claim.lease_until is not None
        and NEXT_STEP.get(claim.step, "") not in ("", *LOCAL_STEPS)
        and hand_written_sql()
    )


def _finish_and_continue(claim: Claim, outcome: StepOutcome, *, budget: int) -> tuple[Claim | None, int, str]:
    """Record a merchant step's outcome and, when the next step is ready and the task has budget, claim it."""
    name = type(outcome).__name__.lower()
    if claim.awaiting is None:
        # (a read of a complete the merchant is finishing never gives up into a failure: the outcome is unknown)
        outcome = _given_up(outcome, claim.step, claim.attempt_in_round, since=claim.since)
    now = timezone.now()
    advancing = isinstance(outcome, Advance)
    next_step = NEXT_STEP[claim.step] if advancing else claim.step
    chain = advancing and budget > 0 and next_step not in LOCAL_STEPS
    lease_until = now + timedelta(seconds=settings.ORDERING_STEP_LEASE_SECONDS) if chain else None
    finished = (claim.step_row_id, _step_fields(outcome, claim.result))
    flow = claim.flow
    if chain and lease_until is not None and isinstance(outcome, Advance):
        # The next step is claimed in the statement that records this one (its row and undo written only if
        # the claim held); what it prepares in memory is thrown away with this task if it did not.
        claim.history.record(claim.step, claim.operation_id, outcome.result)
        flow.next_step = next_step

        def write(rows: list[FlowStep], undo: list[tuple[str, str]]) -> bool:
            return _finish_write(claim, next_step=next_step, lease_until=lease_until, now=now, finished=finished,
                                 rows=rows, undo=undo)  # fmt: skip

        claimed = _claim_remote(flow, claim.history, [], lease_until=lease_until, save_flow=False, write=write)
        if claimed is None:
            _superseded(claim, now)
            return None, 0, name
        flow.step_lease_until, flow.updated_at = lease_until, now
        metrics.step_seconds.labels(step=claim.step, status=_step_status(outcome)).observe(
            time.monotonic() - claim.started
        )
        return claimed, 1, name
    held = _finish_write(
        claim, next_step=next_step, lease_until=lease_until, now=now, finished=finished, rows=[], undo=[]
    )
    if not held:
        _superseded(claim, now)
        return None, 0, name
    flow.next_step, flow.step_lease_until, flow.updated_at = next_step, lease_until, now
    metrics.step_seconds.labels(step=claim.step, status=_step_status(outcome)).observe(time.monotonic() - claim.started)
    if not isinstance(outcome, Advance):
        outcome_apply(
            flow,
            claim.step,
            claim.attempt_in_round,
            outcome,
            since=claim.since,
            ordered_before=claim.history.ordered_before,
        )
        return None, 0, name
    flow_advance_on_commit(flow.pk)  # not chained: this task had its share, the rest goes to the back of the queue
    return None, 0, name


def _finish_write(
    claim: Claim,
    *,
    next_step: str,
    lease_until: datetime | None,
    now: datetime,
    finished: tuple[int, dict[str, Any]],
    rows: list[FlowStep],
    undo: list[tuple[str, str]],
) -> bool:
    """Record a merchant step's outcome if its claim still holds; False (nothing written) when it does not.

    The conditional UPDATE checks that the claim is still ours (a takeover always writes a later lease, a stop
    changes the status), takes the flow's row lock and moves the flow on: no re-read. Only if it held are the
    finished step's outcome, the next step's `rows` (their ids set) and its `undo` written: one statement on
    PostgreSQL (a data-modifying WITH whose other parts read the UPDATE's RETURNING), the ORM's statements
    one after the other elsewhere.
    """
    flow = claim.flow

    def one_statement() -> bool:
        quote = connection.ops.quote_name
        flow_fields = {field.name: field for field in OrderFlow._meta.concrete_fields}

        def value(fields: dict[str, Any], name: str, given: Any) -> Any:
            return fields[name].get_db_prep_save(given, connection)

        flow_table, step_table = quote(OrderFlow._meta.db_table), quote(FlowStep._meta.db_table)
        moved = f"UPDATE {flow_table} SET next_step = %s, step_lease_until = %s, updated_at = %s"  # noqa: S608
        statuses = ", ".join(["%s"] * len(RUNNABLE_STATUSES))
        ours = f"id = %s AND status IN ({statuses}) AND next_step = %s AND step_lease_until = %s"
        held = f"{moved} WHERE {ours} RETURNING id"
        params: list[Any] = [
            next_step,
            value(flow_fields, "step_lease_until", lease_until),
            value(flow_fields, "updated_at", now),
            value(flow_fields, "id", claim.flow_id),
            *RUNNABLE_STATUSES,
            claim.step,
            value(flow_fields, "step_lease_until", claim.lease_until),
        ]
        step_fields = {field.name: field for field in FlowStep._meta.concrete_fields}
        row_id, outcome_fields = finished
        assignments = ", ".join(f"{quote(step_fields[name].column)} = %s" for name in outcome_fields)
        params += [value(step_fields, name, given) for name, given in outcome_fields.items()]
        params.append(row_id)
        parts = [
            f"h AS ({held})",
            f"d AS (UPDATE {step_table} SET {assignments} WHERE id = %s AND EXISTS (SELECT 1 FROM h))",  # noqa: S608
        ]
        now_registered = timezone.now()
        for index, (action, target) in enumerate(undo):
            undo_row = FlowCompensation(
                flow=flow,
                action=action,
                target_ref=target,
                registered_at=now_registered,
                placement_round=flow.confirmations,
            )
            columns, values, undo_params = insert_select(undo_row, computed={})
            undo_table = quote(FlowCompensation._meta.db_table)
            insert_undo = f"INSERT INTO {undo_table} ({columns}) SELECT {values} FROM h ON CONFLICT DO NOTHING"  # noqa: S608
            parts.append(f"u{index} AS ({insert_undo})")
            params += undo_params
        last = "SELECT (SELECT count(*) FROM h), NULL"
        if rows:
            (row,) = rows  # a merchant step's claim: one row
            columns, values, row_params = insert_select(row, computed={})
            parts.append(f"s AS (INSERT INTO {step_table} ({columns}) SELECT {values} FROM h RETURNING id)")  # noqa: S608
            params += row_params
            last = "SELECT (SELECT count(*) FROM h), (SELECT id FROM s)"
        with connection.cursor() as cursor:
            # Only our own table and column names are interpolated; values are parameters.
            cursor.execute(f"WITH {', '.join(parts)} {last}", params)
            count, step_id = cursor.fetchone()
        if not count:
            return False
        if rows:
            mark_saved(rows[0], step_id)
        return True

    def orm() -> bool:
        held = OrderFlow.objects.filter(
            pk=claim.flow_id, status__in=RUNNABLE_STATUSES, next_step=claim.step, step_lease_until=claim.lease_until
        ).update(next_step=next_step, step_lease_until=lease_until, updated_at=now)
        if not held:
            return False
        FlowStep.objects.filter(pk=finished[0]).update(**finished[1])
        if rows:
            FlowStep.objects.bulk_create(rows)
            compensations_register(flow=flow, undo=undo, placement_round=flow.confirmations)
        return True

    if claim.lease_until is None or len(rows) > 1:
        return orm()  # (never for a merchant step's claim: it always has a lease and claims one step)
    return postgresql_or_orm(postgresql=one_statement, orm=orm)


def _superseded(claim: Claim, now: datetime) -> None:
    # The sweeper gave our step away (lease ran out), or the flow was stopped meanwhile: whoever holds
    # it now decides. Our foreign calls were idempotent, nothing is lost.
    logger.warning("flow step finished after losing its claim", extra={"flow_id": str(claim.flow_id)})
    status = OrderFlow.objects.filter(pk=claim.flow_id).values_list("status", flat=True).first() or "gone"
    FlowStep.objects.filter(pk=claim.step_row_id, status=StepStatus.RUNNING).update(
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
    succeeded = isinstance(outcome, Advance | Placed | Repreview | NeedsAction | Escalate | Await)
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


def _run_local_steps(
    flow: OrderFlow, history: StepHistory, rows: list[FlowStep], undo: list[tuple[str, str]]
) -> tuple[StepOutcome | None, int]:
    """Run consent, spend and risk in the caller's transaction: (the outcome that stopped them, its attempt).

    The outcome is None when they all advanced.

    Each step keeps its own row (appended to `rows`) and its compensation (appended to `undo`); the caller
    writes both with the claim in one statement, in this same transaction, so a compensation commits exactly
    when the effect it undoes does (a database error rolls back both). A step that crashes (a bug) is recorded
    and retried later, as a merchant step would be.
    """
    while flow.next_step in LOCAL_STEPS:
        step_name = flow.next_step
        key = round_key(flow, step_name)
        attempt, attempt_in_round = history.next_attempt(step_name, key)
        undo += compensations_before(flow, step_name)
        started_at, started = timezone.now(), time.monotonic()
        claim = Claim(flow.pk, None, step_name, attempt_in_round, key, started, flow=flow, history=history)
        try:
            outcome = STEP_FUNCTIONS[step_name](flow, claim)
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
    flow: OrderFlow,
    history: StepHistory,
    rows: list[FlowStep],
    *,
    lease_until: datetime,
    save_flow: bool,
    undo: list[tuple[str, str]] | None = None,
    write: Callable[[list[FlowStep], list[tuple[str, str]]], bool] | None = None,
) -> Claim | None:
    """Take the lease on the flow's next merchant step; its row and its undo are written before the call.

    `rows` and `undo`: the local steps' rows and compensations of this transaction, written with it.
    `write`: writes the rows and undo instead (the step that just ran is recorded in the same statement) and
    says whether its claim held; None (nothing claimed) when it did not.
    """
    step_name = flow.next_step
    operation_id = round_key(flow, step_name)
    attempt, attempt_in_round = history.next_attempt(step_name, operation_id)
    token_request = None
    payment_handler = ""
    awaiting = None
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
                psp_merchant_id=history.psp_merchant_ids.get(round_key(flow, "verify_price"), ""),
            )
        )
    elif step_name == "complete_checkout":
        recorded = history.token_requests.get(round_key(flow, "mint_token"))
        token_request = TokenRequest.from_result(recorded) if recorded else None
        payment_handler = history.payment_handlers.get(round_key(flow, "verify_price"), "")
        awaiting = history.awaiting.get(operation_id)
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
    new_undo = [*(undo or []), *compensations_before(flow, step_name)]
    if write is not None:
        if not write([*rows, step], new_undo):
            return None
    else:
        flow_fields: list[str] = []
        if save_flow:
            # The flow's row (placing, the lease) is written by the statement that writes the step rows.
            flow.step_lease_until = lease_until
            _save_placing(flow, ("next_step", "step_lease_until"), write=flow_fields.extend)
        _steps_write(
            flow, rows=[*rows, step], undo=new_undo, placement_round=flow.confirmations, flow_fields=flow_fields
        )
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
        awaiting=awaiting,
    )


def _steps_write(
    flow: OrderFlow,
    *,
    rows: list[FlowStep],
    undo: list[tuple[str, str]],
    placement_round: int,
    flow_fields: list[str] | None = None,
) -> None:
    """Write a transaction's new step rows (their ids set) and the undo registered before the next step's call,
    and `flow_fields` of the (locked) flow when given. One statement on PostgreSQL (a data-modifying WITH); the
    ORM's bulk insert, `compensations_register` and the flow's UPDATE elsewhere."""
    now = timezone.now()
    compensations = [
        FlowCompensation(
            flow=flow, action=action, target_ref=target, registered_at=now, placement_round=placement_round
        )
        for action, target in undo
    ]

    def one_statement() -> None:
        quote = connection.ops.quote_name
        parts: list[str] = []
        params: list[Any] = []
        flow_written = bool(flow_fields) and fields_update_hand_written(flow)
        if flow_written:
            update, update_params = fields_update_statement(flow, flow_fields or [])
            parts.append(f"f AS ({update} RETURNING 1)")
            params += update_params
        if compensations:
            undo_rows = [insert_select(undo_row, computed={}) for undo_row in compensations]
            undo_table = quote(FlowCompensation._meta.db_table)
            values = ", ".join(f"({row_values})" for _, row_values, _ in undo_rows)
            insert_undo = f"INSERT INTO {undo_table} ({undo_rows[0][0]}) VALUES {values} ON CONFLICT DO NOTHING"  # noqa: S608
            parts.append(f"u AS ({insert_undo})")
            params += [param for _, _, row_params in undo_rows for param in row_params]
        step_rows = [insert_select(row, computed={}) for row in rows]
        values = ", ".join(f"({row_values})" for _, row_values, _ in step_rows)
        params += [param for _, _, row_params in step_rows for param in row_params]
        # Only our own table and column names are interpolated; values are parameters. A data-modifying WITH runs
        # whether or not the rest of the statement reads it.
        returning = "id, (SELECT count(*) FROM f)" if flow_written else "id, 1"
        insert = (
            f"INSERT INTO {quote(FlowStep._meta.db_table)} ({step_rows[0][0]}) VALUES {values} RETURNING {returning}"  # noqa: S608
        )
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {', '.join(parts)} {insert}" if parts else insert, params)
            found = cursor.fetchall()
        for row, (row_id, _) in zip(rows, found, strict=True):
            mark_saved(row, row_id)
        fields_update_check(found[0][1])  # the flow's row was written (it is locked: it cannot have gone)
        if flow_fields and not flow_written:
            fields_update(flow, flow_fields)

    def orm() -> None:
        FlowStep.objects.bulk_create(rows)
        compensations_register(flow=flow, undo=undo, placement_round=placement_round)
        if flow_fields:
            fields_update(flow, flow_fields)

    postgresql_or_orm(postgresql=one_statement, orm=orm)


def _run_remote(claim: Claim) -> StepOutcome:
    """A merchant step, with no lock held and no transaction open."""
    try:
        return STEP_FUNCTIONS[claim.step](claim.flow, claim)
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
