from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _grant_app_role(sender: AppConfig, using: str, **kwargs) -> None:
    # After every migrate run as the owner, so that tables added by new migrations get their grants.
    from django.conf import settings
    from django.db import connections

    from audit.roles import app_role_grant

    role = getattr(settings, "DATABASE_APP_ROLE", "")
    if role and connections[using].vendor == "postgresql":
        app_role_grant(role=role, connection=connections[using])


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from audit import (
            checks,  # noqa: F401 - registers the deploy check
            identity,
        )
        from config.admin import staff_console

        post_migrate.connect(_grant_app_role, sender=self, dispatch_uid="audit.grant_app_role")
        identity.connect()
        # Account changes made through any console page are audited as that staff member's.
        staff_console().register_view_context(name="audit.acting_in_admin", context=identity.acting_in_admin)
