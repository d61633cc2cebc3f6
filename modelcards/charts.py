"""Charts for the documents as small hand-written SVG: pure functions, data in, markup out.

No plotting library: the output depends on nothing but the numbers (so documents stay
byte-identical), and WeasyPrint draws the vectors crisply at any zoom. Sizes are in CSS pixels
(96 per inch); text uses the documents' sans-serif face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = "DejaVu Sans Condensed, DejaVu Sans, sans-serif"
INK, MUTED, GRID = "#1b2a3a", "#5b6770", "#d5dbe0"
COLOURS = {
    "ok": "#2f5d8a",
    "pass": "#2f5d8a",
    "stable": "#2f5d8a",
    "fail": "#a3312f",
    "significant": "#a3312f",
    "moderate": "#c08a1e",
    "insufficient data": "#9aa5ae",
    "undefined": "#9aa5ae",
    "baseline": "#9aa5ae",
    "current": "#2f5d8a",
}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    status: str = "ok"  # picks the colour; see COLOURS
    note: str = ""  # printed after the value, e.g. "n=412"


@dataclass(frozen=True)
class Rule:
    """A vertical reference line across a bar chart, e.g. the four-fifths threshold."""

    value: float
    label: str


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, content: str, *, size=10, anchor="start", fill=INK, weight=None):
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-family="{FONT}" font-size="{size}" '
        f'text-anchor="{anchor}" fill="{fill}"{bold}>{escape(content)}</text>'
    )


def horizontal_bars(
    bars: Sequence[Bar],
    *,
    title: str,
    value_format: str = "{:.1%}",
    rules: Sequence[Rule] = (),
    maximum: float | None = None,
    width: int = 620,
) -> Markup:
    """One horizontal bar per row, the value printed at its end; ``None`` values print n/a."""
    label_width, value_width, row, top = 190, 110, 20, 26
    plot = width - label_width - value_width
    values = [b.value for b in bars if b.value is not None] + [r.value for r in rules]
    top_value = maximum if maximum is not None else max(values + [0.0]) or 1.0
    height = top + row * len(bars) + 22
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        _text(0, 14, title, size=11, weight="bold"),
    ]
    for i in range(5):
        x = label_width + plot * i / 4
        parts.append(
            f'<line x1="{_num(x)}" y1="{top - 4}" x2="{_num(x)}" y2="{top + row * len(bars)}" '
            f'stroke="{GRID}" stroke-width="0.6"/>'
        )
        parts.append(
            _text(x, top + row * len(bars) + 12, value_format.format(top_value * i / 4), size=8,
                  anchor="middle", fill=MUTED)
        )  # fmt: skip
    for i, bar in enumerate(bars):
        y = top + row * i
        parts.append(_text(label_width - 6, y + 13, bar.label, size=9, anchor="end"))
        shown = "n/a" if bar.value is None else value_format.format(bar.value)
        if bar.value is not None:
            length = max(plot * min(bar.value / top_value, 1.0), 0.0)
            colour = COLOURS.get(bar.status, COLOURS["ok"])
            parts.append(
                f'<rect x="{label_width}" y="{y + 3}" width="{_num(length)}" height="{row - 7}" '
                f'fill="{colour}"/>'
            )
        note = f"  {bar.note}" if bar.note else ""
        parts.append(_text(label_width + plot + 6, y + 13, shown + note, size=9))
    for rule in rules:
        x = label_width + plot * min(rule.value / top_value, 1.0)
        parts.append(
            f'<line x1="{_num(x)}" y1="{top - 6}" x2="{_num(x)}" y2="{top + row * len(bars)}" '
            f'stroke="{INK}" stroke-width="1" stroke-dasharray="4 3"/>'
        )
        parts.append(_text(x, top - 8, rule.label, size=8, anchor="middle", fill=INK))
    parts.append("</svg>")
    return Markup("".join(parts))


def paired_columns(
    labels: Sequence[str],
    baseline: Sequence[float],
    current: Sequence[float],
    *,
    title: str,
    legend: tuple[str, str] = ("training baseline", "logged predictions"),
    width: int = 620,
    height: int = 210,
) -> Markup:
    """Two columns per bin (baseline grey, current blue): how a distribution has moved."""
    left, bottom, top = 40, 46, 40
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max([*baseline, *current, 0.0]) or 1.0
    slot = plot_w / max(len(labels), 1)
    column = slot * 0.36
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        _text(0, 14, title, size=11, weight="bold"),
    ]
    for i, name in enumerate(legend):
        x = left + i * 170
        colour = COLOURS["baseline" if i == 0 else "current"]
        parts.append(f'<rect x="{x}" y="21" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(x + 14, 30, name, size=9))
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}" '
            f'stroke="{GRID}" stroke-width="0.6"/>'
        )
        parts.append(_text(left - 4, y + 3, f"{peak * i / 4:.0%}", size=8, anchor="end",
                           fill=MUTED))  # fmt: skip
    for i, label in enumerate(labels):
        x = left + slot * i + slot / 2
        for offset, value, key in ((-column, baseline[i], "baseline"), (0, current[i], "current")):
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{_num(x + offset)}" y="{_num(top + plot_h - h)}" '
                f'width="{_num(column)}" height="{_num(h)}" fill="{COLOURS[key]}"/>'
            )
        parts.append(_text(x, top + plot_h + 12, label, size=7, anchor="middle", fill=MUTED))
    parts.append("</svg>")
    return Markup("".join(parts))


def reliability(bins: Sequence[tuple[float, float, int]], *, title: str, size: int = 260) -> Markup:
    """Calibration: mean predicted probability against the observed rate per bin, with the
    diagonal of perfect calibration. ``bins`` are (mean predicted, observed rate, count)."""
    pad, plot = 36, size - 52
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" role="img">',
        _text(0, 14, title, size=11, weight="bold"),
    ]
    x0, y0 = pad, 22 + plot
    for i in range(5):
        t = i / 4
        parts.append(
            f'<line x1="{_num(x0 + plot * t)}" y1="22" x2="{_num(x0 + plot * t)}" y2="{y0}" '
            f'stroke="{GRID}" stroke-width="0.6"/>'
            f'<line x1="{x0}" y1="{_num(y0 - plot * t)}" x2="{x0 + plot}" '
            f'y2="{_num(y0 - plot * t)}" stroke="{GRID}" stroke-width="0.6"/>'
        )
        parts.append(_text(x0 + plot * t, y0 + 11, f"{t:.2f}", size=7, anchor="middle",
                           fill=MUTED))  # fmt: skip
        parts.append(_text(x0 - 3, y0 - plot * t + 3, f"{t:.2f}", size=7, anchor="end",
                           fill=MUTED))  # fmt: skip
    parts.append(
        f'<line x1="{x0}" y1="{y0}" x2="{x0 + plot}" y2="22" stroke="{MUTED}" '
        f'stroke-width="0.8" stroke-dasharray="3 3"/>'
    )
    points = [(x0 + plot * p, y0 - plot * o) for p, o, n in bins if n]
    if points:
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{COLOURS["ok"]}" stroke-width="1.5"/>'
        )
        parts += [
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="2.5" fill="{COLOURS["ok"]}"/>'
            for x, y in points
        ]
    parts.append(_text(x0 + plot / 2, size - 4, "mean predicted probability", size=8,
                       anchor="middle", fill=MUTED))  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))
