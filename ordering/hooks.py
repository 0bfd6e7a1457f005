"""What ordering asks of the apps above it, without importing them (#18; the pattern of consent/hooks.py).

Apps form a tree: escalations depends on ordering, never the reverse. Two things leave ordering here,
and escalations answers both from its `AppConfig.ready` (`escalations/apps.py`):

- `person_needed`: "a person must look at this" (a risk review, a payment to verify, an undo that
  failed, a customer asking for someone). **Synchronous, inside the caller's transaction**: the
  escalation is written atomically with the flow's or conversation's own change, so a rollback of one
  is a rollback of both, and a failure to open it fails the caller. Exactly one app answers; calling it
  with nobody subscribed raises `HookNotSubscribed` instead of dropping the request for a person.
- `escalation_records`: reads of the escalations ordering shows or counts (the trace lookup's story,
  the rollout's escalation-rate gate), through a typed provider, so ordering never queries the
  escalations tables by name.

The ops page's escalation panels are escalations' own (`escalations/ops.py`), added to the page through
`ordering.ops.selectors.ops_panels_contribute`.

Unlike `config.hooks.Hook` (after commit, any number of handlers, a failing handler only logged), these
answer a question now, and an error propagates to the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from config.hooks import Single
from ordering.models import EscalationReason

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from ordering.models import Conversation, OrderFlow

Event = TypeVar("Event")
Answer = TypeVar("Answer")
Provided = TypeVar("Provided")


class OneAnswer(Single[Callable[[Event], Answer]], Generic[Event, Answer]):
    """A synchronous question with exactly one answering handler, called in the caller's transaction."""

    @property
    def handler(self) -> Callable[[Event], Answer] | None:
        return self.registered

    def ask(self, event: Event) -> Answer:
        return self.get()(event)


class Provider(Single[Provided]):
    """One object a higher app registers to answer ordering's reads of its rows."""

    @property
    def provider(self) -> Provided | None:
        return self.registered


# -- a person is needed ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonNeeded:
    """Ask for a person: about a flow (`flow_id`) or, without one, a conversation."""

    reason: EscalationReason
    customer_id: int
    flow_id: object | None = None
    conversation_id: object | None = None
    detail: str = ""
    actor_type: str = "system"


# Answered with the id of the escalation opened (or of the one already open for the same thing).
person_needed: OneAnswer[PersonNeeded, int] = OneAnswer("ordering.person_needed")


# -- reads of escalations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationSummary:
    """One escalation as ordering's pages show it."""

    id: int
    reason: str
    reason_label: str
    status: str
    detail: str
    created_at: datetime
    resolved_at: datetime | None
    resolution_code: str
    trace_id: str


class EscalationRecords(Protocol):
    def escalations_of(
        self, *, flow_ids: Iterable[object], conversation_ids: Iterable[object], limit: int
    ) -> list[EscalationSummary]:
        """The escalations of these flows or conversations, oldest first, at most `limit` rows."""
        ...

    def escalations_opened_count(
        self,
        *,
        flows: QuerySet[OrderFlow],
        conversations: QuerySet[Conversation],
        since: datetime,
        until: datetime,
    ) -> int:
        """Escalations opened in [since, until) about one of `flows`, or without a flow in one of `conversations`."""
        ...


escalation_records: Provider[EscalationRecords] = Provider("ordering.escalation_records")
