"""Append-only, hash-chained audit log: models.

Rows are written only by `audit.services.audit_record`. The database itself refuses UPDATE, DELETE
and TRUNCATE on the table (triggers installed by migration 0002), so not even a bug or a shell can
rewrite history; in production the app's role holds only SELECT and INSERT here and cannot lift the
triggers (audit/roles.py). `manage.py audit_verify` proves the hash chain unbroken, and with
`--anchors` that it still ends in the heads exported out of the database's reach.
"""

from django.db import models


class ActorType(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent"
    STAFF = "staff", "Staff"
    SYSTEM = "system", "System"


class Outcome(models.TextChoices):
    OK = "ok", "OK"
    DENIED = "denied", "Denied"
    FAILED = "failed", "Failed"


class AuditEvent(models.Model):
    # The chain position: dense, gap-free, assigned under the writers' lock (not the primary key,
    # whose sequence may skip values after a rolled-back insert).
    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True, editable=False)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices, editable=False)
    actor_id = models.CharField(max_length=64, blank=True, editable=False)
    # The customer the event concerns (who did it may be the agent or staff): their activity log.
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    action = models.CharField(max_length=100, db_index=True, editable=False)
    target_type = models.CharField(max_length=64, blank=True, editable=False)
    target_id = models.CharField(max_length=64, blank=True, editable=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.OK, editable=False)
    trace_id = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    origin_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    origin_user_agent = models.CharField(max_length=256, blank=True, editable=False)
    origin_channel = models.CharField(max_length=32, blank=True, editable=False)
    # NULL, not "", when no policy decided the event (the issue asks for a nullable version).
    policy_version = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    data = models.JSONField(default=dict, blank=True, editable=False)
    previous_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["customer_id", "-sequence"], name="audit_customer_recent"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]
        permissions = [("export_auditevent", "Can export audit events")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.outcome}"
