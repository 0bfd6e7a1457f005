"""Append-only, hash-chained audit log.

Celery tasks, thin: take ids, load the row, call one service; safe to run twice.
"""

from celery import shared_task

from audit.services import audit_head_export, audit_seal


@shared_task(name="audit.seal", ignore_result=True)
def seal() -> int:
    """Soon after a commit with events (debounced), and on beat as a fallback: seal them into the chain."""
    return audit_seal()


@shared_task(name="audit.export_head", ignore_result=True)
def export_head() -> int | None:
    """Beat (when AUDIT_HEAD_EXPORT_PATH is set): seal, then append the chain head to the anchor file."""
    anchor = audit_head_export()
    return anchor.sequence if anchor else None
