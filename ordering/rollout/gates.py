"""Gates: whether the current rollout phase's SLOs held over the configured window (reads only).

A phase may be advanced (ordering.rollout.services) only when every gate of the current phase is met.
Each gate is computed from the database over the last `gate_window_hours` hours, for the flows started
in the current phase by customers in the assistant's arm (in phase 0 by staff, `internal`):

- `ocr`: order completion, placed flows / flows started, at least `gate_ocr_floor_percent` %;
- `ocr_vs_control` (phase 2 only): the assistant's order completion not below the control arm's checkout
  completion (the storefront's `order_placed` / `checkout_started` ExperimentEvents of phase 2);
- `payment_p95`: the p95 of the payment step (complete_checkout, succeeded attempts) at most
  `gate_payment_p95_ms` ms;
- `escalation_rate`: escalations opened for those conversations per 100 flows, at most
  `gate_escalation_percent`.

A gate with fewer than `gate_min_flows` flows (or control checkouts) in the window says `no_data`, which
does not count as met: a phase is not advanced on a handful of orders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from ordering.hooks import escalation_records
from ordering.models import (
    ARM_INTERNAL,
    Conversation,
    ExperimentChannel,
    ExperimentEvent,
    ExperimentEventKind,
    FlowStatus,
    FlowStep,
    OrderFlow,
    RolloutArm,
    RolloutPhase,
    RolloutSettings,
    StepStatus,
)

MET = "met"
NOT_MET = "not_met"
NO_DATA = "no_data"
STATUS_TEXT = {MET: "met", NOT_MET: "not met", NO_DATA: "not enough data"}

PAYMENT_STEP = "complete_checkout"


@dataclass(frozen=True)
class Gate:
    name: str
    label: str
    status: str
    value: float | None
    threshold: float
    detail: str

    @property
    def met(self) -> bool:
        return self.status == MET

    def as_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "value": self.value, "threshold": self.threshold,
                "detail": self.detail}  # fmt: skip


def _percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (p95: the smallest value at or above 95 % of the values)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def gates_evaluate(*, row: RolloutSettings, now: datetime | None = None) -> list[Gate]:
    """The gates of the phase `row` is in, over its window ending `now`."""
    now = now or timezone.now()
    since = now - timedelta(hours=row.gate_window_hours)
    phase = row.phase
    arms = [RolloutArm.ASSISTANT.value]
    if phase == RolloutPhase.INTERNAL:
        arms.append(ARM_INTERNAL)  # phase 0 is staff's
    flows = OrderFlow.objects.filter(
        rollout_phase=phase, rollout_arm__in=arms, created_at__gte=since, created_at__lt=now
    )
    started = flows.count()
    placed = flows.filter(status=FlowStatus.PLACED).count()
    enough = started >= row.gate_min_flows
    window = f"last {row.gate_window_hours} h"
    gates: list[Gate] = []

    ocr = 100 * placed / started if started else None
    floor = float(row.gate_ocr_floor_percent)
    if not enough:
        gates.append(Gate("ocr", "Order completion", NO_DATA, ocr, floor,
                          f"{started} flows in the {window}; {row.gate_min_flows} needed"))  # fmt: skip
    else:
        gates.append(Gate("ocr", "Order completion", MET if ocr >= floor else NOT_MET, ocr, floor,
                          f"{placed} placed of {started} flows ({ocr:.1f} %), floor {floor:.0f} %"))  # fmt: skip

    if phase == RolloutPhase.AB:
        events = ExperimentEvent.objects.filter(
            phase=phase,
            arm=RolloutArm.CONTROL,
            channel=ExperimentChannel.STOREFRONT,
            created_at__gte=since,
            created_at__lt=now,
        )
        checkouts = events.filter(kind=ExperimentEventKind.CHECKOUT_STARTED).count()
        orders = events.filter(kind=ExperimentEventKind.ORDER_PLACED).count()
        control = 100 * orders / checkouts if checkouts else None
        if not enough or checkouts < row.gate_min_flows:
            gates.append(Gate("ocr_vs_control", "Completion vs the control arm", NO_DATA, ocr, control or 0.0,
                              f"assistant {started} flows, control {checkouts} checkouts in the {window}; "
                              f"{row.gate_min_flows} each needed"))  # fmt: skip
        else:
            status = MET if ocr >= control else NOT_MET
            gates.append(Gate("ocr_vs_control", "Completion vs the control arm", status, ocr, control,
                              f"assistant {ocr:.1f} % ({placed}/{started}), control {control:.1f} % "
                              f"({orders}/{checkouts})"))  # fmt: skip

    limit_ms = float(row.gate_payment_p95_ms)
    durations = [
        (finished - started_at).total_seconds() * 1000
        for started_at, finished in FlowStep.objects.filter(
            flow__in=flows, name=PAYMENT_STEP, status=StepStatus.SUCCEEDED, finished_at__isnull=False
        ).values_list("started_at", "finished_at")
    ]
    if not enough or not durations:
        gates.append(Gate("payment_p95", "Payment p95", NO_DATA, None, limit_ms,
                          f"{len(durations)} payments in the {window}"))  # fmt: skip
    else:
        p95 = _percentile(durations, 0.95)
        gates.append(Gate("payment_p95", "Payment p95", MET if p95 <= limit_ms else NOT_MET, p95, limit_ms,
                          f"p95 {p95:.0f} ms over {len(durations)} payments, limit {limit_ms:.0f} ms"))  # fmt: skip

    escalations = escalation_records.get().escalations_opened_count(
        flows=flows,
        conversations=Conversation.objects.filter(rollout_phase=phase, rollout_arm__in=arms),
        since=since,
        until=now,
    )
    rate = 100 * escalations / started if started else None
    limit = float(row.gate_escalation_percent)
    if not enough:
        gates.append(Gate("escalation_rate", "Escalations per 100 flows", NO_DATA, rate, limit,
                          f"{started} flows in the {window}; {row.gate_min_flows} needed"))  # fmt: skip
    else:
        gates.append(Gate("escalation_rate", "Escalations per 100 flows", MET if rate <= limit else NOT_MET, rate,
                          limit, f"{escalations} escalations for {started} flows, limit {limit:.0f}"))  # fmt: skip
    return gates


def gates_met(gates: list[Gate]) -> bool:
    return bool(gates) and all(gate.met for gate in gates)
