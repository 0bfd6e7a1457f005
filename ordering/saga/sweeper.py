"""The sweeper (Celery beat, task `ordering.flows_sweep`): resumes flows left behind by a lost enqueue or a
dead worker, and undo steps that are due.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from ordering.models import FlowCompensation, FlowStatus, OrderFlow, WaitingFor
from ordering.saga.base import ROUND_COMPENSATIONS, RUNNABLE_STATUSES, UNDO_OPEN

logger = logging.getLogger(__name__)


def flows_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Resume flows left behind: a lost enqueue after commit, a worker killed mid-step, undo left to do.

    Undo is picked up when an undo step is due (never run, its retry time came, or a dead worker's lease
    ran out; an undo step past its quick retries is retried here, on every pass, until its deadline), and
    when a failed or compensating flow has no undo left but never reached its final status.
    """
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.ORDERING_STUCK_AFTER_SECONDS)
    stuck = (
        OrderFlow.objects.filter(status__in=RUNNABLE_STATUSES, updated_at__lt=quiet_since)
        .exclude(next_step="")
        .exclude(step_lease_until__gt=now)
        .values_list("pk", flat=True)
    )
    undo_due = Q(compensations__status__in=UNDO_OPEN, compensations__gave_up_at__isnull=True) & (
        Q(compensations__retry_at__isnull=True) | Q(compensations__retry_at__lte=now)
    )
    ending = Q(status__in=(FlowStatus.FAILED, FlowStatus.COMPENSATING, FlowStatus.CANCELED, FlowStatus.EXPIRED)) | (
        Q(status=FlowStatus.ESCALATED) & ~Q(waiting_for=WaitingFor.RISK_REVIEW)
    )
    # A live flow only undoes rounds that are over (see _runnable_compensations).
    old_round = Q(compensations__action__in=ROUND_COMPENSATIONS, compensations__placement_round__gte=1) & (
        Q(status=FlowStatus.PREVIEWED, compensations__placement_round__lte=F("confirmations"))
        | Q(status__in=(FlowStatus.PLACED, *RUNNABLE_STATUSES, FlowStatus.REQUIRES_ACTION),
            compensations__placement_round__lt=F("confirmations"))
    )  # fmt: skip
    undo = (
        OrderFlow.objects.filter(updated_at__lt=quiet_since)
        .filter(undo_due & (ending | old_round))
        .distinct()
        .values_list("pk", flat=True)
    )
    open_undo = FlowCompensation.objects.filter(flow=OuterRef("pk"), status__in=UNDO_OPEN, gave_up_at__isnull=True)
    settled = (
        OrderFlow.objects.filter(status__in=(FlowStatus.FAILED, FlowStatus.COMPENSATING), updated_at__lt=quiet_since)
        .exclude(Exists(open_undo))
        .values_list("pk", flat=True)
    )
    from ordering import tasks

    resumed = [str(pk) for pk in stuck[:500]]
    compensating = [str(pk) for pk in undo[:500]]
    finishing = [str(pk) for pk in settled[:500] if str(pk) not in compensating]
    for flow_id in resumed:
        tasks.flow_advance.apply_async(args=[flow_id])
    for flow_id in (*compensating, *finishing):
        tasks.flow_compensate.apply_async(args=[flow_id])
    if resumed or compensating or finishing:
        logger.info(
            "sweeper resumed flows",
            extra={"resumed": len(resumed), "compensating": len(compensating), "finishing": len(finishing)},
        )
    return {"resumed": len(resumed), "compensating": len(compensating), "finishing": len(finishing)}
