"""A flow's `waiting_for` (#18): what a requires-action or escalated flow waits for, out of `failure_code`.

Until now the saga wrote the wait into `failure_code` (`step_up_required`, `payment_verification`,
`risk_review`) and code branched on those values. The data step moves them: a waiting flow gets its
`waiting_for`, and `failure_code` keeps only real failures (an escalated flow whose undo failed keeps
the failure that started the undo; one whose outcome could not be recorded keeps `internal_error`).
Backwards, the codes go back where they were.
"""

from django.db import migrations, models
from django.db.models import Q

# failure_code (as the saga wrote it) -> waiting_for, for the flows still waiting.
WAITS = {
    ("requires_action", "step_up_required"): "step_up",
    ("requires_action", "payment_verification"): "payment_verification",
    ("escalated", "risk_review"): "risk_review",
}


def forwards(apps, schema_editor):
    OrderFlow = apps.get_model("ordering", "OrderFlow")
    for (status, code), waiting_for in WAITS.items():
        OrderFlow.objects.filter(status=status, failure_code=code).update(waiting_for=waiting_for, failure_code="")
    # Everything else stopped in these statuses waits for a specialist (failed undo, unrecorded outcome).
    OrderFlow.objects.filter(status__in=("requires_action", "escalated"), waiting_for="").update(
        waiting_for="specialist"
    )


def backwards(apps, schema_editor):
    OrderFlow = apps.get_model("ordering", "OrderFlow")
    for (status, code), waiting_for in WAITS.items():
        OrderFlow.objects.filter(status=status, waiting_for=waiting_for).update(failure_code=code)
    OrderFlow.objects.exclude(waiting_for="").update(waiting_for="")


class Migration(migrations.Migration):
    dependencies = [
        ("ordering", "0014_rollout_gates"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderflow",
            name="waiting_for",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Nothing"),
                    ("step_up", "The customer's step-up code"),
                    ("risk_review", "A specialist's risk decision"),
                    ("payment_verification", "The payment's verification"),
                    ("specialist", "A specialist to repair it"),
                ],
                default="",
                max_length=32,
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddConstraint(
            model_name="orderflow",
            constraint=models.CheckConstraint(
                condition=Q(waiting_for="") | Q(status__in=("requires_action", "escalated")),
                name="ordering_only_a_stopped_flow_waits",
            ),
        ),
    ]
