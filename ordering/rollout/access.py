"""What the rollout allows right now: who may use the assistant, whether it takes new orders, phase limits.

Every check reads the settings through `rollout_state()` (this process' copy, at most
ORDERING_ROLLOUT_CACHE_SECONDS old), so none costs a query on a warm process, and the kill switch
reaches every process within that many seconds. Refusals are named errors (ordering.errors) whose
message a customer can read and whose details carry the shop's checkout URL; the API maps them once.

- `assistant_access_check`: a customer outside the assistant's arm (phases 0-2) is refused
  (`assistant_not_available`): the shop's own checkout serves them.
- `orders_paused_check`: with the kill switch on, no new preview and no confirmation (`assistant_paused`);
  flows already confirmed or placing are not asked again and finish.
- `phase_limits_check`: a flow started in phase 0 places orders with sandbox merchants only; one started
  in phase 1 stays under the beta's per-session ceiling (`rollout_limit`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Sum

from ordering.errors import AssistantNotAvailable, AssistantPaused, RolloutCeilingExceeded
from ordering.models import ARM_INTERNAL, FlowStatus, OrderFlow, RolloutPhase
from ordering.rollout.assignment import Assignment, RolloutState, assign_user, rollout_state

NOT_AVAILABLE_TEXT = (
    "The ordering assistant isn't available for your account yet. You can order as usual at the shop's checkout: {url}"
)
PAUSED_TEXT = (
    "The ordering assistant is paused for a moment and is not taking new orders. Orders already on their way "
    "are not affected. You can order as usual at the shop's checkout: {url}"
)
BETA_CEILING_TEXT = (
    "While the assistant is in its beta, one chat can order up to {ceiling} in total, and this order would "
    "bring it to {total}. You can order more at the shop's checkout: {url}"
)
SANDBOX_ONLY_TEXT = (
    "The assistant is only being tried by the shop's staff for now, with test shops only, so it cannot place "
    "this order. You can order as usual at the shop's checkout: {url}"
)

# The statuses of a conversation's flows whose totals count toward the beta's per-session ceiling.
_COUNTED = (
    FlowStatus.CONFIRMED,
    FlowStatus.PLACING,
    FlowStatus.PLACED,
    FlowStatus.REQUIRES_ACTION,
    FlowStatus.ESCALATED,
)


def checkout_url() -> str:
    return settings.ORDERING_ROLLOUT_CHECKOUT_URL


def recorded_arm(assignment: Assignment) -> str:
    """What a conversation or flow stores as its arm: staff outside the experiment are `internal`."""
    return ARM_INTERNAL if assignment.internal else assignment.arm


def assistant_access_check(user: Any, *, state: RolloutState | None = None) -> Assignment:
    """The customer's assignment, or AssistantNotAvailable when the assistant is not theirs in this phase."""
    assignment = assign_user(user, state=state)
    if not assignment.assistant:
        url = checkout_url()
        raise AssistantNotAvailable(NOT_AVAILABLE_TEXT.format(url=url), checkout_url=url, phase=assignment.phase)
    return assignment


def orders_paused_check(*, state: RolloutState | None = None) -> None:
    state = state or rollout_state()
    if state.kill_switch:
        url = checkout_url()
        raise AssistantPaused(PAUSED_TEXT.format(url=url), checkout_url=url)


def availability(*, state: RolloutState | None = None) -> dict[str, Any]:
    """For the widget: whether the assistant takes new orders now, and where to go instead."""
    state = state or rollout_state()
    url = checkout_url()
    if state.kill_switch:
        return {"taking_orders": False, "code": AssistantPaused.code, "message": PAUSED_TEXT.format(url=url),
                "checkout_url": url}  # fmt: skip
    return {"taking_orders": True, "checkout_url": url}


def phase_limits_check(*, flow: OrderFlow, total: int | None, currency: str) -> None:
    """Refuse an order over the limits of the phase the flow started in (none in phases 2 and 3)."""
    from catalog_adapters.registry import merchant_is_sandbox
    from consent.formatting import format_money

    phase = flow.rollout_phase
    if phase == RolloutPhase.INTERNAL and not merchant_is_sandbox(flow.merchant_id):
        url = checkout_url()
        raise RolloutCeilingExceeded(SANDBOX_ONLY_TEXT.format(url=url), checkout_url=url, limit="sandbox_only")
    if phase != RolloutPhase.BETA or flow.rollout_arm == ARM_INTERNAL:
        return
    ceiling = rollout_state().beta_session_ceiling
    earlier = (
        OrderFlow.objects.filter(conversation_id=flow.conversation_id, currency=currency, status__in=_COUNTED)
        .exclude(pk=flow.pk)
        .aggregate(total=Sum("total_amount"))["total"]
        or 0
    )
    session_total = earlier + (total or 0)
    if session_total > ceiling:
        url = checkout_url()
        raise RolloutCeilingExceeded(
            BETA_CEILING_TEXT.format(
                ceiling=format_money(ceiling, currency), total=format_money(session_total, currency), url=url
            ),
            checkout_url=url,
            limit="beta_session_ceiling",
            ceiling=ceiling,
            currency=currency,
        )
