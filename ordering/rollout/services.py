"""Operators' changes to the rollout: the phase, the shares, the limits and gates, the kill switch (writes).

Every change locks the one settings row, writes the audit event (from -> to, who, why) in the same
transaction and drops this process' cached copy (other processes re-read within
ORDERING_ROLLOUT_CACHE_SECONDS). Advancing the phase needs the current phase's gates met
(ordering.rollout.gates) and goes one phase at a time; an operator may force it with a reason, and the
audit event says it was forced and which gates were not met. Going back a phase is never gated.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from audit.models import ActorType, Outcome
from audit.services import Origin, audit_record
from ordering.errors import OrderingError
from ordering.models import RolloutPhase, RolloutSettings
from ordering.rollout.assignment import rollout_settings_forget
from ordering.rollout.gates import STATUS_TEXT, gates_evaluate, gates_met

# What an operator may change in the settings form (the kill switch has its own action).
EDITABLE = (
    "phase",
    "beta_percent",
    "assistant_percent",
    "beta_session_ceiling",
    "gate_window_hours",
    "gate_min_flows",
    "gate_ocr_floor_percent",
    "gate_payment_p95_ms",
    "gate_escalation_percent",
)
PERCENTS = ("beta_percent", "assistant_percent", "gate_ocr_floor_percent", "gate_escalation_percent")


class RolloutChangeRefused(OrderingError):
    """An operator's change the rules refuse (a value out of range, gates not met, a force without reason)."""

    code = "rollout_change_refused"
    http_status = 400


def rollout_settings_row(*, lock: bool = False) -> RolloutSettings:
    """The one settings row, created with the defaults (ORDERING_ROLLOUT_DEFAULT_PHASE) on first use."""
    manager = RolloutSettings.objects.select_for_update() if lock else RolloutSettings.objects
    row = manager.filter(pk=1).first()
    if row is None:
        RolloutSettings.objects.get_or_create(pk=1, defaults={"phase": settings.ORDERING_ROLLOUT_DEFAULT_PHASE})
        row = manager.get(pk=1)
    return row


def rollout_values_check(values: dict[str, Any]) -> dict[str, str]:
    """Field -> what is wrong with it, for values an operator entered (empty when all are fine)."""
    problems: dict[str, str] = {}
    for name in PERCENTS:
        if name in values and not 0 <= int(values[name]) <= 100:
            problems[name] = "A percentage is a whole number from 0 to 100."
    if "phase" in values and int(values["phase"]) not in RolloutPhase.values:
        problems["phase"] = "The phase is 0, 1, 2 or 3."
    if "gate_window_hours" in values and not 1 <= int(values["gate_window_hours"]) <= 24 * 28:
        problems["gate_window_hours"] = "The gates' window is 1 hour to 4 weeks (672 hours)."
    if "gate_min_flows" in values and int(values["gate_min_flows"]) < 1:
        problems["gate_min_flows"] = "At least one flow is needed to judge a gate."
    for name in ("beta_session_ceiling", "gate_payment_p95_ms"):
        if name in values and int(values[name]) < 0:
            problems[name] = "This cannot be negative."
    return problems


def rollout_settings_update(
    *,
    staff_id: int,
    staff_name: str,
    changes: dict[str, Any],
    force: bool = False,
    reason: str = "",
    origin: Origin | None = None,
) -> RolloutSettings:
    """Apply an operator's changes (only EDITABLE fields), audited; refuses what the rules do not allow."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise RolloutChangeRefused(f"These settings cannot be changed here: {', '.join(sorted(unknown))}.")
    problems = rollout_values_check(changes)
    if problems:
        raise RolloutChangeRefused(" ".join(problems.values()), fields=problems)
    reason = reason.strip()
    with transaction.atomic():
        row = rollout_settings_row(lock=True)
        diff = {name: {"from": getattr(row, name), "to": int(value)} for name, value in changes.items()
                if getattr(row, name) != int(value)}  # fmt: skip
        if not diff:
            return row
        gate_summary: list[dict] | None = None
        forced = False
        if "phase" in diff and diff["phase"]["to"] > diff["phase"]["from"]:
            gates = gates_evaluate(row=row)  # the current phase's, with its window and thresholds as they stand
            gate_summary = [gate.as_dict() for gate in gates]
            skipping = diff["phase"]["to"] > diff["phase"]["from"] + 1
            if not gates_met(gates) or skipping:
                if not force:
                    unmet = [
                        f"{gate.label}: {STATUS_TEXT[gate.status]} ({gate.detail})" for gate in gates if not gate.met
                    ]
                    why = "; ".join(unmet) if unmet else "phases advance one at a time"
                    raise RolloutChangeRefused(
                        f"Phase {diff['phase']['from']} cannot be advanced to {diff['phase']['to']} yet: {why}. "
                        "An operator may force it, with a reason.",
                        fields={"phase": why},
                    )
                if not reason:
                    raise RolloutChangeRefused(
                        "Forcing a phase past its gates needs a reason (it is kept in the audit log).",
                        fields={"reason": "Say why the gates are overridden."},
                    )
                forced = True
        for name, change in diff.items():
            setattr(row, name, change["to"])
        row.updated_by = staff_name[:150]
        row.save(update_fields=[*diff, "updated_by", "updated_at"])
        audit_record(
            action="rollout.settings_changed",
            actor_type=ActorType.STAFF,
            actor_id=staff_id,
            target_type="rollout_settings",
            target_id=row.pk,
            origin=origin,
            data={
                "changes": diff,
                "by": staff_name,
                "forced": forced,
                "reason": reason,
                **({"gates": gate_summary} if gate_summary is not None else {}),
            },
        )
        transaction.on_commit(rollout_settings_forget)
    rollout_settings_forget()
    return row


def kill_switch_set(
    *,
    on: bool,
    reason: str,
    actor_type: ActorType | str,
    actor_id: int | str | None,
    actor_name: str,
    origin: Origin | None = None,
) -> RolloutSettings:
    """Stop (on) or let again (off) the assistant take new orders, audited; turning it on needs a reason.

    Takes effect in this process at once and in every other within ORDERING_ROLLOUT_CACHE_SECONDS: new
    previews and confirmations are refused (`assistant_paused`); flows already confirmed or placing finish."""
    reason = reason.strip()
    if on and not reason:
        raise RolloutChangeRefused("Say why the assistant is being stopped (it is kept in the audit log).")
    with transaction.atomic():
        row = rollout_settings_row(lock=True)
        was = row.kill_switch
        row.kill_switch = on
        row.kill_switch_reason = reason[:255] if on else ""
        row.updated_by = actor_name[:150]
        row.save(update_fields=["kill_switch", "kill_switch_reason", "updated_by", "updated_at"])
        audit_record(
            action="rollout.kill_switch_on" if on else "rollout.kill_switch_off",
            actor_type=actor_type,
            actor_id=actor_id,
            target_type="rollout_settings",
            target_id=row.pk,
            outcome=Outcome.OK,
            origin=origin,
            data={"from": was, "to": on, "by": actor_name, "reason": reason},
        )
        transaction.on_commit(rollout_settings_forget)
    rollout_settings_forget()
    return row
