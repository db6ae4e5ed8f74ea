"""Small server-side SVG charts (no JavaScript, no CDN, no inline styles).

Charts use SVG presentation attributes only, so they pass a strict CSP. Each carries a
<title> and <desc> (referenced by aria-labelledby); pages add a data table next to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 360, 210
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 30, 28
AXIS = "#6b7280"
GRID = "#e5e7eb"
TEXT = "#111827"
PALETTE = ("#1d4ed8", "#b45309", "#047857", "#7c3aed")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def nice_ceiling(value: float) -> float:
    """Round up to 1, 2, 2.5 or 5 times a power of ten (axis maximum)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _open(chart_id: str, title: str, desc: str, height: int = HEIGHT) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'font-family="system-ui, sans-serif" font-size="11">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
    ]


def line_chart(chart_id: str, title: str, desc: str, labels: Sequence[str],
               series: Sequence[Series], *, unit: str = "",
               y_range: tuple[float, float] | None = None) -> Markup:
    """Lines over evenly spaced x labels; gaps where a value is None."""
    parts = _open(chart_id, title, desc)
    values = [v for s in series for v in s.values if v is not None]
    low, high = y_range or (0.0, nice_ceiling(max(values, default=0.0)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(len(labels), 1)

    def x(i: int) -> float:
        return LEFT + (plot_w * (i + 0.5) / count)

    def y(v: float) -> float:
        return TOP + plot_h - (v - low) / ((high - low) or 1) * plot_h

    for tick in (low, (low + high) / 2, high):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" '
                     f'fill="{AXIS}">{_fmt(tick)}{escape(unit)}</text>')
    every = max(1, math.ceil(len(labels) / 6))
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
                         f'fill="{AXIS}">{escape(label)}</text>')
    for index, line in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{LEFT + index * 150}" y="8" width="10" height="10" '
                     f'fill="{color}"/>')
        parts.append(f'<text x="{LEFT + index * 150 + 14}" y="17" fill="{TEXT}">'
                     f'{escape(line.name)}</text>')
        run: list[str] = []
        for i, v in enumerate([*line.values, None]):
            if v is not None:
                run.append(f"{x(i):.1f},{y(v):.1f}")
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{color}">'
                             f'<title>{escape(labels[i])}: {_fmt(v)}{escape(unit)}</title>'
                             f'</circle>')
            elif run:
                if len(run) > 1:
                    parts.append(f'<polyline points="{" ".join(run)}" fill="none" '
                                 f'stroke="{color}" stroke-width="2"/>')
                run = []
    if not values:
        parts.append(f'<text x="{WIDTH / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
                     f'fill="{AXIS}">No data in this period</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(chart_id: str, title: str, desc: str,
              bars: Sequence[tuple[str, float]], *, unit: str = "") -> Markup:
    """Horizontal bars, largest first as given, labels left and values right."""
    row, label_w = 24, 120
    height = TOP + max(len(bars), 1) * row + 8
    parts = _open(chart_id, title, desc, height)
    top = nice_ceiling(max((v for _, v in bars), default=0.0))
    span = WIDTH - label_w - RIGHT - 40
    for i, (label, value) in enumerate(bars):
        y = TOP + i * row
        text = label if len(label) <= 18 else label[:17] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" fill="{TEXT}">'
                     f'{escape(text)}</text>')
        width = span * value / top
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{width:.1f}" height="{row - 8}" '
                     f'fill="{PALETTE[0]}"><title>{escape(label)}: {_fmt(value)}'
                     f'{escape(unit)}</title></rect>')
        parts.append(f'<text x="{label_w + width + 4:.1f}" y="{y + 15}" fill="{TEXT}">'
                     f'{_fmt(value)}{escape(unit)}</text>')
    if not bars:
        parts.append(f'<text x="{WIDTH / 2}" y="{TOP + 14}" text-anchor="middle" '
                     f'fill="{AXIS}">No returns in this period</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
