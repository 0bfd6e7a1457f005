"""Append-only, hash-chained audit log: models.

Events are written only by `audit.services.audit_record`, seals only by `audit.services.audit_seal`.
The database itself refuses UPDATE, DELETE and TRUNCATE on both tables (triggers, audit/triggers.py),
so not even a bug or a shell can rewrite history; in production the app's role holds only SELECT and
INSERT here and cannot lift the triggers (audit/roles.py). `manage.py audit_verify` proves the hash
chain unbroken, and with `--anchors` that it still ends in the heads exported out of the database's reach.

An event is written unsealed (no lock, no read) in the caller's transaction; the sealer later gives
it its place in the chain by inserting its `AuditSeal`. Events are never changed. Inside a transaction
on PostgreSQL, `audit_record` buffers the event and writes it, with the others buffered, as one INSERT
just before the transaction's next query of the audit tables, savepoint boundary or commit (audit/services.py);
until then the event's `id`, `sequence` and `xact` are not set, and reading one of them writes it.
"""

from django.db import models
from django.db.models import Func
from django.db.models.query_utils import DeferredAttribute


class NextEventSequence(Func):
    """The database default of `AuditEvent.sequence` on PostgreSQL: the next value of its own sequence.

    SQLite has no sequences; there `audit_record` passes the number itself (SQLite serializes writers).
    """

    template = "nextval('audit_auditevent_sequence_seq')"
    arity = 0
    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return "NULL", []


class CurrentTransaction(Func):
    """The database default of `AuditEvent.xact` on PostgreSQL: the inserting transaction's id (64-bit)."""

    template = "(pg_current_xact_id()::text)::bigint"
    arity = 0
    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return "NULL", []


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
    # The event's number, taken when it is written: unique and increasing, what pages and timelines
    # sort by. It may skip values (a rolled-back write uses one up), and a lower number may commit
    # after a higher one; the event's place in the hash chain is its seal's `position`.
    sequence = models.PositiveBigIntegerField(unique=True, editable=False, db_default=NextEventSequence())
    # The writing transaction (PostgreSQL's 64-bit xid; on SQLite the sequence): tells the sealer
    # which events may still be in flight.
    xact = models.BigIntegerField(db_index=True, editable=False, db_default=CurrentTransaction())
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

    class Meta:
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["customer_id", "-sequence"], name="audit_customer_recent"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]
        permissions = [("export_auditevent", "Can export audit events")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.outcome}"


class _WrittenWhenRead(DeferredAttribute):
    """The descriptor of the columns the database fills in at INSERT (`id`, `sequence`, `xact`).

    An event still buffered in its transaction has none of them in its `__dict__` and holds the
    connection in `_audit_pending`: reading one writes the buffered events first (the same INSERT the
    next query would have sent) and then returns the value; read from another thread, it is None until
    the event's own transaction writes it. Every other instance behaves as Django's own
    descriptor does (an instance's `__dict__` wins over this non-data descriptor, so reads cost nothing).
    """

    def __get__(self, instance, cls=None):
        if instance is not None and self.field.attname not in instance.__dict__:
            pending = instance.__dict__.get("_audit_pending")
            if pending is not None:
                from audit.services import audit_pending_flush  # here: audit.services imports this module

                audit_pending_flush(pending)
                if self.field.attname not in instance.__dict__:
                    return None  # read from another thread than its transaction's: not written yet
        return super().__get__(instance, cls)


for _name in ("id", "sequence", "xact"):
    setattr(AuditEvent, _name, _WrittenWhenRead(AuditEvent._meta.get_field(_name)))


class AuditSeal(models.Model):
    """An event's place in the hash chain: position 1, 2, 3 … without gaps, in the order it was sealed.

    `hash` is SHA-256 over the event's canonical content, its position and `previous_hash` (the hash
    of the seal at position - 1; 64 zeros for the first). Seals are inserted by the sealer, one batch
    per lock, and never changed; each event has at most one.
    """

    position = models.PositiveBigIntegerField(primary_key=True, editable=False)
    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="seal", editable=False)
    previous_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)
    # Bookkeeping, not hashed: every event written by a transaction below this id is sealed (the
    # sealer scans from here next time). Only the newest seal's horizon is read.
    horizon = models.BigIntegerField(editable=False)
    sealed_at = models.DateTimeField(editable=False)

    class Meta:
        ordering = ["-position"]

    def __str__(self) -> str:
        return f"#{self.position} {self.hash[:12]}"
