"""The audit log (the audit app). See docs/audit.md and docs/security/database-roles.md."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_str

# Where `audit.export_head` appends the chain head ({sequence, hash, at}, one JSON line each run).
# Make it append-only for the app's user (`chattr +a`) or ship it to write-once storage; then
# `manage.py audit_verify --anchors <file>` proves the history was not re-chained or cut short.
# Empty: no export is scheduled.
AUDIT_HEAD_EXPORT_PATH = env_str("AUDIT_HEAD_EXPORT_PATH")
AUDIT_HEAD_EXPORT_EVERY_SECONDS = env_int("AUDIT_HEAD_EXPORT_EVERY_SECONDS", 300)
if AUDIT_HEAD_EXPORT_EVERY_SECONDS < 1:
    raise ImproperlyConfigured(f"AUDIT_HEAD_EXPORT_EVERY_SECONDS={AUDIT_HEAD_EXPORT_EVERY_SECONDS} must be at least 1.")

AUDIT_BEAT_SCHEDULE = (
    {
        "audit-export-head": {
            "task": "audit.export_head",
            "schedule": float(AUDIT_HEAD_EXPORT_EVERY_SECONDS),
        },
    }
    if AUDIT_HEAD_EXPORT_PATH
    else {}
)
