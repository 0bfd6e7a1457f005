"""Which rollout phase is current, and which arm of the experiment a customer is in.

A customer's bucket is a hash of the experiment name and their id (0-9999): stable across processes,
restarts and phases, and independent between experiments. The arm follows from the phase:

- phase 0 (internal): staff get the assistant, everyone else the traditional checkout;
- phase 1 (beta): staff and the first `beta_percent` % of buckets get the assistant;
- phase 2 (A/B): the first `assistant_percent` % of buckets get the assistant, the rest are the control
  arm (staff keep the assistant and are not counted in the experiment's report);
- phase 3 (everyone): everyone gets the assistant.

The settings row is read at most every `ORDERING_ROLLOUT_CACHE_SECONDS` per process (the kill switch's
reaction time); `rollout_settings_forget()` drops the cached copy (the services call it after a change).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from ordering.models import RolloutArm, RolloutPhase, RolloutSettings

BUCKETS = 10_000


@dataclass(frozen=True)
class RolloutState:
    """The operator's settings as this process last read them."""

    phase: int
    beta_percent: int
    assistant_percent: int
    kill_switch: bool
    kill_switch_reason: str


@dataclass(frozen=True)
class Assignment:
    experiment: str
    phase: int
    arm: str
    bucket: int
    # Staff in a phase where everyone else may be in the control arm: excluded from the report.
    internal: bool = False

    @property
    def assistant(self) -> bool:
        return self.arm == RolloutArm.ASSISTANT


_lock = threading.Lock()
_cached: tuple[float, RolloutState] | None = None


def _default_state() -> RolloutState:
    defaults = {f.name: f.default for f in RolloutSettings._meta.get_fields() if hasattr(f, "default")}
    return RolloutState(
        phase=settings.ORDERING_ROLLOUT_DEFAULT_PHASE,
        beta_percent=defaults["beta_percent"],
        assistant_percent=defaults["assistant_percent"],
        kill_switch=False,
        kill_switch_reason="",
    )


def state_from_row(row: RolloutSettings | None) -> RolloutState:
    if row is None:
        return _default_state()
    return RolloutState(
        phase=row.phase,
        beta_percent=row.beta_percent,
        assistant_percent=row.assistant_percent,
        kill_switch=row.kill_switch,
        kill_switch_reason=row.kill_switch_reason,
    )


def rollout_state() -> RolloutState:
    """The current settings, from this process' copy if it is younger than ORDERING_ROLLOUT_CACHE_SECONDS."""
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[0] < settings.ORDERING_ROLLOUT_CACHE_SECONDS:
        return cached[1]
    state = state_from_row(RolloutSettings.objects.filter(pk=1).first())
    with _lock:
        _cached = (now, state)
    return state


def rollout_settings_forget() -> None:
    """Drop this process' copy: the next read goes to the database."""
    global _cached
    with _lock:
        _cached = None


def bucket(*, customer_id: Any, experiment: str | None = None) -> int:
    name = experiment or settings.ORDERING_ROLLOUT_EXPERIMENT
    digest = hashlib.sha256(f"{name}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign(*, customer_id: Any, is_staff: bool = False, state: RolloutState | None = None) -> Assignment:
    """The customer's phase and arm now (see the module docstring)."""
    state = state or rollout_state()
    experiment = settings.ORDERING_ROLLOUT_EXPERIMENT
    slot = bucket(customer_id=customer_id, experiment=experiment)
    phase = state.phase
    if phase >= RolloutPhase.EVERYONE:
        arm = RolloutArm.ASSISTANT
    elif is_staff:
        return Assignment(experiment, phase, RolloutArm.ASSISTANT, slot, internal=True)
    elif phase == RolloutPhase.INTERNAL:
        arm = RolloutArm.CONTROL
    else:
        percent = state.beta_percent if phase == RolloutPhase.BETA else state.assistant_percent
        arm = RolloutArm.ASSISTANT if slot < percent * BUCKETS // 100 else RolloutArm.CONTROL
    return Assignment(experiment, phase, str(arm), slot)


def assign_user(user: Any, *, state: RolloutState | None = None) -> Assignment:
    return assign(customer_id=user.pk, is_staff=bool(getattr(user, "is_staff", False)), state=state)
