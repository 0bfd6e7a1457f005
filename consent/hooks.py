"""Hooks other apps plug into, called after the consent change they announce has committed.

The flow issue registers a handler for `grant_revoked` (stop every flow of that customer not yet
placed and compensate its partial work); the conversation issue registers one for `customer_notice`
(tell the customer in chat). Register from an `AppConfig.ready`:

    from consent import hooks

    class OrderingConfig(AppConfig):
        def ready(self):
            hooks.grant_revoked.register(ordering.handlers.stop_flows_on_revocation)

The mechanism is `config.hooks.Hook` (shared with the merchant integration's hooks). Two are questions
consent asks synchronously instead: `spend_reservations_held` (the caps arithmetic) and
`account_sections` (what other apps show on the customer's settings page: ordering's "Your orders").
Handlers run in the web or worker process right after commit, so they must be quick: enqueue a Celery
task (by id) and return. A handler that raises is logged and does not stop the others; the revocation
itself already took effect, because every consent check reads the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config.hooks import Handlers, Hook

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GrantRevoked:
    customer_id: int
    grant_id: int
    scope: str
    revoked_at: datetime
    trace_id: str


@dataclass(frozen=True)
class CustomerNotice:
    """Something the customer should hear about in their chat (e.g. that a revocation stopped a flow)."""

    customer_id: int
    kind: str
    text: str
    data: dict[str, Any]
    trace_id: str


class HeldReservations(Handlers[Callable[[frozenset[str]], "set[str] | frozenset[str]"]]):
    """A question consent asks, synchronously: which of these spend reservations does a flow still hold?

    The flow app answers it (a reservation whose flow is placing may be charged any moment), so consent
    never expires it, neither in the caps arithmetic nor in the sweeper, without importing ordering.
    Handlers take a set of flow references and return the subset they hold. A handler that raises
    holds every reference asked about: a reservation kept too long only blocks spend, one dropped
    too early lets a charge exceed a cap.
    """

    def ask(self, flow_references: frozenset[str]) -> frozenset[str]:
        held: set[str] = set()
        if not flow_references:
            return frozenset()
        for handler in self.handlers:
            try:
                held |= set(handler(flow_references)) & flow_references
            except Exception:
                logger.exception("consent hook %s handler %r failed; holding every reservation", self.name, handler)
                return flow_references
        return frozenset(held)


@dataclass(frozen=True)
class AccountSection:
    """A part of the customer's settings page that another app draws: its template, included in the page
    (after step-up, before the activity) with `section` set to `context`."""

    template_name: str
    context: dict[str, Any]


class AccountSections(Handlers[Callable[[int], "AccountSection | None"]]):
    """A question the settings page asks, synchronously: what do other apps show this customer there?

    Handlers take the signed-in customer's id and return their section (or None: nothing to show); the
    sections appear in the order the handlers registered. A handler that raises fails the page, as a
    part of the page that fails would.
    """

    def ask(self, customer_id: int) -> list[AccountSection]:
        sections = (handler(customer_id) for handler in self.handlers)
        return [section for section in sections if section is not None]


grant_revoked: Hook[GrantRevoked] = Hook("consent.grant_revoked")
customer_notice: Hook[CustomerNotice] = Hook("consent.customer_notice")
spend_reservations_held = HeldReservations("consent.spend_reservations_held")
account_sections = AccountSections("consent.account_sections")
