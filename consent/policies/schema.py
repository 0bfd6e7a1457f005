"""The policy file format: TOML, one file per version, validated whole before anything uses it.

A policy holds the rules the assistant consults: spend ceilings per cap kind, the risk rules' points and
thresholds, and eligibility (which orders may skip the confirm step, how long a step-up code is good for).
docs/operations.md ("Policies") documents every key. Parsing collects every problem in the file, so an
operator fixes them in one pass; each message names the key and says what is wanted.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class PolicyError(Exception):
    """A policy that cannot be used; `message` is for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PolicyNotFound(PolicyError):
    pass


class PolicyInvalid(PolicyError):
    """The file breaks the format; `errors` lists every problem (`key: what is wrong`)."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        super().__init__(f"{source} is not a valid policy: " + "; ".join(errors))


@dataclass(frozen=True)
class SpendPolicy:
    """The most any customer may allow per cap kind (minor units of CONSENT_CURRENCY)."""

    per_order: int
    per_day: int
    per_month: int
    per_session: int

    def as_dict(self) -> dict[str, int]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


@dataclass(frozen=True)
class RiskPolicy:
    first_order_points: int
    first_order_amount: int
    amount_multiple: int
    amount_points: int
    new_address_points: int
    velocity_window_minutes: int
    velocity_max_orders: int
    velocity_points: int
    recent_instrument_hours: int
    recent_instrument_points: int
    step_up_score: int
    review_score: int


@dataclass(frozen=True)
class EligibilityPolicy:
    auto_checkout_ceiling: int
    step_up_window_minutes: int


@dataclass(frozen=True)
class Policy:
    """One version of the rules. `overrides` names the legacy settings that replace some of its values in
    this process (see consent.policies.active); decisions list them beside the version."""

    version: str
    description: str
    spend: SpendPolicy
    risk: RiskPolicy
    eligibility: EligibilityPolicy
    sha256: str = ""
    overrides: tuple[str, ...] = ()


SECTIONS: dict[str, type] = {"spend": SpendPolicy, "risk": RiskPolicy, "eligibility": EligibilityPolicy}
# Keys that count time or orders must be at least 1 (a zero window or multiple would switch a rule off
# by accident); every other number is an amount or points, zero or more.
AT_LEAST_ONE = frozenset(
    {
        "risk.amount_multiple",
        "risk.velocity_window_minutes",
        "risk.velocity_max_orders",
        "risk.recent_instrument_hours",
        "eligibility.step_up_window_minutes",
    }
)
LARGEST = 10**12


def policy_parse(text: str, *, source: str = "policy", expected_version: str | None = None) -> Policy:
    """The policy in `text`, or PolicyInvalid listing every problem. `expected_version`: the file's name."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyInvalid(source, [f"not valid TOML ({error})"]) from None
    errors: list[str] = []
    unknown = sorted(set(document) - {"version", "description", *SECTIONS})
    known = "version, description, spend, risk, eligibility"
    errors.extend(f"{key}: unknown key (a policy has {known})" for key in unknown)

    version = document.get("version")
    if version is None:
        errors.append('version: missing (for example version = "2026-12-03")')
    elif not isinstance(version, str) or not VERSION_PATTERN.fullmatch(version):
        errors.append(f"version: {version!r} must be text of letters, digits, '.', '_' or '-' (at most 64)")
    elif expected_version is not None and version != expected_version:
        errors.append(f"version: {version!r} must match the file name ({expected_version}.toml)")
    description = document.get("description", "")
    if not isinstance(description, str):
        errors.append("description: must be text")

    sections = {}
    for name, kind in SECTIONS.items():
        table = document.get(name)
        if table is None:
            errors.append(f"[{name}]: missing section")
            continue
        if not isinstance(table, dict):
            errors.append(f"{name}: must be a section ([{name}]), not a value")
            continue
        wanted = [field.name for field in fields(kind)]
        errors.extend(
            f"{name}.{key}: unknown key (known: {', '.join(wanted)})" for key in sorted(set(table) - set(wanted))
        )
        values = {}
        for key in wanted:
            value = table.get(key)
            path = f"{name}.{key}"
            if value is None:
                errors.append(f"{path}: missing")
            elif isinstance(value, bool) or not isinstance(value, int):
                errors.append(f"{path}: must be a whole number, not {type(value).__name__} {value!r}")
            elif path in AT_LEAST_ONE and value < 1:
                errors.append(f"{path}: must be at least 1, not {value}")
            elif value < 0:
                errors.append(f"{path}: must be zero or more, not {value}")
            elif value > LARGEST:
                errors.append(f"{path}: {value} is beyond any sensible amount (at most {LARGEST})")
            else:
                values[key] = value
        if len(values) == len(wanted):
            sections[name] = kind(**values)

    risk = sections.get("risk")
    if risk is not None and risk.review_score < risk.step_up_score:
        errors.append(
            f"risk.review_score: {risk.review_score} is below risk.step_up_score {risk.step_up_score} "
            "(review is the stronger answer, so it needs the higher score)"
        )
    if errors:
        raise PolicyInvalid(source, errors)
    return Policy(
        version=version,
        description=description,
        spend=sections["spend"],
        risk=sections["risk"],
        eligibility=sections["eligibility"],
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def policy_read_file(path: Path | str, *, name_is_version: bool = True) -> Policy:
    """Load and validate one file. Files in the policy directory are named after their version."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyNotFound(f"There is no policy file {path}.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyInvalid(str(path), [f"cannot be read ({error})"]) from None
    return policy_parse(text, source=str(path), expected_version=path.stem if name_is_version else None)


def policy_summary(policy: Policy) -> list[str]:
    """The policy in a few lines, for `manage.py policy_check` and the admin."""
    spend, risk, eligibility = policy.spend, policy.risk, policy.eligibility
    return [
        f"version {policy.version}" + (f": {policy.description}" if policy.description else ""),
        "spend ceilings (minor units): " + ", ".join(f"{k} {v}" for k, v in spend.as_dict().items()),
        f"risk: step-up from {risk.step_up_score} points, review from {risk.review_score}; points: first order "
        f"{risk.first_order_points}, amount {risk.amount_points} (first order over {risk.first_order_amount}, or over "
        f"{risk.amount_multiple}x the average), new address {risk.new_address_points}, {risk.velocity_max_orders}+ "
        f"orders in {risk.velocity_window_minutes} min {risk.velocity_points}, card or address added in "
        f"{risk.recent_instrument_hours} h {risk.recent_instrument_points}",
        f"eligibility: auto-checkout under {eligibility.auto_checkout_ceiling}, step-up code good for "
        f"{eligibility.step_up_window_minutes} min",
        f"sha256 {policy.sha256}",
    ]
