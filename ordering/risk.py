"""Risk scoring of a placement round: deterministic rules with thresholds from settings.

Signals: velocity (orders placed recently), the amount against the customer's history, a shipping
address never used for a placed order, a first order, and a card or shipping address the customer
added recently (someone holding a stolen session adds their own address or card first). Points add up;
the decision is allow, step-up (a TOTP code within the last N minutes), or review by a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Avg, Count, Q
from django.utils import timezone

from audit.models import ActorType
from ordering.models import FlowStatus, OrderFlow

ALLOW = "allow"
STEP_UP = "step_up"
REVIEW = "review"


@dataclass(frozen=True)
class RiskAssessment:
    decision: str
    score: int
    reasons: list[str] = field(default_factory=list)
    policy_version: str = ""

    def as_dict(self) -> dict:
        return {"decision": self.decision, "score": self.score, "reasons": self.reasons}


def _recently_added(flow: OrderFlow) -> list[str]:
    """Which of the flow's card and shipping address a person (not the demo seed) added within the window."""
    since = timezone.now() - timedelta(hours=settings.ORDERING_RISK_RECENT_INSTRUMENT_HOURS)
    recent = []
    for words, instrument in (("card", flow.payment_method), ("shipping address", flow.shipping_address)):
        if instrument is not None and instrument.added_by != ActorType.SYSTEM and instrument.created_at >= since:
            recent.append(words)
    return recent


def _placed_history(flow: OrderFlow, *, window_start) -> dict:
    """The customer's other placed orders, in one query: how many, their average amount in this currency,
    how many went to this flow's address, and how many were placed since `window_start`."""
    return (
        OrderFlow.objects.filter(customer_id=flow.customer_id, status=FlowStatus.PLACED)
        .exclude(pk=flow.pk)
        .aggregate(
            orders=Count("pk"),
            average=Avg("total_amount", filter=Q(currency=flow.currency)),
            to_address=Count("pk", filter=Q(shipping_address_id=flow.shipping_address_id)),
            recent=Count("pk", filter=Q(placed_at__gte=window_start)),
        )
    )


def risk_assess(*, flow: OrderFlow) -> RiskAssessment:
    amount = flow.total_amount or 0
    score = 0
    reasons: list[str] = []
    window_start = timezone.now() - timedelta(minutes=settings.ORDERING_RISK_VELOCITY_WINDOW_MINUTES)
    placed = _placed_history(flow, window_start=window_start)

    if not placed["orders"]:
        score += settings.ORDERING_RISK_FIRST_ORDER_POINTS
        reasons.append("first order")
        if amount > settings.ORDERING_RISK_FIRST_ORDER_AMOUNT:
            score += settings.ORDERING_RISK_AMOUNT_POINTS
            reasons.append(f"first order over {settings.ORDERING_RISK_FIRST_ORDER_AMOUNT} minor units")
    else:
        average = placed["average"]
        if average and amount > settings.ORDERING_RISK_AMOUNT_MULTIPLE * average:
            score += settings.ORDERING_RISK_AMOUNT_POINTS
            reasons.append(f"amount over {settings.ORDERING_RISK_AMOUNT_MULTIPLE}x the customer's average order")

    just_added = _recently_added(flow)
    if just_added:
        score += settings.ORDERING_RISK_RECENT_INSTRUMENT_POINTS
        reasons.append(
            f"{' and '.join(just_added)} added in the last {settings.ORDERING_RISK_RECENT_INSTRUMENT_HOURS} hours"
        )

    # A just-added address is new by definition; the signal above already scored it.
    if flow.shipping_address_id and "shipping address" not in just_added and not placed["to_address"]:
        score += settings.ORDERING_RISK_NEW_ADDRESS_POINTS
        reasons.append("address not used for an order before")

    recent = placed["recent"]
    if recent >= settings.ORDERING_RISK_VELOCITY_MAX_ORDERS:
        score += settings.ORDERING_RISK_VELOCITY_POINTS
        reasons.append(f"{recent} orders in the last {settings.ORDERING_RISK_VELOCITY_WINDOW_MINUTES} minutes")

    if score >= settings.ORDERING_RISK_REVIEW_SCORE:
        decision = REVIEW
    elif score >= settings.ORDERING_RISK_STEP_UP_SCORE:
        decision = STEP_UP
    else:
        decision = ALLOW
    return RiskAssessment(decision, score, reasons, settings.ORDERING_RISK_POLICY_VERSION)
