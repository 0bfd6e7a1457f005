"""`manage.py rollout_report`: the A/B report of the assistant-vs-checkout experiment (ordering.rollout.report).

    manage.py rollout_report                      # the last 30 days, every phase
    manage.py rollout_report --since 7d --phase 2
    manage.py rollout_report --since 2026-11-01 --until 2026-12-01 --json

See docs/operations.md "A/B report" for what each number means and how to read a difference.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ordering.rollout.report import (
    ARMS,
    ExperimentReport,
    difference_rows,
    experiment_report,
    parse_moment,
    report_rows,
)


def report_json(report: ExperimentReport) -> dict:
    def interval(value):
        return None if value is None else [value.low, value.high]

    def proportion(value):
        return {
            "successes": value.successes,
            "trials": value.trials,
            "value": value.value,
            "ci95": interval(value.interval),
        }

    def mean(value):
        return None if value is None else {"n": value.n, "mean": value.value, "ci95": interval(value.interval)}

    return {
        "experiment": report.experiment,
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "phase": report.phase,
        "min_customers": report.min_customers,
        "arms": {
            arm.arm: {
                "customers_exposed": arm.customers_exposed,
                "enough_data": arm.enough_data,
                "checkouts_started": arm.checkouts_started,
                "orders_placed": arm.orders_placed,
                "ocr": proportion(arm.ocr),
                "ocr_by_channel": {channel: proportion(value) for channel, value in arm.ocr_by_channel.items()},
                "conversion": proportion(arm.conversion),
                "aov": {currency: mean(value) for currency, value in arm.aov.items()},
                "csat": mean(arm.csat),
            }
            for arm in report.arms.values()
        },
        "differences": [
            {"metric": d.metric, "assistant_minus_control": d.value, "ci95": interval(d.interval)}
            for d in report.differences
        ],
    }


def report_table(report: ExperimentReport) -> str:
    phase = "all phases" if report.phase is None else f"phase {report.phase}"
    lines = [
        f"A/B report: {report.experiment}, {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC, {phase}",
        "Values with 95 % confidence intervals [low, high].",
        "",
    ]
    rows = report_rows(report)
    headers = ["metric", *ARMS]
    widths = [max(len(h), *(len(str(row[h])) for row in rows)) for h in headers]
    lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(row[h]).ljust(w) for h, w in zip(headers, widths, strict=True)))
    lines += ["", "Difference (assistant - control):"]
    for row in difference_rows(report):
        lines.append(f"  {row['metric']}: {row['difference']}" + (f"  -> {row['reading']}" if row["reading"] else ""))
    return "\n".join(lines)


class Command(BaseCommand):
    help = "The A/B report: each arm of the rollout experiment with 95% confidence intervals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", default="30d", help="start: 7d, 12h, 2026-11-01 or an ISO date-time (30d)")
        parser.add_argument("--until", default="", help="end (default: now), same forms as --since")
        parser.add_argument("--phase", type=int, choices=[0, 1, 2, 3], help="only events recorded in this phase")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args, **options) -> None:
        try:
            since = parse_moment(options["since"])
            until = parse_moment(options["until"]) if options["until"] else None
        except ValueError as error:
            raise CommandError(str(error)) from None
        if until is not None and until <= since:
            raise CommandError("--until must be after --since.")
        report = experiment_report(since=since, until=until, phase=options["phase"])
        if options["json"]:
            self.stdout.write(json.dumps(report_json(report), indent=2))
        else:
            self.stdout.write(report_table(report))
