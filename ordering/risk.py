"""Risk scoring of a placement round: deterministic rules with thresholds from settings.

Signals: velocity (orders placed recently), the amount against the customer's history, a shipping
address never used for a placed order, and a first order. Points add up; the decision is allow,
step-up (a TOTP code within the last N minutes), or review by a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Avg
from django.utils import timezone

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


def risk_assess(*, flow: OrderFlow) -> RiskAssessment:
    placed = OrderFlow.objects.filter(customer_id=flow.customer_id, status=FlowStatus.PLACED).exclude(pk=flow.pk)
    amount = flow.total_amount or 0
    score = 0
    reasons: list[str] = []

    if not placed.exists():
        score += settings.ORDERING_RISK_FIRST_ORDER_POINTS
        reasons.append("first order")
        if amount > settings.ORDERING_RISK_FIRST_ORDER_AMOUNT:
            score += settings.ORDERING_RISK_AMOUNT_POINTS
            reasons.append(f"first order over {settings.ORDERING_RISK_FIRST_ORDER_AMOUNT} minor units")
    else:
        average = placed.filter(currency=flow.currency).aggregate(average=Avg("total_amount"))["average"]
        if average and amount > settings.ORDERING_RISK_AMOUNT_MULTIPLE * average:
            score += settings.ORDERING_RISK_AMOUNT_POINTS
            reasons.append(f"amount over {settings.ORDERING_RISK_AMOUNT_MULTIPLE}x the customer's average order")

    if flow.shipping_address_id and not placed.filter(shipping_address_id=flow.shipping_address_id).exists():
        score += settings.ORDERING_RISK_NEW_ADDRESS_POINTS
        reasons.append("address not used for an order before")

    window_start = timezone.now() - timedelta(minutes=settings.ORDERING_RISK_VELOCITY_WINDOW_MINUTES)
    recent = placed.filter(placed_at__gte=window_start).count()
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
