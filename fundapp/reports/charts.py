"""Server-side SVG charts for the annual report: plain strings, no JavaScript, no external files.

Each chart is drawn from Decimal figures (scaled to floats only for the drawing, never for a printed figure) and
is printed with a table of the same figures beside it (the table is the accessible alternative; the SVG carries
a <title> and role="img"). Labels are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from markupsafe import Markup

from fundapp.donations.pdf import money_text

COLOURS = ("#0b6e4f", "#c2410c", "#1d4ed8", "#a16207", "#7c3aed", "#0f766e", "#be123c", "#4d7c0f")
FONT = 'font-family="WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif"'


def _scale(values: Sequence[Decimal]) -> Decimal:
    top = max((abs(v) for v in values), default=Decimal(0))
    return top if top > 0 else Decimal(1)


TENTH = Decimal("0.1")


def bar_chart(title: str, labels: Sequence[str], values: Sequence[Decimal], *, width: int = 640) -> Markup:
    """Horizontal bars, one per label, with the amount at the end of each bar."""
    row, label_w, pad = 22, 200, 8
    height = max(1, len(labels)) * row + 2 * pad
    top = _scale(values)
    bar_room = width - label_w - 110
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" {FONT} font-size="10"><title>{escape(title)}</title>']
    if not labels:
        parts.append(f'<text x="{pad}" y="{pad + 12}" fill="#777">—</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = pad + i * row
        length = (abs(value) / top * bar_room).quantize(TENTH)  # SVG units, from Decimal: no float near money
        colour = COLOURS[i % len(COLOURS)] if value >= 0 else "#b42318"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(label[:28])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + length + 4:.1f}" y="{y + 14}">{escape(money_text(value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def monthly_chart(title: str, labels: Sequence[str], first: Sequence[Decimal], second: Sequence[Decimal],
                  names: tuple[str, str], *, width: int = 640, height: int = 220) -> Markup:
    """Two bars per month (income, spending) on a common scale, with a legend."""
    left, bottom, top_pad = 40, 24, 26
    plot_h = height - bottom - top_pad
    top = _scale([*first, *second])
    slot = Decimal(width - left - 10) / max(1, len(labels))
    bar = slot * Decimal("0.36")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" {FONT} font-size="9"><title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" stroke="#999"/>']
    for n, (name, colour) in enumerate(zip(names, COLOURS[:2], strict=True)):
        x = left + n * 120
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="15">{escape(name)}</text>')
    for i, label in enumerate(labels):
        x0 = left + i * slot + slot * Decimal("0.14")
        for k, (series, colour) in enumerate(((first, COLOURS[0]), (second, COLOURS[1]))):
            value = max(Decimal(0), series[i])
            h = (value / top * plot_h).quantize(TENTH)
            parts.append(f'<rect x="{x0 + k * bar:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - 8}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
