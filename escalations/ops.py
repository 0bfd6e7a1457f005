"""The escalation panels of the staff ops page (ordering/ops): escalations opened, and time to resolution.

Escalations' own rows, read here and added to the page from `EscalationsConfig.ready` through
`ordering.ops.selectors.ops_panels_contribute`, so ordering's page shows them without importing this app.
One query each, like every panel of the page (see ordering/ops/selectors.py).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

from escalations.models import Escalation
from ordering.models import EscalationReason
from ordering.ops.selectors import EVERYONE, Buckets, Cohort, Panel, Series, duration_seconds, ordered_names


def escalation_cohort(cohort: Cohort) -> Q:
    """An escalation belongs to its flow's cohort, or, without a flow, to its conversation's."""
    if cohort.is_everyone:
        return Q()
    return (Q(flow__isnull=False) & cohort.q("flow__")) | (Q(flow__isnull=True) & cohort.q("conversation__"))


def ops_escalations_opened(*, buckets: Buckets, cohort: Cohort = EVERYONE) -> Panel:
    rows = buckets.per_bucket(
        Escalation.objects.filter(escalation_cohort(cohort)), "created_at", "reason", count=Count("pk")
    )
    per_reason: dict[str, list[float | None]] = defaultdict(lambda: [0] * buckets.count)
    for row in rows:
        per_reason[row["reason"]][row["bucket"]] += row["count"]
    reasons = ordered_names(per_reason, EscalationReason.values)
    return Panel(
        key="escalations",
        title="Escalations opened",
        how="Escalations opened in each bucket, by reason.",
        kind="bars",
        unit="count",
        series=tuple(Series(reason, tuple(per_reason[reason])) for reason in reasons),
        totals=tuple((reason, str(int(sum(count or 0 for count in per_reason[reason])))) for reason in reasons),
        empty_message="No escalation was opened in this window.",
        rows=sum(row["count"] for row in rows),
    )


def ops_escalation_mttr(*, buckets: Buckets, cohort: Cohort = EVERYONE) -> Panel:
    """Mean time to resolution of the escalations resolved (or handed back) in each bucket."""
    took = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    rows = buckets.per_bucket(
        Escalation.objects.filter(escalation_cohort(cohort)).annotate(took=took),
        "resolved_at",
        count=Count("pk"),
        total=Sum("took"),
    )
    mean: list[float | None] = [None] * buckets.count
    count = 0
    total = 0.0
    for row in rows:
        seconds = duration_seconds(row["total"]) or 0.0
        mean[row["bucket"]] = seconds / row["count"] / 60
        count += row["count"]
        total += seconds
    return Panel(
        key="mttr",
        title="Escalations: mean time to resolution",
        how=(
            "For the escalations resolved or handed back in each bucket: the mean of resolved_at - created_at, "
            "in minutes (MTTR). A bucket where none was resolved has no point."
        ),
        kind="line",
        unit="minutes",
        series=(Series("MTTR (min)", tuple(mean)),),
        totals=(("Resolved", str(count)), ("MTTR", f"{total / count / 60:.1f} min" if count else "-")),
        empty_message="No escalation was resolved in this window.",
        rows=count,
    )


OPS_PANELS = (ops_escalations_opened, ops_escalation_mttr)
