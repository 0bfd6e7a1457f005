"""`manage.py check --deploy --database default`: warn when the app's database role could lift the audit triggers."""

from __future__ import annotations

from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning

from audit.triggers import TABLE


@register(Tags.database, deploy=True)
def check_app_role_cannot_lift_audit_triggers(app_configs=None, databases=None, **kwargs) -> list[CheckMessage]:
    # Database checks run only when asked for (--database); migrate, which runs as the owner, never asks.
    from django.db import connections

    messages: list[CheckMessage] = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT current_user, rolsuper,
                       coalesce((SELECT pg_has_role(current_user, relowner, 'MEMBER')
                                 FROM pg_class WHERE oid = to_regclass(%s)), false)
                FROM pg_roles WHERE rolname = current_user
                """,
                [TABLE],
            )
            role, superuser, owner = cursor.fetchone()
        if superuser or owner:
            messages.append(
                CheckWarning(
                    f"The database role {role!r} ({'a superuser' if superuser else f'owner of {TABLE}'}) can "
                    "disable the audit log's triggers and rewrite its history.",
                    hint="Run the web and worker processes as a least-privilege app role: "
                    "see docs/security/database-roles.md (manage.py db_grant_app_role).",
                    id="audit.W001",
                )
            )
    return messages
