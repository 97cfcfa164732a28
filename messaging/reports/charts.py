"""Server-side SVG charts: bars and lines with axes, labels and accessible text.

Rendered into the page as inline SVG, so they work with no internet and no
JavaScript. Every chart carries a <title> and <desc> (read by screen readers),
every bar or point a <title> with its exact value, and may link to the list
of records behind it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

Number = int | float | Decimal
_ids = count(1)

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 34, 46
# Colour-blind-safe pair with enough contrast on white and on the dark admin theme.
COLOURS = ("#1f77b4", "#d95f02", "#7570b3")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number]
    links: Sequence[str | None] | None = None


def nice_ticks(top: float, target: int = 4, whole: bool = False) -> list[float]:
    """Round tick values from 0 to at least top (1-2-5 steps; whole numbers for counts)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(1, math.ceil(step))
    return [step * i for i in range(math.ceil(top / step - 1e-9) + 1)]


LABEL_WIDTH = 80  # a day on the x axis, in the one clock's short form


class _Frame:
    """Axes, grid lines and labels shared by both chart kinds."""

    def __init__(
        self,
        title: str,
        labels: Sequence[str],
        series: Sequence[Series],
        fmt: Callable,
        width: int = WIDTH,
    ):
        self.uid = f"chart{next(_ids)}"
        self.title, self.labels, self.series, self.fmt = title, labels, series, fmt
        self.width = width
        top = max((float(v) for s in series for v in s.values), default=0.0)
        whole = all(isinstance(v, int) for s in series for v in s.values)
        self.ticks = nice_ticks(top, whole=whole)
        self.ymax = self.ticks[-1]
        self.plot_w = width - LEFT - RIGHT
        self.plot_h = HEIGHT - TOP - BOTTOM
        self.slot = self.plot_w / max(len(labels), 1)

    def y(self, value: Number) -> float:
        return round(TOP + self.plot_h - float(value) / self.ymax * self.plot_h, 1)

    def x_centre(self, i: int) -> float:
        return round(LEFT + self.slot * (i + 0.5), 1)

    def axes(self) -> list[str]:
        parts = []
        for tick in self.ticks:
            y = self.y(tick)
            parts.append(
                format_html(
                    '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                    '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
                    LEFT,
                    self.width - RIGHT,
                    y,
                    y,
                    LEFT - 6,
                    round(y + 4, 1),
                    self.fmt(tick),
                )
            )
        # Thin out the x labels so they never overlap (about 80 px for "Sun 28 Nov"),
        # counting back from the last one: the latest day is the one people look for.
        every = max(1, math.ceil(len(self.labels) / (self.plot_w / LABEL_WIDTH)))
        last = len(self.labels) - 1
        for i, label in enumerate(self.labels):
            if (last - i) % every == 0:
                parts.append(
                    format_html(
                        '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                        self.x_centre(i),
                        HEIGHT - BOTTOM + 16,
                        label,
                    )
                )
        parts.append(
            format_html(
                '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>',
                LEFT,
                LEFT,
                TOP,
                TOP + self.plot_h,
                LEFT,
                self.width - RIGHT,
                TOP + self.plot_h,
                TOP + self.plot_h,
            )
        )
        return parts

    def legend(self) -> list[str]:
        parts = []
        x = LEFT
        for n, s in enumerate(self.series):
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="12" height="12" fill="{}"/>'
                    '<text class="legend" x="{}" y="{}">{}</text>',
                    x,
                    HEIGHT - 18,
                    COLOURS[n % len(COLOURS)],
                    x + 16,
                    HEIGHT - 8,
                    s.name,
                )
            )
            x += 24 + 8 * len(s.name)
        return parts

    def describe(self) -> str:
        pieces = []
        for s in self.series:
            total = sum((Decimal(str(v)) for v in s.values), Decimal(0))
            pieces.append(f"{s.name}: total {self.fmt(total)}")
        span = f"{self.labels[0]} to {self.labels[-1]}" if self.labels else "no data"
        return f"{', '.join(pieces)}; {span}."

    def wrap(self, body: Sequence[str]) -> SafeString:
        head = format_html(
            '<svg class="ops-chart" viewBox="0 0 {} {}" role="img" '
            'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
            '<text class="chart-title" x="{}" y="20">{}</text>',
            self.width,
            HEIGHT,
            self.uid,
            self.uid,
            self.uid,
            self.title,
            self.uid,
            self.describe(),
            LEFT,
            self.title,
        )
        return mark_safe(head + "".join([*self.axes(), *body, *self.legend()]) + "</svg>")  # noqa: S308 - parts escaped by format_html


def _linked(element: str, link: str | None) -> str:
    if not link:
        return element
    return format_html('<a href="{}">{}</a>', link, mark_safe(element))  # noqa: S308 - element built by format_html


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[Number], str] = str,
    width: int = WIDTH,
) -> SafeString:
    """Grouped bars, one group per label, one bar per series (width: of the drawing)."""
    frame = _Frame(title, labels, series, fmt, width)
    bar_w = frame.slot * 0.8 / max(len(series), 1)
    body = []
    for n, s in enumerate(series):
        for i, value in enumerate(s.values):
            top = frame.y(value)
            x = LEFT + frame.slot * i + frame.slot * 0.1 + bar_w * n
            bar = format_html(
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}" '
                'fill="{}"><title>{}: {} {}</title></rect>',
                round(x, 1),
                top,
                round(max(bar_w - 1, 1), 1),
                round(TOP + frame.plot_h - top, 1),
                COLOURS[n % len(COLOURS)],
                labels[i],
                s.name,
                fmt(value),
            )
            body.append(_linked(bar, s.links[i] if s.links else None))
    return frame.wrap(body)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[Number], str] = str,
) -> SafeString:
    """One line per series with a marked point per label."""
    frame = _Frame(title, labels, series, fmt)
    body = []
    for n, s in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        points = [(frame.x_centre(i), frame.y(v)) for i, v in enumerate(s.values)]
        body.append(
            format_html(
                '<polyline class="line" fill="none" stroke="{}" stroke-width="2" points="{}"/>',
                colour,
                " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
            )
        )
        for i, (x, y) in enumerate(points):
            dot = format_html(
                '<circle class="point" cx="{}" cy="{}" r="3" fill="{}">'
                "<title>{}: {} {}</title></circle>",
                x,
                y,
                colour,
                labels[i],
                s.name,
                fmt(s.values[i]),
            )
            body.append(_linked(dot, s.links[i] if s.links else None))
    return frame.wrap(body)


def money(value: Number) -> str:
    amount = Decimal(str(value))
    sign = "−" if amount < 0 else ""
    amount = abs(amount)
    if amount and amount < 1:
        # Sub-dollar axes (a quiet day) need more than two places to tell ticks apart.
        return f"{sign}${amount:.4f}".rstrip("0").rstrip(".")
    return f"{sign}${amount:,.2f}"


def integer(value: Number) -> str:
    return f"{int(value):,}"
