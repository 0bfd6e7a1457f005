"""The "support" group with the permissions to work the queue, and priorities and SLAs for older rows.

Permissions are normally created after all migrations (post_migrate); they are created here first so
the group can hold them. `escalations.staff.support_group_ensure` does the same at run time (a
test database flushed between tests, or a renamed group), with the same permission list.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_PERMISSIONS = [
    ("escalations", "view_escalation"),
    ("escalations", "work_escalation"),
    # The detail page links each escalation to the audit timeline of its trace.
    ("audit", "view_auditevent"),
]


def create_support_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=settings.ESCALATIONS_SUPPORT_GROUP)
    for app_label, codename in SUPPORT_PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def backfill_priority_and_sla(apps, schema_editor):
    Escalation = apps.get_model("escalations", "Escalation")
    for escalation in Escalation.objects.filter(sla_due_at__isnull=True):
        priority = settings.ESCALATIONS_REASON_PRIORITY.get(escalation.reason, "normal")
        escalation.priority = priority
        escalation.sla_due_at = escalation.created_at + timedelta(minutes=settings.ESCALATIONS_SLA_MINUTES[priority])
        escalation.save(update_fields=["priority", "sla_due_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0002_console"),
        ("audit", "0001_auditevent"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_support_group, migrations.RunPython.noop),
        migrations.RunPython(backfill_priority_and_sla, migrations.RunPython.noop),
    ]
