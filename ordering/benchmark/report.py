"""Samples, their median and spread, and the table `manage.py bench` prints.

Every measure is repeated (`--repeat`); a row shows the median of its repeats and their spread
(min–max). A ratio is computed per repeat (ours and the floor/peer of the same repeat, measured one
after the other in the same run) and then summarised the same way, so a machine that got slower for
a moment moves both sides of one ratio together.
"""

# ruff: noqa: RUF001, RUF002 - the table prints en dashes (spreads) and multiplication signs (ratios)

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Samples:
    values: list[float] = field(default_factory=list)
    unit: str = ""

    def add(self, value: float) -> None:
        self.values.append(float(value))

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def low(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def high(self) -> float | None:
        return max(self.values) if self.values else None

    def text(self) -> str:
        if not self.values:
            return "—"
        median, low, high = self.median, self.low, self.high
        unit = f" {self.unit}" if self.unit else ""
        if len(self.values) == 1 or _number(low) == _number(high):
            return f"{_number(median)}{unit}"
        return f"{_number(median)}{unit} ({_number(low)}–{_number(high)})"

    def as_dict(self) -> dict[str, Any]:
        return {"median": self.median, "min": self.low, "max": self.high, "values": self.values, "unit": self.unit}


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


@dataclass
class Row:
    """One line of the table: ours, the floor or peer beside it, their ratio, the goal and whether it is met."""

    key: str
    measure: str
    goal: str
    ours: Samples = field(default_factory=Samples)
    baseline: Samples | None = None
    baseline_name: str = ""
    ratio: Samples | None = None
    # Decides pass/fail from the row (None: not measured, so neither).
    check: Callable[[Row], bool | None] | None = None
    extra: str = ""  # what else sits beside the number (the floor beside the peer, failed turns…)
    error: str = ""

    @property
    def passed(self) -> bool | None:
        if self.error or not self.ours.values or self.check is None:
            return None
        return self.check(self)

    def cells(self) -> list[str]:
        baseline = ""
        if self.baseline is not None and self.baseline.values:
            baseline = f"{self.baseline_name} {self.baseline.text()}".strip()
        if self.extra:
            baseline = f"{baseline}; {self.extra}" if baseline else self.extra
        ours = f"error: {self.error}" if self.error else self.ours.text()
        ratio = self.ratio.text() if self.ratio is not None and self.ratio.values else "—"
        verdict = {True: "PASS", False: "FAIL", None: "—"}[self.passed]
        return [self.measure, ours, baseline or "—", ratio, self.goal, verdict]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "measure": self.measure,
            "ours": self.ours.as_dict(),
            "baseline_name": self.baseline_name,
            "baseline": self.baseline.as_dict() if self.baseline is not None else None,
            "ratio": self.ratio.as_dict() if self.ratio is not None else None,
            "goal": self.goal,
            "pass": self.passed,
            "extra": self.extra,
            "error": self.error,
        }


HEADER = ["measure", "ours", "floor/peer", "ratio", "goal", "pass"]


def table(rows: list[Row]) -> str:
    """A Markdown table (it reads the same in a terminal and pasted into the README)."""
    lines = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(HEADER))]

    def render(cells: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    out = [render(HEADER), "|" + "|".join("-" * (width + 2) for width in widths) + "|"]
    out.extend(render(cells) for cells in lines[1:])
    return "\n".join(out)


def json_write(path: Path, *, rows: list[Row], meta: dict[str, Any]) -> None:
    path.write_text(json.dumps({"meta": meta, "rows": [row.as_dict() for row in rows]}, indent=2), encoding="utf-8")


def at_most(limit: float) -> Callable[[Row], bool]:
    """Pass when ours (the median) is at most `limit`."""
    return lambda row: row.ours.median is not None and row.ours.median <= limit


def ratio_at_most(limit: float) -> Callable[[Row], bool]:
    return lambda row: row.ratio is not None and row.ratio.median is not None and row.ratio.median <= limit


def ratio_at_least(limit: float) -> Callable[[Row], bool]:
    return lambda row: row.ratio is not None and row.ratio.median is not None and row.ratio.median >= limit
