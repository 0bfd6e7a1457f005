"""The audit log (the audit app). See docs/audit.md and docs/security/database-roles.md."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str

# Where `audit.export_head` appends the chain head ({sequence, hash, at}, one JSON line each run).
# Make it append-only for the app's user (`chattr +a`) or ship it to write-once storage; then
# `manage.py audit_verify --anchors <file>` proves the history was not re-chained or cut short.
# Empty: no export is scheduled.
AUDIT_HEAD_EXPORT_PATH = env_str("AUDIT_HEAD_EXPORT_PATH")
AUDIT_HEAD_EXPORT_EVERY_SECONDS = env_int("AUDIT_HEAD_EXPORT_EVERY_SECONDS", 300)
if AUDIT_HEAD_EXPORT_EVERY_SECONDS < 1:
    raise ImproperlyConfigured(f"AUDIT_HEAD_EXPORT_EVERY_SECONDS={AUDIT_HEAD_EXPORT_EVERY_SECONDS} must be at least 1.")

# Events are written unsealed and sealed into the hash chain by the `audit.seal` task. After a commit
# with events a process enqueues it to run this many seconds later (at most one pending task per
# process: a burst of appends costs one seal); beat runs it every AUDIT_SEAL_EVERY_SECONDS in case a
# trigger was lost. AUDIT_SEAL_ON_COMMIT=0 leaves sealing to beat alone (and to audit_verify).
# One second, not less: every web and worker process that commits enqueues its own seal per delay window, so
# under chat load (row 6 of docs/performance.md, 12 such processes) 200 ms meant up to 60 seal tasks a second,
# each taking the chain lock for a handful of events; 1 s took about a third off the default worker's CPU per
# chat turn and a seventh off the turn worker's (one run each), for a chain at most a second further behind.
AUDIT_SEAL_ON_COMMIT = env_bool("AUDIT_SEAL_ON_COMMIT", True)
AUDIT_SEAL_DELAY_MILLISECONDS = env_int("AUDIT_SEAL_DELAY_MILLISECONDS", 1000)
AUDIT_SEAL_DELAY_SECONDS = AUDIT_SEAL_DELAY_MILLISECONDS / 1000
AUDIT_SEAL_EVERY_SECONDS = env_int("AUDIT_SEAL_EVERY_SECONDS", 10)
# Events sealed per transaction (the chain lock is held for one batch at a time).
AUDIT_SEAL_BATCH_SIZE = env_int("AUDIT_SEAL_BATCH_SIZE", 5000)
for _name, _value in (
    ("AUDIT_SEAL_DELAY_MILLISECONDS", AUDIT_SEAL_DELAY_MILLISECONDS),
    ("AUDIT_SEAL_EVERY_SECONDS", AUDIT_SEAL_EVERY_SECONDS),
    ("AUDIT_SEAL_BATCH_SIZE", AUDIT_SEAL_BATCH_SIZE),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value} must be at least 1.")

AUDIT_BEAT_SCHEDULE = {
    "audit-seal": {"task": "audit.seal", "schedule": float(AUDIT_SEAL_EVERY_SECONDS)},
    **(
        {
            "audit-export-head": {
                "task": "audit.export_head",
                "schedule": float(AUDIT_HEAD_EXPORT_EVERY_SECONDS),
            },
        }
        if AUDIT_HEAD_EXPORT_PATH
        else {}
    ),
}
