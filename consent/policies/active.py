"""The policy in force in this process: `active_policy()`, cheap enough for every turn.

Which version is active is recorded in the database (consent.PolicyActivation) and published to the shared
cache (Redis, or the file cache of `make run`) under STAMP_KEY when it changes, and by a beat task every
ORDERING_POLICY_PUBLISH_SECONDS. A process keeps the parsed policy in memory and reads the stamp at most every
ORDERING_POLICY_REFRESH_SECONDS: the hot path never queries the database (the turn query budgets hold), and a
new activation reaches every process within that delay. A stamp missing from the cache means "no news": the
process keeps what it has (a fresh process starts with ORDERING_POLICY_VERSION) until the beat publishes again.

Legacy settings: ORDERING_RISK_*, CONSENT_CAP_CEILINGS, CONSENT_AUTO_CHECKOUT_CEILING and
CONSENT_STEPUP_WINDOW_MINUTES predate policy files. One set to anything but its built-in default still wins over
the policy for that key (deployments that tuned them keep their numbers), the policy's `overrides` names it,
and `manage.py check` warns until it is moved into a policy file.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

from consent.policies.schema import Policy, PolicyError, PolicyNotFound, policy_read_file

logger = logging.getLogger(__name__)

STAMP_KEY = "policy:active-version"

# The values the legacy settings have when nobody sets them (config/settings), which are the shipped
# policy's values: a setting still at its default overrides nothing.
BUILTIN_DEFAULTS: dict[str, int] = {
    "spend.per_order": 50_000,
    "spend.per_day": 100_000,
    "spend.per_month": 300_000,
    "spend.per_session": 50_000,
    "risk.first_order_points": 20,
    "risk.first_order_amount": 25_000,
    "risk.amount_multiple": 3,
    "risk.amount_points": 30,
    "risk.new_address_points": 15,
    "risk.velocity_window_minutes": 60,
    "risk.velocity_max_orders": 3,
    "risk.velocity_points": 40,
    "risk.recent_instrument_hours": 24,
    "risk.recent_instrument_points": 50,
    "risk.step_up_score": 50,
    "risk.review_score": 80,
    "eligibility.auto_checkout_ceiling": 5_000,
    "eligibility.step_up_window_minutes": 10,
}


def legacy_setting_name(path: str) -> str:
    section, key = path.split(".")
    if section == "spend":
        return f"CONSENT_CAP_CEILINGS[{key!r}]"
    if section == "risk":
        return f"ORDERING_RISK_{key.upper()}"
    return {"auto_checkout_ceiling": "CONSENT_AUTO_CHECKOUT_CEILING"}.get(key, "CONSENT_STEPUP_WINDOW_MINUTES")


def _legacy_value(path: str) -> object:
    section, key = path.split(".")
    if section == "spend":
        return (getattr(settings, "CONSENT_CAP_CEILINGS", None) or {}).get(key)
    return getattr(settings, legacy_setting_name(path), None)


def legacy_overrides() -> dict[str, int]:
    """`section.key` -> value, for each legacy setting set to something other than its built-in default."""
    found = {}
    for path, default in BUILTIN_DEFAULTS.items():
        value = _legacy_value(path)
        if value is not None and value != default:
            found[path] = int(value)
    return found


@dataclass
class _State:
    version: str
    policy: Policy
    checked_at: float


_lock = threading.Lock()
_state: _State | None = None
_with_overrides: tuple[Policy, tuple, Policy] | None = None  # (base, overrides, result) of the last call


def policy_directory() -> Path:
    return Path(settings.ORDERING_POLICY_DIR)


def policy_path(version: str) -> Path:
    return policy_directory() / f"{version}.toml"


def policy_load(version: str) -> Policy:
    """Version `version` from the policy directory, read and validated now (PolicyNotFound, PolicyInvalid)."""
    path = policy_path(version)
    if path.parent != policy_directory() or path.name.startswith("."):
        raise PolicyNotFound(f"{version!r} is not a policy version.")
    return policy_read_file(path)


def policy_versions() -> list[str]:
    """Every version in the policy directory (the file names), newest name last."""
    directory = policy_directory()
    if not directory.is_dir():
        return []
    return sorted(path.stem for path in directory.glob("*.toml") if not path.name.startswith("."))


def _published_version() -> str | None:
    try:
        value = cache.get(STAMP_KEY)
    except Exception:  # a cache outage must not stop a turn: keep the policy we have
        logger.warning("policy stamp unreadable; keeping the policy in memory", exc_info=True)
        return None
    return value if isinstance(value, str) and value else None


def _refresh(state: _State | None, now: float) -> _State:
    version = _published_version() or (state.version if state else settings.ORDERING_POLICY_VERSION)
    if state is not None and version == state.version:
        state.checked_at = now
        return state
    try:
        policy = policy_load(version)
    except PolicyError as error:
        # Activation validated this file; one missing or broken now (a bad deploy) must not stop orders:
        # keep the rules in force and say so loudly. `manage.py check` names the problem.
        if state is None and version != settings.ORDERING_POLICY_VERSION:
            logger.error("active policy %s unusable (%s); using %s", version, error, settings.ORDERING_POLICY_VERSION)
            state = _State(settings.ORDERING_POLICY_VERSION, policy_load(settings.ORDERING_POLICY_VERSION), now)
            return state
        if state is None:
            raise
        logger.error("policy %s unusable (%s); keeping %s", version, error, state.version)
        state.checked_at = now
        return state
    if state is not None:
        logger.info("policy version %s in force (was %s)", version, state.version)
    return _State(version, policy, now)


def active_policy() -> Policy:
    """The rules in force now in this process (a frozen Policy): `.version`, `.spend`, `.risk`, `.eligibility`.

    No database query; at most one cache read every ORDERING_POLICY_REFRESH_SECONDS. Legacy settings that
    override a key are applied, and listed in `.overrides`.
    """
    global _state, _with_overrides
    now = time.monotonic()
    state = _state
    if state is None or now - state.checked_at >= settings.ORDERING_POLICY_REFRESH_SECONDS:
        with _lock:
            state = _state
            if state is None or now - state.checked_at >= settings.ORDERING_POLICY_REFRESH_SECONDS:
                state = _state = _refresh(state, now)
    overrides = legacy_overrides()
    if not overrides:
        return state.policy
    key = tuple(sorted(overrides.items()))
    memo = _with_overrides
    if memo is not None and memo[0] is state.policy and memo[1] == key:
        return memo[2]
    result = _apply(state.policy, overrides)
    _with_overrides = (state.policy, key, result)
    return result


def _apply(policy: Policy, overrides: dict[str, int]) -> Policy:
    sections: dict[str, dict[str, int]] = {}
    for path, value in overrides.items():
        section, key = path.split(".")
        sections.setdefault(section, {})[key] = value
    changed = {name: replace(getattr(policy, name), **values) for name, values in sections.items()}
    names = tuple(f"{path}={value} ({legacy_setting_name(path)})" for path, value in sorted(overrides.items()))
    return replace(policy, **changed, overrides=names)


def policy_cache_reset() -> None:
    """Forget the policy in memory: the next `active_policy()` reads the stamp again (tests, settings changes)."""
    global _state, _with_overrides
    with _lock:
        _state = None
        _with_overrides = None


@receiver(setting_changed)
def _policy_settings_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("ORDERING_POLICY_"):
        policy_cache_reset()
