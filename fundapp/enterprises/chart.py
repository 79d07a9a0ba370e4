"""A server-rendered SVG bar chart: no JavaScript, no CDN. Bars are stacked, one colour per series.

The geometry is computed with Decimal and printed with one decimal place; the template draws it. The page shows
a table with the same figures after the chart, for screen readers, printing and exact values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from fundapp.money import fmt

PALETTE = ("#0b6e4f", "#2f6fb3", "#b54708", "#7a5af8", "#c11574", "#0e9384", "#667085", "#b42318", "#a15c07",
           "#3e4784")
ONE_PLACE = Decimal("0.1")


def _px(value: Decimal) -> str:
    return str(value.quantize(ONE_PLACE, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Segment:
    x: str
    y: str
    width: str
    height: str
    colour: str
    title: str


@dataclass(frozen=True)
class Label:
    x: str
    y: str
    text: str


@dataclass
class BarChart:
    width: int
    height: int
    plot_left: str
    plot_right: str
    segments: list[Segment] = field(default_factory=list)
    x_labels: list[Label] = field(default_factory=list)
    y_ticks: list[Label] = field(default_factory=list)  # y is both the grid line and the label's baseline
    legend: list[tuple[str, str]] = field(default_factory=list)  # colour, name

    @property
    def empty(self) -> bool:
        return not self.segments


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2 or 5 × 10^k that is at least `value` (the top of the axis)."""
    if value <= 0:
        return Decimal(1)
    step = Decimal(1).scaleb(value.adjusted())
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10  # pragma: no cover - the loop always returns


def stacked_bars(periods: list[str], series: list[tuple[str, list[Decimal]]], *, width: int = 720,
                 height: int = 320) -> BarChart:
    """Bars per period, each stacked from the series' amounts for that period (amounts >= 0)."""
    left, right, top, bottom = Decimal(84), Decimal(12), Decimal(12), Decimal(36)
    plot_w, plot_h = Decimal(width) - left - right, Decimal(height) - top - bottom
    totals = [sum((values[i] for _name, values in series), Decimal(0)) for i in range(len(periods))]
    axis_top = nice_ceiling(max(totals, default=Decimal(0)))
    chart = BarChart(width, height, _px(left), _px(left + plot_w))
    for tick in range(5):
        value = axis_top * tick / 4
        chart.y_ticks.append(Label(_px(left - 6), _px(top + plot_h - plot_h * tick / 4), fmt(value)))
    slot = plot_w / max(len(periods), 1)
    for index, period in enumerate(periods):
        x = left + slot * index + slot * Decimal("0.2")
        chart.x_labels.append(Label(_px(left + slot * index + slot / 2), str(height - 12), period))
        stacked = Decimal(0)
        for number, (name, values) in enumerate(series):
            amount = values[index]
            if amount <= 0:
                continue
            y = top + plot_h - (stacked + amount) / axis_top * plot_h
            chart.segments.append(Segment(_px(x), _px(y), _px(slot * Decimal("0.6")), _px(amount / axis_top * plot_h),
                                          PALETTE[number % len(PALETTE)], f"{name} · {period}: ¥{fmt(amount)}"))
            stacked += amount
    chart.legend = [(PALETTE[n % len(PALETTE)], name) for n, (name, _values) in enumerate(series)]
    return chart
