"""Sealing becomes asynchronous: events are written unsealed, their places in the chain are `AuditSeal` rows.

Existing events keep their chain: each gets a seal at position = its sequence with its stored
previous hash and hash (the hash formula gives the same value when position = sequence), so
`audit_verify` and the exported heads still match. Events keep their numbers; new numbers come from
a database sequence on PostgreSQL. One way only: the hashes now live in the seals.
"""

import django.db.models.deletion
from django.db import migrations, models

import audit.models
from audit import triggers


def lift_triggers(apps, schema_editor):
    triggers.uninstall(schema_editor.connection)


def restore_triggers(apps, schema_editor):
    triggers.install(schema_editor.connection)


def number_existing_transactions(apps, schema_editor):
    # On SQLite an event's "transaction" is its own number (writers are serialized); on PostgreSQL
    # 0 puts every existing event below the sealer's first horizon, as they are all sealed below.
    value = "sequence" if schema_editor.connection.vendor == "sqlite" else "0"
    schema_editor.execute(f"UPDATE audit_auditevent SET xact = {value}")


def seal_existing_events(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        horizon = "(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"
    else:
        horizon = "(SELECT COALESCE(MAX(sequence), 0) + 1 FROM audit_auditevent)"
    schema_editor.execute(
        "INSERT INTO audit_auditseal (position, event_id, previous_hash, hash, horizon, sealed_at) "
        f"SELECT sequence, id, previous_hash, hash, {horizon}, occurred_at FROM audit_auditevent"
    )


def create_event_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Owned by the column, so `db_grant_app_role` finds it and grants the app role USAGE on it.
    schema_editor.execute("CREATE SEQUENCE audit_auditevent_sequence_seq OWNED BY audit_auditevent.sequence")
    schema_editor.execute(
        "SELECT setval('audit_auditevent_sequence_seq', "
        "COALESCE((SELECT MAX(sequence) FROM audit_auditevent), 0) + 1, false)"
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        migrations.RunPython(lift_triggers, elidable=False),
        migrations.AddField(
            model_name="auditevent",
            name="xact",
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(number_existing_transactions, elidable=False),
        migrations.CreateModel(
            name="AuditSeal",
            fields=[
                ("position", models.PositiveBigIntegerField(editable=False, primary_key=True, serialize=False)),
                ("previous_hash", models.CharField(editable=False, max_length=64)),
                ("hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("horizon", models.BigIntegerField(editable=False)),
                ("sealed_at", models.DateTimeField(editable=False)),
                (
                    "event",
                    models.OneToOneField(
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="seal",
                        to="audit.auditevent",
                    ),
                ),
            ],
            options={"ordering": ["-position"]},
        ),
        migrations.RunPython(seal_existing_events, elidable=False),
        migrations.RemoveField(model_name="auditevent", name="previous_hash"),
        migrations.RemoveField(model_name="auditevent", name="hash"),
        migrations.RunPython(create_event_sequence, elidable=False),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(
                db_default=audit.models.NextEventSequence(), editable=False, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="xact",
            field=models.BigIntegerField(db_default=audit.models.CurrentTransaction(), db_index=True, editable=False),
        ),
        migrations.RunPython(restore_triggers, elidable=False),
    ]
