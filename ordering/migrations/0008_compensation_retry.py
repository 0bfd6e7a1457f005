"""Undo steps keep trying until a deadline (retry_at, failing_since) and give up explicitly (gave_up_at).

Undo steps that had already failed on a flow now escalated were given to a person under the old rule
(the attempts limit): they are marked as given up, so the sweeper leaves them to that person. Any other
failed undo step is due at once and counts its deadline from its next failure.
"""

from django.db import migrations, models
from django.db.models.functions import Now


def mark_escalated_undo_as_given_up(apps, schema_editor):
    FlowCompensation = apps.get_model("ordering", "FlowCompensation")
    FlowCompensation.objects.filter(status="failed", flow__status="escalated").update(gave_up_at=Now())


class Migration(migrations.Migration):
    dependencies = [
        ("ordering", "0007_turn_queued"),
    ]

    operations = [
        migrations.AddField(
            model_name="flowcompensation",
            name="failing_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="flowcompensation",
            name="gave_up_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="flowcompensation",
            name="retry_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(mark_escalated_undo_as_given_up, migrations.RunPython.noop),
    ]
