"""The ops page's numbers, read from the database (the same facts Prometheus counts, for people without Grafana).

A window (last hour, day or week) is cut into equal time buckets aligned to the clock (5 minutes, 1 hour,
1 day). Every panel is **one query**: a CASE expression over the bucket edges gives each row its bucket
and the database counts or averages per bucket with GROUP BY, so a page costs the same few queries
whatever the window or the traffic, and the same ORM expressions run on PostgreSQL and on SQLite
(`make run`). Latency percentiles are read from counts per latency class (the Prometheus histograms'
bounds) and interpolated within the class the way `histogram_quantile` does.

Every selector takes a `cohort`: the rollout phase and arm recorded on each conversation and flow
(ordering.rollout.assignment) narrow the flows and what hangs off them (steps, undo steps, escalations)
or the conversations (turns, ratings), through `Cohort.q`. `EVERYONE` filters nothing, rows from before
the rollout (no phase, no arm) included.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from consent.formatting import format_money, minor_unit_exponent
from ordering.models import (
    ConversationRating,
    ConversationTurn,
    FlowCompensation,
    FlowStatus,
    FlowStep,
    OrderFlow,
    StepStatus,
    TurnStatus,
)
from ordering.saga.base import STEPS

PAYMENT_STEP = "complete_checkout"
# The bounds of `ordering_flow_step_seconds` and `ordering_turn_seconds` together, so that a percentile
# read here falls in the same class as the one Grafana shows.
LATENCY_BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 30.0, 60.0)
COMPENSATION_ACTIONS = ("cancel_checkout", "cancel_order", "revoke_token", "release_spend")


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    length: timedelta
    step: timedelta
    tick_format: str  # strftime of a bucket's start, in UTC

    @property
    def bucket_count(self) -> int:
        return int(self.length / self.step)


WINDOWS: dict[str, Window] = {
    window.key: window
    for window in (
        Window("hour", "Last hour", timedelta(hours=1), timedelta(minutes=5), "%H:%M"),
        Window("day", "Last day", timedelta(days=1), timedelta(hours=1), "%H:00"),
        Window("week", "Last week", timedelta(days=7), timedelta(days=1), "%a %d %b"),
    )
}
DEFAULT_WINDOW = "day"


@dataclass(frozen=True)
class Buckets:
    """`len(edges) - 1` buckets; bucket i holds times in [edges[i], edges[i + 1])."""

    window: Window
    edges: tuple[datetime, ...]

    @property
    def start(self) -> datetime:
        return self.edges[0]

    @property
    def end(self) -> datetime:
        return self.edges[-1]

    @property
    def count(self) -> int:
        return len(self.edges) - 1

    @property
    def labels(self) -> list[str]:
        return [edge.strftime(self.window.tick_format) for edge in self.edges[:-1]]

    def case(self, field_name: str) -> Case:
        """The bucket number of a row's `field_name` (rows outside the window are filtered out first)."""
        whens = [When(**{f"{field_name}__lt": edge}, then=Value(index)) for index, edge in enumerate(self.edges[1:])]
        return Case(*whens, default=Value(None), output_field=IntegerField())

    def within(self, field_name: str) -> Q:
        return Q(**{f"{field_name}__gte": self.start, f"{field_name}__lt": self.end})

    def per_bucket(self, queryset: QuerySet, time_field: str, *keys: str, **aggregates) -> list[dict]:
        """The rows of `queryset` whose `time_field` is in the window, aggregated per bucket and `keys`: one query."""
        return list(
            queryset.filter(self.within(time_field))
            .annotate(bucket=self.case(time_field))
            .values("bucket", *keys)
            .annotate(**aggregates)
            .order_by("bucket", *keys)
        )


def ops_buckets(*, window: Window, now: datetime | None = None) -> Buckets:
    """The window ending at the end of the bucket that holds `now` (the current bucket is still filling)."""
    now = now or timezone.now()
    step = window.step.total_seconds()
    end = datetime.fromtimestamp((math.floor(now.timestamp() / step) + 1) * step, tz=UTC)
    count = window.bucket_count
    return Buckets(window=window, edges=tuple(end - window.step * (count - index) for index in range(count + 1)))


@dataclass(frozen=True)
class Cohort:
    """The rollout phase and arm to narrow every panel to; None: all of them."""

    phase: int | None = None
    arm: str | None = None

    @property
    def is_everyone(self) -> bool:
        return self.phase is None and self.arm is None

    def q(self, prefix: str = "") -> Q:
        """The filter on a model reaching `OrderFlow` or `Conversation` through `prefix` ("", "flow__", …)."""
        lookups = {}
        if self.phase is not None:
            lookups[f"{prefix}rollout_phase"] = self.phase
        if self.arm is not None:
            lookups[f"{prefix}rollout_arm"] = self.arm
        return Q(**lookups)


EVERYONE = Cohort()


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Panel:
    """One chart of the page: its series per bucket, a few totals over the window, and how it is computed."""

    key: str
    title: str
    how: str
    kind: str  # "line" (values joined, None a gap) or "bars" (stacked; None is 0)
    unit: str  # "percent" (0..1), "count", "seconds", "minutes", "score", or a currency code for money
    series: tuple[Series, ...]
    totals: tuple[tuple[str, str], ...] = ()
    empty_message: str = "Nothing in this window."
    rows: int = 0  # database rows behind the panel; 0 draws the empty message

    @property
    def is_empty(self) -> bool:
        return self.rows == 0


@dataclass(frozen=True)
class OpsDashboard:
    buckets: Buckets
    cohort: Cohort
    panels: tuple[Panel, ...] = field(default_factory=tuple)

    def panel(self, key: str) -> Panel:
        return next(panel for panel in self.panels if panel.key == key)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def duration_seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # a backend that hands back microseconds


def ordered_names(names: Iterable[str], preferred: Sequence[str]) -> list[str]:
    names = set(names)
    return [name for name in preferred if name in names] + sorted(names - set(preferred))


# -- order completion ----------------------------------------------------------------------------


def ops_order_completion(*, buckets: Buckets, cohort: Cohort = EVERYONE) -> Panel:
    """Flows started in each bucket, and how many of those are placed now: OCR = placed / started."""
    rows = buckets.per_bucket(
        OrderFlow.objects.filter(cohort.q()),
        "created_at",
        started=Count("pk"),
        placed=Count("pk", filter=Q(status=FlowStatus.PLACED)),
    )
    started = [0] * buckets.count
    placed = [0] * buckets.count
    for row in rows:
        started[row["bucket"]] = row["started"]
        placed[row["bucket"]] = row["placed"]
    total_started, total_placed = sum(started), sum(placed)
    return Panel(
        key="ocr",
        title="Order completion rate",
        how=(
            "Of the order flows started in each bucket (the assistant opened a checkout session at the merchant), "
            "the share whose order is placed now. A bucket without flows has no point."
        ),
        kind="line",
        unit="percent",
        series=(Series("placed / started", tuple(p / s if s else None for p, s in zip(placed, started, strict=True))),),
        totals=(
            ("Flows started", str(total_started)),
            ("Placed", str(total_placed)),
            ("Order completion rate", _percent(total_placed, total_started)),
        ),
        empty_message="No order flow was started in this window.",
        rows=total_started,
    )


# -- failures by step, undo steps --------------------------------------------------------------


def ops_step_failures(*, buckets: Buckets, cohort: Cohort = EVERYONE) -> Panel:
    """Failed attempts of the placement saga's steps (FlowStep rows with an error), by step."""
    rows = buckets.per_bucket(
        FlowStep.objects.filter(cohort.q("flow__"), status=StepStatus.FAILED, is_compensation=False),
        "started_at",
        "name",
        "error_class",
        count=Count("pk"),
    )
    per_step: dict[str, list[float | None]] = defaultdict(lambda: [0] * buckets.count)
    per_class: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        per_step[row["name"]][row["bucket"]] += row["count"]
        per_class[(row["name"], row["error_class"] or "unknown")] += row["count"]
    steps = ordered_names(per_step, STEPS)
    return Panel(
        key="failures",
        title="Failed saga steps",
        how=(
            "Attempts of the placement steps (check_consent … complete_checkout) that ended failed, by the time "
            "they started; a step retried after a network error counts each failed attempt."
        ),
        kind="bars",
        unit="count",
        series=tuple(Series(step, tuple(per_step[step])) for step in steps),
        totals=tuple(
            (f"{step} · {error_class}", str(count))
            for (step, error_class), count in sorted(
                per_class.items(), key=lambda item: (steps.index(item[0][0]), -item[1])
            )
        ),
        empty_message="No saga step failed in this window.",
        rows=sum(per_class.values()),
    )


def ops_compensations(*, buckets: Buckets, cohort: Cohort = EVERYONE) -> Panel:
    """Undo steps registered in each bucket, by action; totals by action and where they stand now."""
    rows = buckets.per_bucket(
        FlowCompensation.objects.filter(cohort.q("flow__")), "registered_at", "action", "status", count=Count("pk")
    )
    per_action: dict[str, list[float | None]] = defaultdict(lambda: [0] * buckets.count)
    per_outcome: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        per_action[row["action"]][row["bucket"]] += row["count"]
        per_outcome[(row["action"], row["status"])] += row["count"]
    actions = ordered_names(per_action, COMPENSATION_ACTIONS)
    return Panel(
        key="compensations",
        title="Undo steps (compensations)",
        how=(
            "Undo steps registered for flows (before the call they undo), by action, in the bucket they were "
            "registered; the totals say how they stand now: done, not needed, pending, failed."
        ),
        kind="bars",
        unit="count",
        series=tuple(Series(action, tuple(per_action[action])) for action in actions),
        totals=tuple(
            (f"{action} · {status}", str(count))
            for (action, status), count in sorted(per_outcome.items(), key=lambda item: (item[0][0], item[0][1]))
        ),
        empty_message="No undo step was registered in this window.",
        rows=sum(per_outcome.values()),
    )


# -- satisfaction and order value ------------------------------------------------------------------


def ops_csat(*, buckets: Buckets, cohort: Cohort = EVERYONE) -> Panel:
    """The mean 1..5 score of the ratings given (or last changed) in each bucket."""
    rows = buckets.per_bucket(
        ConversationRating.objects.filter(cohort.q("conversation__")),
        "updated_at",
        count=Count("pk"),
        total=Sum("score"),
    )
    mean: list[float | None] = [None] * buckets.count
    for row in rows:
        mean[row["bucket"]] = row["total"] / row["count"]
    count = sum(row["count"] for row in rows)
    total = sum(row["total"] for row in rows)
    return Panel(
        key="csat",
        title="Customer satisfaction (CSAT)",
        how=(
            "The mean of the 1-5 scores customers gave a conversation (the widget's rating, POST …/csat/), "
            "by the time the score was given or last changed."
        ),
        kind="line",
        unit="score",
        series=(Series("mean score", tuple(mean)),),
        totals=(("Ratings", str(count)), ("Mean score", f"{total / count:.2f} / 5" if count else "-")),
        empty_message="No customer rated a conversation in this window.",
        rows=count,
    )


def ops_order_value(*, buckets: Buckets, cohort: Cohort = EVERYONE) -> Panel:
    """Average order value of the orders placed in each bucket, one series per currency (never mixed)."""
    rows = buckets.per_bucket(
        OrderFlow.objects.filter(cohort.q(), status=FlowStatus.PLACED, total_amount__isnull=False),
        "placed_at",
        "currency",
        count=Count("pk"),
        total=Sum("total_amount"),
    )
    per_currency: dict[str, list[float | None]] = defaultdict(lambda: [None] * buckets.count)
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        currency = row["currency"].upper()
        per_currency[currency][row["bucket"]] = row["total"] / row["count"] / 10 ** minor_unit_exponent(currency)
        sums[currency][0] += row["count"]
        sums[currency][1] += row["total"]
    currencies = sorted(per_currency)
    totals = []
    for currency in currencies:
        orders, amount = sums[currency]
        totals.append((f"{currency} orders", str(orders)))
        totals.append((f"{currency} AOV", format_money(round(amount / orders), currency)))
    return Panel(
        key="aov",
        title="Average order value",
        how=(
            "The mean total (what the customer confirmed, as the merchant priced it) of the orders placed in each "
            "bucket, per currency, in major units."
        ),
        kind="line",
        unit=currencies[0] if len(currencies) == 1 else "money",
        series=tuple(Series(currency, tuple(per_currency[currency])) for currency in currencies),
        totals=tuple(totals),
        empty_message="No order was placed in this window.",
        rows=sum(orders for orders, _ in sums.values()),
    )


# -- latency -------------------------------------------------------------------------------------


def latency_quantile(quantile: float, counts: Sequence[int], bounds: Sequence[float] = LATENCY_BOUNDS) -> float | None:
    """`histogram_quantile` over counts per class: class i holds (bounds[i-1], bounds[i]], the last one
    everything above the last bound (a quantile there reads as the last bound, as Prometheus answers)."""
    total = sum(counts)
    if total == 0:
        return None
    rank = quantile * total
    below = 0
    for index, count in enumerate(counts):
        if count and below + count >= rank:
            if index >= len(bounds):
                return bounds[-1]
            lower = bounds[index - 1] if index else 0.0
            return lower + (bounds[index] - lower) * (rank - below) / count
        below += count
    return bounds[-1]


def _latency_panel(
    queryset: QuerySet, *, buckets: Buckets, start_field: str, key: str, title: str, how: str, empty: str
) -> Panel:
    took = ExpressionWrapper(F("finished_at") - F(start_field), output_field=DurationField())
    latency_class = Case(
        *[When(took__lte=timedelta(seconds=bound), then=Value(index)) for index, bound in enumerate(LATENCY_BOUNDS)],
        default=Value(len(LATENCY_BOUNDS)),
        output_field=IntegerField(),
    )
    rows = buckets.per_bucket(
        queryset.filter(finished_at__isnull=False).annotate(took=took).annotate(latency_class=latency_class),
        start_field,
        "latency_class",
        count=Count("pk"),
    )
    counts = [[0] * (len(LATENCY_BOUNDS) + 1) for _ in range(buckets.count)]
    overall = [0] * (len(LATENCY_BOUNDS) + 1)
    for row in rows:
        counts[row["bucket"]][row["latency_class"]] += row["count"]
        overall[row["latency_class"]] += row["count"]

    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} s"

    return Panel(
        key=key,
        title=title,
        how=how,
        kind="line",
        unit="seconds",
        series=(
            Series("p50", tuple(latency_quantile(0.5, bucket) for bucket in counts)),
            Series("p95", tuple(latency_quantile(0.95, bucket) for bucket in counts)),
        ),
        totals=(
            ("Measured", str(sum(overall))),
            ("p50", seconds(latency_quantile(0.5, overall))),
            ("p95", seconds(latency_quantile(0.95, overall))),
        ),
        empty_message=empty,
        rows=sum(overall),
    )


_LATENCY_HOW = (
    " Percentiles are read from counts per latency class (bounds "
    + ", ".join(f"{bound:g}" for bound in LATENCY_BOUNDS)
    + " s) and interpolated within the class, as Prometheus's histogram_quantile does."
)


def ops_turn_latency(*, buckets: Buckets, cohort: Cohort = EVERYONE) -> Panel:
    return _latency_panel(
        ConversationTurn.objects.filter(cohort.q("conversation__"), status__in=[TurnStatus.DONE, TurnStatus.FAILED]),
        buckets=buckets,
        start_field="started_at",
        key="turn_latency",
        title="Chat turn latency",
        how=(
            "A customer message's turn from a worker taking it to the assistant's answer (the wait in the queue "
            "is not included: a turn's started_at is reset when it starts running), finished turns only, failed "
            "ones included, by the time it started." + _LATENCY_HOW
        ),
        empty="No chat turn finished in this window.",
    )


def ops_payment_latency(*, buckets: Buckets, cohort: Cohort = EVERYONE) -> Panel:
    return _latency_panel(
        FlowStep.objects.filter(cohort.q("flow__"), name=PAYMENT_STEP, is_compensation=False),
        buckets=buckets,
        start_field="started_at",
        key="payment_latency",
        title="Payment latency (complete_checkout)",
        how=(
            "Each attempt of the saga's payment step, complete_checkout at the merchant, from start to finish, "
            "succeeded or failed." + _LATENCY_HOW
        ),
        empty="No payment was attempted in this window.",
    )


PanelSelector = Callable[..., Panel]  # (*, buckets: Buckets, cohort: Cohort) -> Panel

# The flows' panels, then the panels other apps contribute (escalations: opened, time to resolution), then
# the customers'. An app above ordering adds its panels from its AppConfig.ready (`ops_panels_contribute`),
# so the page shows them without ordering importing that app.
FLOW_PANELS: tuple[PanelSelector, ...] = (ops_order_completion, ops_step_failures, ops_compensations)
CUSTOMER_PANELS: tuple[PanelSelector, ...] = (ops_csat, ops_order_value, ops_turn_latency, ops_payment_latency)
_contributed_panels: list[PanelSelector] = []


def ops_panels_contribute(*panels: PanelSelector) -> None:
    """Add panels to the ops page, after the flows' (a panel added twice is shown once)."""
    for panel in panels:
        if panel not in _contributed_panels:
            _contributed_panels.append(panel)


def ops_panels() -> tuple[PanelSelector, ...]:
    return (*FLOW_PANELS, *_contributed_panels, *CUSTOMER_PANELS)


def ops_dashboard(*, window: Window, cohort: Cohort = EVERYONE, now: datetime | None = None) -> OpsDashboard:
    """Every panel of the ops page: one query each."""
    buckets = ops_buckets(window=window, now=now)
    return OpsDashboard(
        buckets=buckets, cohort=cohort, panels=tuple(panel(buckets=buckets, cohort=cohort) for panel in ops_panels())
    )
