"""The ops page's charts, drawn on the server as SVG: no script, no library, nothing from another site.

A chart is a line chart (a bucket without a value is a gap) or stacked bars, over the panel's time
buckets, with both axes labelled, every value written beside its point or on its bar, and the panel's
empty message in place of the plot when the window holds nothing. Only presentation attributes are
used (fill, stroke, font-size…), so the site's Content-Security-Policy has nothing to refuse. The SVG
scales to its container's width; its text stays readable from about 1000 px.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ordering.ops.selectors import Buckets, Panel

WIDTH = 1160
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 78, 20, 44, 58
PALETTE = ("#2a6ebb", "#c05600", "#2e8540", "#8e44ad", "#b00020", "#5f6b76", "#9a7d0a", "#138d90")
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
AXIS_TITLES = {
    "percent": "share of flows (%)",
    "count": "count",
    "seconds": "seconds",
    "minutes": "minutes",
    "score": "score (1-5)",
    "money": "amount (major units)",
}


def format_value(value: float, unit: str) -> str:
    if unit == "percent":
        return f"{value * 100:.0f}%" if round(value * 100, 1).is_integer() else f"{value * 100:.1f}%"
    if unit == "count":
        return f"{value:.0f}"
    if unit == "seconds":
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "minutes":
        return f"{value:.1f} min"
    if unit == "score":
        return f"{value:.2f}"
    return f"{value:,.2f}"  # money, in major units


def _tick_label(value: float, unit: str) -> str:
    if unit == "percent":
        return f"{value * 100:.0f}%"
    if unit in ("seconds", "minutes", "score", "count"):
        suffix = {"seconds": " s", "minutes": " min"}.get(unit, "")
        return f"{value:g}{suffix}"
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above `value` (the y axis's top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= value - 1e-12:
            return factor * power
    return 10 * power


def _scale_top(panel: Panel, stacked_totals: Sequence[float]) -> float:
    if panel.unit == "percent":
        return 1.0
    if panel.unit == "score":
        return 5.0
    values = [value for series in panel.series for value in series.values if value is not None]
    highest = max(stacked_totals) if panel.kind == "bars" else max(values, default=0.0)
    top = _nice_top(highest)
    if panel.unit == "count":
        top = max(top, 4.0)  # whole numbers on every tick
    return top


def _text(x: float, y: float, content: str, *, size: int = 13, anchor: str = "middle", fill: str = "#333", extra=""):
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" {FONT}{extra}>'
        f"{escape(content)}</text>"
    )


def render_chart(panel: Panel, buckets: Buckets) -> SafeString:
    """The panel as one `<svg>` element (a `data-panel` attribute names it for tests and styles)."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_height
    slot = plot_width / buckets.count
    stacked = [sum(series.values[index] or 0 for series in panel.series) for index in range(buckets.count)] or [0.0]
    top_value = _scale_top(panel, stacked)

    def y_of(value: float) -> float:
        return bottom - plot_height * min(value, top_value) / top_value

    def x_of(index: int) -> float:
        return LEFT + slot * (index + 0.5)

    parts = [
        f'<svg class="ops-chart" data-panel="{escape(panel.key)}" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-label="{escape(panel.title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(panel.title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    # y axis: five ticks with grid lines, and its title
    for step in range(5):
        value = top_value * step / 4
        y = y_of(value)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        parts.append(_text(LEFT - 8, y + 4, _tick_label(value, panel.unit), anchor="end", fill="#555"))
    axis_title = AXIS_TITLES.get(panel.unit, f"{panel.unit} (major units)")
    middle = TOP + plot_height / 2
    parts.append(_text(18, middle, axis_title, fill="#555", extra=f' transform="rotate(-90 18 {middle:.1f})"'))
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#888"/>')
    parts.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#888"/>')
    # x axis: a label per bucket (every other one when there are more than 12), and its title
    every = 1 if buckets.count <= 12 else 2
    for index, label in enumerate(buckets.labels):
        if index % every == 0:
            parts.append(_text(x_of(index), bottom + 18, label, fill="#555"))
    parts.append(_text(LEFT + plot_width / 2, HEIGHT - 10, f"time (UTC), one {_bucket_words(buckets)} per mark"))

    if panel.is_empty:
        parts.append(_text(LEFT + plot_width / 2, middle, panel.empty_message, size=16, fill="#666"))
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()

    # the legend, above the plot
    x = LEFT
    for number, series in enumerate(panel.series):
        colour = PALETTE[number % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="14" width="14" height="14" fill="{colour}"/>')
        parts.append(_text(x + 20, 26, series.name, anchor="start"))
        x += 40 + 8 * len(series.name)

    if panel.kind == "bars":
        parts.extend(_bars(panel, buckets, slot, x_of, y_of, stacked))
    else:
        parts.extend(_lines(panel, buckets, x_of, y_of))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def _bucket_words(buckets: Buckets) -> str:
    minutes = buckets.window.step.total_seconds() / 60
    if minutes < 60:
        return f"{minutes:g} minutes"
    if minutes < 24 * 60:
        return "hour" if minutes == 60 else f"{minutes / 60:g} hours"
    return "day" if minutes == 24 * 60 else f"{minutes / 1440:g} days"


def _bars(panel: Panel, buckets: Buckets, slot: float, x_of, y_of, stacked: Sequence[float]) -> list[str]:
    parts = []
    width = min(slot * 0.6, 60)
    for index in range(buckets.count):
        base = 0.0
        for number, series in enumerate(panel.series):
            value = series.values[index] or 0
            if not value:
                continue
            y_top, y_bottom = y_of(base + value), y_of(base)
            colour = PALETTE[number % len(PALETTE)]
            parts.append(
                f'<rect x="{x_of(index) - width / 2:.1f}" y="{y_top:.1f}" width="{width:.1f}" '
                f'height="{y_bottom - y_top:.1f}" fill="{colour}"><title>{escape(series.name)}: '
                f"{escape(format_value(value, panel.unit))}</title></rect>"
            )
            if len(panel.series) > 1 and y_bottom - y_top >= 16:
                parts.append(
                    _text(
                        x_of(index), (y_top + y_bottom) / 2 + 4, format_value(value, panel.unit), size=11, fill="#fff"
                    )
                )
            base += value
        if stacked[index]:
            parts.append(
                _text(x_of(index), y_of(stacked[index]) - 6, format_value(stacked[index], panel.unit), size=13,
                      extra=' font-weight="600" class="ops-value"')
            )  # fmt: skip
    return parts


def _lines(panel: Panel, buckets: Buckets, x_of, y_of) -> list[str]:
    parts = []
    labelled: dict[int, list[float]] = {}
    for number, series in enumerate(panel.series):
        colour = PALETTE[number % len(PALETTE)]
        run: list[str] = []
        for index, value in enumerate([*series.values, None]):
            if value is None:
                if len(run) > 1:
                    parts.append(
                        f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
                    )
                run = []
                continue
            run.append(f"{x_of(index):.1f},{y_of(value):.1f}")
        for index, value in enumerate(series.values):
            if value is None:
                continue
            x, y = x_of(index), y_of(value)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
            # a second series' label goes below its point when it would sit on the first one's
            taken = labelled.setdefault(index, [])
            label_y = y - 9 if all(abs(y - 9 - other) > 13 for other in taken) else y + 18
            taken.append(label_y)
            parts.append(
                _text(x, label_y, format_value(value, panel.unit), size=13, fill=colour,
                      extra=' font-weight="600" class="ops-value"')
            )  # fmt: skip
    return parts


def chart_table(panel: Panel, buckets: Buckets) -> list[list[str]]:
    """The chart's numbers as rows (bucket label, then a value per series), for the page's "numbers" table."""
    rows = []
    for index, label in enumerate(buckets.labels):
        values = [series.values[index] for series in panel.series]
        if all(value in (None, 0) for value in values):
            continue
        rows.append([label, *("-" if value is None else format_value(value, panel.unit) for value in values)])
    return rows
