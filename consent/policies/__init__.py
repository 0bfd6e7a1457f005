"""Policy as code: the spend, risk and eligibility rules the assistant consults, from versioned files.

Read the rules in force with `active_policy()` (a frozen `Policy`; no database query). The file format is in
`schema`, the process-level cache in `active`, activation in `services`. docs/operations.md, "Policies".
"""

from consent.policies.active import active_policy, policy_cache_reset, policy_load, policy_versions
from consent.policies.schema import (
    EligibilityPolicy,
    Policy,
    PolicyError,
    PolicyInvalid,
    PolicyNotFound,
    RiskPolicy,
    SpendPolicy,
)

__all__ = [
    "EligibilityPolicy",
    "Policy",
    "PolicyError",
    "PolicyInvalid",
    "PolicyNotFound",
    "RiskPolicy",
    "SpendPolicy",
    "active_policy",
    "policy_cache_reset",
    "policy_load",
    "policy_versions",
]
