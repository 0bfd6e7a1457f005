"""Stable cohort bucketing and the arm each phase gives (ordering.rollout.assignment)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ordering.models import RolloutArm, RolloutSettings
from ordering.rollout.assignment import (
    RolloutState,
    assign,
    bucket,
    rollout_settings_forget,
    rollout_state,
)


def _state(phase: int, *, beta: int = 5, assistant: int = 50) -> RolloutState:
    return RolloutState(
        phase=phase, beta_percent=beta, assistant_percent=assistant, kill_switch=False, kill_switch_reason=""
    )


def test_a_customers_bucket_is_the_same_in_another_process_and_differs_between_experiments() -> None:
    here = [bucket(customer_id=n, experiment="exp-a") for n in range(1, 6)]
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup(); "
        "from ordering.rollout.assignment import bucket; "
        "print([bucket(customer_id=n, experiment='exp-a') for n in range(1, 6)])"
    )
    there = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert there == str(here)
    other = [bucket(customer_id=n, experiment="exp-b") for n in range(1, 6)]
    assert other != here
    assert all(0 <= b < 10_000 for b in here + other)


def test_phase_two_splits_customers_close_to_the_configured_share() -> None:
    state = _state(2, assistant=30)
    arms = [assign(customer_id=n, state=state).arm for n in range(1, 5001)]
    share = arms.count(RolloutArm.ASSISTANT) / len(arms)
    assert 0.27 < share < 0.33
    # Raising the share keeps everyone who had the assistant in the assistant arm (buckets are fixed).
    wider = _state(2, assistant=60)
    for n in range(1, 500):
        if assign(customer_id=n, state=state).assistant:
            assert assign(customer_id=n, state=wider).assistant


@pytest.mark.parametrize(
    ("phase", "is_staff", "expected_arm", "internal"),
    [
        (0, True, "assistant", True),
        (0, False, "control", False),
        (1, True, "assistant", True),
        (3, False, "assistant", False),
        (3, True, "assistant", False),
    ],
)
def test_the_arm_each_phase_gives(phase: int, is_staff: bool, expected_arm: str, internal: bool) -> None:
    assignment = assign(customer_id=42, is_staff=is_staff, state=_state(phase))
    assert (assignment.arm, assignment.internal, assignment.phase) == (expected_arm, internal, phase)


def test_phase_one_gives_the_assistant_to_the_beta_share_only() -> None:
    none = [assign(customer_id=n, state=_state(1, beta=0)).arm for n in range(1, 300)]
    assert set(none) == {"control"}
    all_ = [assign(customer_id=n, state=_state(1, beta=100)).arm for n in range(1, 300)]
    assert set(all_) == {"assistant"}


@pytest.mark.django_db
def test_the_settings_row_is_read_and_cached_until_forgotten(settings, django_assert_num_queries) -> None:
    settings.ORDERING_ROLLOUT_CACHE_SECONDS = 3600
    settings.ORDERING_ROLLOUT_DEFAULT_PHASE = 3
    rollout_settings_forget()
    assert rollout_state().phase == 3  # no row: the default
    RolloutSettings.objects.create(phase=2, assistant_percent=10)
    with django_assert_num_queries(0):
        assert rollout_state().phase == 3  # this process' copy
    rollout_settings_forget()
    state = rollout_state()
    assert (state.phase, state.assistant_percent) == (2, 10)
    rollout_settings_forget()
