"""Append-only, hash-chained audit log.

Celery tasks, thin: take ids, load the row, call one service; safe to run twice.
"""

from celery import shared_task

from audit.services import audit_head_export


@shared_task(name="audit.export_head", ignore_result=True)
def export_head() -> int | None:
    """Beat (when AUDIT_HEAD_EXPORT_PATH is set): append the chain head to the anchor file; returns its sequence."""
    anchor = audit_head_export()
    return anchor.sequence if anchor else None
