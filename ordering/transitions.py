"""The one status-transition helper, and the flow's moves and after-commit enqueues built on it (#18).

A status change is checked against the model's own transition table (`can_become`), saved with the
fields that change with it, and audited in the same transaction; an invalid change raises the model's
named error. Order flows (`flow_transition`) and escalations (`escalations.services`) both move through
`status_transition`, so the rule and the audit shape are written once.

A flow's `waiting_for` moves with its status: a move into REQUIRES_ACTION or ESCALATED must say what
the flow waits for, and a move out of them clears it (a database constraint refuses anything else).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.db import transaction

from audit.models import ActorType, Outcome
from audit.services import Origin, audit_record
from config.errors import DomainError
from config.statements import fields_update
from ordering.errors import InvalidFlowTransition
from ordering.models import WAITING_STATUSES, FlowStatus, OrderFlow, WaitingFor

logger = logging.getLogger(__name__)


class StatusRecord(Protocol):
    """A model row with a status and a transition table: an order flow, an escalation."""

    pk: Any
    status: str

    def can_become(self, status: str) -> bool: ...

    def save(self, *, update_fields: list[str]) -> None: ...


def status_transition(
    record: StatusRecord,
    to: str,
    *,
    refused: type[DomainError],
    target_type: str,
    action: str,
    actor_type: ActorType | str,
    actor_id: object = None,
    customer_id: int | None = None,
    outcome: Outcome | str = Outcome.OK,
    origin: Origin | None = None,
    data: Mapping[str, Any] | None = None,
    extra_fields: tuple[str, ...] = (),
    trace_id: str | None = None,
    refusal_details: Mapping[str, object] | None = None,
    write: Callable[[list[str]], None] | None = None,
) -> str:
    """Move a locked row to `to`, save it with `extra_fields` and audit `action`; return the status it left.

    Raises `refused` (the model's named DomainError) when its transition table does not allow the move.
    The caller holds the row lock and the transaction. `write`, when given, is handed the names of the fields to
    save instead of saving them: the caller writes them with its next statement, in the same transaction.
    """
    if not record.can_become(to):
        raise refused(
            f"A {target_type} cannot go from {record.status} to {to}.",
            current=record.status,
            requested=to,
            **(refusal_details or {}),
        )
    previous = record.status
    record.status = to
    fields = ["status", "updated_at", *extra_fields]
    if write is not None:
        write(fields)
    else:
        fields_update(record, fields)  # type: ignore[arg-type]  # a model row
    audit_record(
        action=action,
        actor_type=actor_type,
        actor_id=actor_id,  # type: ignore[arg-type]  # an id of any kind; audit stores it as text
        customer_id=customer_id,
        target_type=target_type,
        target_id=record.pk,
        outcome=outcome,
        origin=origin,
        data={"from": previous, **(data or {})},
        trace_id=trace_id,
    )
    where = {f"{target_type}_id": str(record.pk), "from": previous, "to": to}
    logger.info("%s %s -> %s", target_type, previous, to, extra=where)
    return previous


def flow_transition(
    flow: OrderFlow,
    to: FlowStatus,
    *,
    actor_type: ActorType | str,
    actor_id: object = None,
    outcome: Outcome | str = Outcome.OK,
    data: dict[str, Any] | None = None,
    extra_fields: tuple[str, ...] = (),
    origin: Origin | None = None,
    waiting_for: WaitingFor | None = None,
    write: Callable[[list[str]], None] | None = None,
) -> OrderFlow:
    """Move a locked flow to `to` (audit `flow.<to>`), or raise InvalidFlowTransition.

    `waiting_for` is required for a move into REQUIRES_ACTION or ESCALATED and refused otherwise. `write`: as
    `status_transition`'s (the saga writes the flow's row with the statement that follows).
    """
    fields = extra_fields
    facts: dict[str, Any] = {"total": flow.total_amount, "currency": flow.currency}
    if to in WAITING_STATUSES:
        if not waiting_for:
            raise ValueError(f"A flow moving to {to} must say what it waits for (WaitingFor).")
        flow.waiting_for = waiting_for
        fields = (*fields, "waiting_for")
        facts["waiting_for"] = str(waiting_for)
    elif waiting_for:
        raise ValueError(f"A flow moving to {to} waits for nothing; got waiting_for={waiting_for!r}.")
    elif flow.waiting_for:
        flow.waiting_for = WaitingFor.NOTHING
        fields = (*fields, "waiting_for")
    status_transition(
        flow,
        to,
        refused=InvalidFlowTransition,
        target_type="flow",
        action=f"flow.{to}",
        actor_type=actor_type,
        actor_id=actor_id,
        customer_id=flow.customer_id,
        outcome=outcome,
        origin=origin,
        data={**facts, **(data or {})},
        extra_fields=fields,
        refusal_details={"flow_id": str(flow.pk)},
        write=write,
    )
    return flow


def flow_advance_on_commit(flow_id: object, *, countdown: float | None = None) -> None:
    """Run the flow's next saga step once the current transaction commits (the sweeper covers a lost enqueue)."""
    from ordering import tasks  # the tasks module imports the saga, which imports this one

    transaction.on_commit(lambda: tasks.flow_advance.apply_async(args=[str(flow_id)], countdown=countdown))


def flow_compensate_on_commit(flow_id: object) -> None:
    """Run the flow's due undo steps once the current transaction commits."""
    from ordering import tasks

    transaction.on_commit(lambda: tasks.flow_compensate.apply_async(args=[str(flow_id)]))
