"""Chat sessions: when a conversation has gone quiet, count it once (its duration, whether it converted).

A session is a conversation, from its first message to its last, ended by `ORDERING_SESSION_IDLE_SECONDS`
of quiet (30 minutes by default, the usual web-analytics rule). The beat runs `sessions_end_idle` every
sweep interval: it takes the conversations whose last message is older than that and whose session is
not counted yet, marks them (`Conversation.session_ended_at`), and after commit adds them to

- `ordering_sessions_ended_total{converted, arm, phase}`: conversion = converted / all, per rollout arm
  and phase (the conversation's own, "none" for conversations from before the rollout);
- `ordering_session_duration_seconds{converted}`: first message to last message.

A message written after the session was counted does not start a second session: a conversation counts
once. Two sweeps at once never count the same conversation (rows taken with SKIP LOCKED, and the mark is
conditional).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, Min, OuterRef
from django.utils import timezone

from ordering import metrics
from ordering.models import Conversation, FlowStatus, Message, OrderFlow

BATCH = 500


@dataclass(frozen=True)
class EndedSession:
    converted: bool
    arm: str
    phase: str
    seconds: float


def _label(value: object) -> str:
    return "none" if value in (None, "") else str(value)


def sessions_end_idle(*, now=None, batch: int = BATCH) -> dict[str, int]:
    """Count the conversations quiet for ORDERING_SESSION_IDLE_SECONDS, up to `batch` of them per call."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ORDERING_SESSION_IDLE_SECONDS)
    later = Message.objects.filter(conversation_id=OuterRef("pk"), created_at__gte=cutoff)
    with transaction.atomic():
        ids = list(
            Conversation.objects.filter(session_ended_at__isnull=True, created_at__lt=cutoff)
            .filter(~Exists(later))
            .order_by("created_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return {"ended": 0, "converted": 0}
        placed = OrderFlow.objects.filter(conversation_id=OuterRef("pk"), status=FlowStatus.PLACED)
        rows = (
            Conversation.objects.filter(pk__in=ids)
            .annotate(first=Min("messages__created_at"), last=Max("messages__created_at"), converted=Exists(placed))
            .values("pk", "first", "last", "converted", "rollout_arm", "rollout_phase", "created_at")
        )
        ended = [
            EndedSession(
                converted=row["converted"],
                arm=_label(row["rollout_arm"]),
                phase=_label(row["rollout_phase"]),
                seconds=max(
                    ((row["last"] or row["created_at"]) - (row["first"] or row["created_at"])).total_seconds(), 0
                ),
            )
            for row in rows
        ]
        Conversation.objects.filter(pk__in=ids, session_ended_at__isnull=True).update(session_ended_at=now)
        transaction.on_commit(lambda: _observe(ended))
    return {"ended": len(ended), "converted": sum(1 for session in ended if session.converted)}


def _observe(ended: list[EndedSession]) -> None:
    for session in ended:
        converted = "true" if session.converted else "false"
        metrics.sessions_ended.labels(converted=converted, arm=session.arm, phase=session.phase).inc()
        metrics.session_seconds.labels(converted=converted).observe(session.seconds)
