"""The A/B report: each arm of the assistant-vs-checkout experiment with 95 % confidence intervals.

Read from the funnel events both arms record (ExperimentEvent) for one experiment, one time window and
optionally one phase; docs/operations.md "A/B report" says what each number means and how to read it.

- customers exposed: distinct customers with a `session_started` (a conversation, or a first add to cart);
- checkouts started / orders placed: events, per channel (assistant, storefront) and overall;
- OCR: orders placed / checkouts started (Wilson interval), per channel and overall;
- conversion: exposed customers with at least one order / customers exposed (Wilson);
- AOV per currency: the mean order amount (t interval);
- CSAT (assistant arm): the mean rating (1-5) of its conversations in the window (t interval);
- differences assistant - control: Newcombe's interval for OCR and conversion, Welch's for AOV.

An arm with fewer than `ORDERING_ROLLOUT_REPORT_MIN_CUSTOMERS` exposed customers is "not enough data":
its numbers are shown, but no difference is claimed from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ordering.models import (
    ConversationRating,
    ExperimentChannel,
    ExperimentEvent,
    ExperimentEventKind,
    RolloutArm,
)
from ordering.rollout.stats import Interval, Sample, mean_interval, newcombe, welch, wilson

ARMS = (str(RolloutArm.ASSISTANT), str(RolloutArm.CONTROL))
CHANNELS = (str(ExperimentChannel.ASSISTANT), str(ExperimentChannel.STOREFRONT))


@dataclass(frozen=True)
class Proportion:
    successes: int
    trials: int
    interval: Interval | None

    @property
    def value(self) -> float | None:
        return self.successes / self.trials if self.trials else None


@dataclass(frozen=True)
class Mean:
    n: int
    value: float | None
    interval: Interval | None


@dataclass(frozen=True)
class Difference:
    metric: str  # "ocr", "conversion", "aov:usd"
    value: float
    interval: Interval


@dataclass
class ArmReport:
    arm: str
    customers_exposed: int
    checkouts_started: dict[str, int]  # per channel
    orders_placed: dict[str, int]
    ocr: Proportion
    ocr_by_channel: dict[str, Proportion]
    conversion: Proportion
    aov: dict[str, Mean]  # per currency, minor units
    csat: Mean | None
    enough_data: bool
    samples: dict[str, Sample] = field(default_factory=dict, repr=False)

    @property
    def checkouts_total(self) -> int:
        return sum(self.checkouts_started.values())

    @property
    def orders_total(self) -> int:
        return sum(self.orders_placed.values())


@dataclass
class ExperimentReport:
    experiment: str
    since: datetime
    until: datetime
    phase: int | None
    min_customers: int
    arms: dict[str, ArmReport]
    differences: list[Difference]

    @property
    def enough_data(self) -> bool:
        return all(arm.enough_data for arm in self.arms.values())


def _proportion(successes: int, trials: int) -> Proportion:
    successes = min(successes, trials)  # more orders than checkouts in a window (a checkout before it) caps at 1
    return Proportion(successes, trials, wilson(successes, trials))


def _mean(sample: Sample) -> Mean:
    return Mean(sample.n, sample.mean, mean_interval(sample))


def _sample(row: dict[str, Any]) -> Sample:
    return Sample(n=row["n"], total=float(row["total"] or 0), total_squares=float(row["squares"] or 0))


def _csat(*, arm: str, since: datetime, until: datetime, phase: int | None) -> Mean | None:
    ratings = ConversationRating.objects.filter(
        conversation__rollout_arm=arm,
        conversation__created_at__gte=since,
        conversation__created_at__lt=until,
        conversation__customer__is_staff=False,
    )
    if phase is not None:
        ratings = ratings.filter(conversation__rollout_phase=phase)
    row = ratings.aggregate(n=Count("id"), total=Sum("score"), squares=Sum(F("score") * F("score")))
    if not row["n"]:
        return None
    return _mean(_sample(row))


def experiment_report(
    *,
    since: datetime,
    until: datetime | None = None,
    phase: int | None = None,
    experiment: str | None = None,
    min_customers: int | None = None,
) -> ExperimentReport:
    until = until or timezone.now()
    experiment = experiment or settings.ORDERING_ROLLOUT_EXPERIMENT
    if min_customers is None:
        min_customers = settings.ORDERING_ROLLOUT_REPORT_MIN_CUSTOMERS
    events = ExperimentEvent.objects.filter(experiment=experiment, created_at__gte=since, created_at__lt=until)
    if phase is not None:
        events = events.filter(phase=phase)
    sessions = events.filter(kind=ExperimentEventKind.SESSION_STARTED)
    orders = events.filter(kind=ExperimentEventKind.ORDER_PLACED)

    exposed = dict(sessions.values_list("arm").annotate(n=Count("customer", distinct=True)).order_by())
    counts: dict[tuple[str, str, str], int] = {
        (kind, arm, channel): n
        for kind, arm, channel, n in events.filter(
            kind__in=[ExperimentEventKind.CHECKOUT_STARTED, ExperimentEventKind.ORDER_PLACED]
        )
        .values_list("kind", "arm", "channel")
        .annotate(n=Count("id"))
        .order_by()
    }
    amounts = (
        orders.filter(amount__isnull=False)
        .values("arm", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), squares=Sum(F("amount") * F("amount")))
        .order_by()
    )
    samples: dict[str, dict[str, Sample]] = {arm: {} for arm in ARMS}
    for row in amounts:
        if row["arm"] in samples:
            samples[row["arm"]][row["currency"].lower()] = _sample(row)

    arms: dict[str, ArmReport] = {}
    for arm in ARMS:
        customers = exposed.get(arm, 0)
        converted = (
            orders.filter(arm=arm, customer_id__in=sessions.filter(arm=arm).values("customer_id"))
            .values("customer_id")
            .distinct()
            .count()
        )
        started = {channel: counts.get((ExperimentEventKind.CHECKOUT_STARTED, arm, channel), 0) for channel in CHANNELS}
        placed = {channel: counts.get((ExperimentEventKind.ORDER_PLACED, arm, channel), 0) for channel in CHANNELS}
        arms[arm] = ArmReport(
            arm=arm,
            customers_exposed=customers,
            checkouts_started=started,
            orders_placed=placed,
            ocr=_proportion(sum(placed.values()), sum(started.values())),
            ocr_by_channel={channel: _proportion(placed[channel], started[channel]) for channel in CHANNELS},
            conversion=_proportion(converted, customers),
            aov={currency: _mean(sample) for currency, sample in sorted(samples[arm].items())},
            csat=_csat(arm=arm, since=since, until=until, phase=phase),
            enough_data=customers >= min_customers,
            samples=samples[arm],
        )

    differences: list[Difference] = []
    assistant, control = arms[RolloutArm.ASSISTANT], arms[RolloutArm.CONTROL]
    if assistant.enough_data and control.enough_data:
        for metric, a, b in (
            ("ocr", assistant.ocr, control.ocr),
            ("conversion", assistant.conversion, control.conversion),
        ):
            result = newcombe(a.successes, a.trials, b.successes, b.trials)
            if result is not None:
                differences.append(Difference(metric, *result))
        for currency in sorted(set(assistant.samples) & set(control.samples)):
            result = welch(assistant.samples[currency], control.samples[currency])
            if result is not None:
                differences.append(Difference(f"aov:{currency}", *result))
    return ExperimentReport(
        experiment=experiment,
        since=since,
        until=until,
        phase=phase,
        min_customers=min_customers,
        arms=arms,
        differences=differences,
    )


def parse_moment(text: str, *, now: datetime | None = None) -> datetime:
    """`7d`, `12h`, `30m` (ago), an ISO date (its midnight) or an ISO date-time (UTC unless it says)."""
    now = now or timezone.now()
    text = (text or "").strip()
    relative = re.fullmatch(r"(\d+)([dhm])", text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return now - timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: amount})
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise ValueError(f"{text!r} is not a date (2026-11-01), a date-time or a span like 7d, 12h, 30m.")
        moment = datetime.combine(day, time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.UTC)
    return moment


# -- presentation (shared by the management command and the admin page) ------------------------------


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _percent_interval(interval: Interval | None) -> str:
    return "-" if interval is None else f"[{interval.low * 100:.1f}, {interval.high * 100:.1f}]"


def _points(difference: Difference) -> str:
    low, high = difference.interval.low * 100, difference.interval.high * 100
    return f"{difference.value * 100:+.1f} pts [{low:+.1f}, {high:+.1f}]"


def _money(value: float | None, currency: str) -> str:
    from consent.formatting import format_money

    return "-" if value is None else format_money(round(value), currency)


def report_rows(report: ExperimentReport) -> list[dict[str, Any]]:
    """The report as table rows: metric, then per arm the value and its interval (or "not enough data")."""
    rows: list[dict[str, Any]] = []

    def cells(render) -> dict[str, str]:
        return {arm: render(report.arms[arm]) for arm in ARMS}

    def with_interval(value: str, interval: str, arm: ArmReport) -> str:
        return f"{value} {interval}" if arm.enough_data else f"{value} (not enough data)"

    rows.append({"metric": "Customers exposed", **cells(lambda a: str(a.customers_exposed))})
    for channel in CHANNELS:
        rows.append(
            {"metric": f"Checkouts started ({channel})", **cells(lambda a, c=channel: str(a.checkouts_started[c]))}
        )
        rows.append({"metric": f"Orders placed ({channel})", **cells(lambda a, c=channel: str(a.orders_placed[c]))})
    rows.append(
        {
            "metric": "OCR (orders / checkouts)",
            **cells(lambda a: with_interval(_percent(a.ocr.value), _percent_interval(a.ocr.interval), a)),
        }
    )
    for channel in CHANNELS:
        rows.append(
            {
                "metric": f"OCR ({channel})",
                **cells(
                    lambda a, c=channel: with_interval(
                        _percent(a.ocr_by_channel[c].value), _percent_interval(a.ocr_by_channel[c].interval), a
                    )
                ),
            }
        )
    rows.append(
        {
            "metric": "Conversion (customers ordering / exposed)",
            **cells(lambda a: with_interval(_percent(a.conversion.value), _percent_interval(a.conversion.interval), a)),
        }
    )
    currencies = sorted({currency for arm in report.arms.values() for currency in arm.aov})
    for currency in currencies:

        def aov(arm: ArmReport, currency: str = currency) -> str:
            mean = arm.aov.get(currency)
            if mean is None:
                return "-"
            interval = (
                "-"
                if mean.interval is None
                else f"[{_money(mean.interval.low, currency)}, {_money(mean.interval.high, currency)}]"
            )
            return with_interval(f"{_money(mean.value, currency)} (n={mean.n})", interval, arm)

        rows.append({"metric": f"AOV ({currency.upper()})", **cells(aov)})

    def csat(arm: ArmReport) -> str:
        if arm.csat is None:
            return "-"
        interval = "-" if arm.csat.interval is None else f"[{arm.csat.interval.low:.2f}, {arm.csat.interval.high:.2f}]"
        return with_interval(f"{arm.csat.value:.2f} / 5 (n={arm.csat.n})", interval, arm)

    rows.append({"metric": "CSAT (1-5)", **cells(csat)})
    return rows


def difference_rows(report: ExperimentReport) -> list[dict[str, str]]:
    if not report.enough_data:
        short = ", ".join(
            f"{arm.arm}: {arm.customers_exposed} customers" for arm in report.arms.values() if not arm.enough_data
        )
        return [
            {
                "metric": "all",
                "difference": f"not enough data ({short}; each arm needs {report.min_customers})",
                "reading": "",
            }
        ]
    rows = []
    for difference in report.differences:
        if difference.metric.startswith("aov:"):
            currency = difference.metric.split(":", 1)[1]
            text = (
                f"{_money(difference.value, currency)} "
                f"[{_money(difference.interval.low, currency)}, {_money(difference.interval.high, currency)}]"
            )
            label = f"AOV ({currency.upper()})"
        else:
            text = _points(difference)
            label = {"ocr": "OCR", "conversion": "Conversion"}[difference.metric]
        if difference.interval.crosses_zero():
            reading = "no clear difference (the interval includes 0)"
        elif difference.interval.low > 0:
            reading = "assistant higher"
        else:
            reading = "assistant lower"
        rows.append({"metric": label, "difference": text, "reading": reading})
    return rows
