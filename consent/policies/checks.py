"""System checks: the process refuses to start (`manage.py check`, `runserver`, `migrate`) on a broken policy."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Error as CheckError
from django.core.checks import Warning as CheckWarning

from consent.policies.active import legacy_overrides, legacy_setting_name, policy_load, policy_versions
from consent.policies.schema import PolicyError


def _unusable(version: str, error: PolicyError, *, why: str, id: str) -> CheckError:
    return CheckError(
        f"Policy {version} ({why}) cannot be used: {error.message}",
        hint="Fix the file (manage.py policy_check <file> lists every problem) or point ORDERING_POLICY_VERSION "
        "at a valid version. docs/operations.md, 'Policies'.",
        id=id,
    )


@register()
def check_policies(app_configs=None, **kwargs) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    default = settings.ORDERING_POLICY_VERSION
    try:
        policy_load(default)
    except PolicyError as error:
        messages.append(_unusable(default, error, why="ORDERING_POLICY_VERSION, in force when none is activated",
                                  id="consent.E010"))  # fmt: skip
    # Any version may be activated at any time: a broken file in the directory is a broken deploy.
    for version in policy_versions():
        if version == default:
            continue
        try:
            policy_load(version)
        except PolicyError as error:
            messages.append(_unusable(version, error, why=f"in {settings.ORDERING_POLICY_DIR}", id="consent.E011"))
    for path, value in legacy_overrides().items():
        messages.append(
            CheckWarning(
                f"{legacy_setting_name(path)}={value} overrides {path} of every policy version.",
                hint="Put the value in a new policy version and activate it, then unset the setting "
                "(docs/operations.md, 'Policies').",
                id="consent.W010",
            )
        )
    return messages


@register(Tags.database)
def check_active_policy(app_configs=None, databases=None, **kwargs) -> list[CheckMessage]:
    """With `--database default`: the version activated in the database has a valid file here."""
    if not databases:
        return []
    from django.db import DatabaseError

    from consent.policies.services import policy_active_version

    try:
        version = policy_active_version()
    except DatabaseError:  # not migrated yet: nothing was activated
        return []
    try:
        policy_load(version)
    except PolicyError as error:
        return [_unusable(version, error, why="activated in the database", id="consent.E012")]
    return []
