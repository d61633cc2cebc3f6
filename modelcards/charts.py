"""Charts for the documents as small hand-written SVG: pure functions, data in, markup out.

No plotting library: the output depends on nothing but the numbers (so documents stay
byte-identical), and WeasyPrint draws the vectors crisply at any zoom. Sizes are in CSS pixels
(96 per inch); text uses the documents' sans-serif face.
"""

from __future__ import annotations

import math
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
    interval: tuple[float, float] | None = None  # drawn as a whisker, e.g. a 95% interval


@dataclass(frozen=True)
class Rule:
    """A vertical reference line across a bar chart, e.g. the four-fifths threshold."""

    value: float
    label: str


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def nice_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Evenly spaced round values (steps of 1, 2, 2.5 or 5 times a power of ten) from at or
    below ``low`` to at or above ``high``, at most ``most`` of them."""
    span = high - low if high > low else abs(high) or 1.0
    raw = span / (most - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    start = math.floor(low / step + 1e-9) * step
    count = max(1, math.ceil((high - start) / step - 1e-9))
    return [round(start + i * step, 12) for i in range(count + 1)]


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
    label_width, value_width, row = 190, 110, 20
    top = 34 if rules else 26  # rule labels sit between the title and the bars
    plot = width - label_width - value_width
    values = [b.value for b in bars if b.value is not None] + [r.value for r in rules]
    values += [b.interval[1] for b in bars if b.interval is not None]
    ticks = nice_ticks(0.0, maximum if maximum is not None else max(values + [0.0]) or 1.0)
    top_value = ticks[-1]
    height = top + row * len(bars) + 22
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        _text(0, 14, title, size=11, weight="bold"),
    ]
    for tick in ticks:
        x = label_width + plot * tick / top_value
        parts.append(
            f'<line x1="{_num(x)}" y1="{top - 4}" x2="{_num(x)}" y2="{top + row * len(bars)}" '
            f'stroke="{GRID}" stroke-width="0.6"/>'
        )
        parts.append(
            _text(x, top + row * len(bars) + 12, value_format.format(tick), size=8,
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
        if bar.interval is not None:
            parts.append(_whisker(label_width, plot, top_value, bar.interval, y + row / 2 - 0.5))
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


def _whisker(left: float, plot: float, top_value: float, interval, y: float) -> str:
    """A confidence interval across a bar: a line from low to high with end caps."""
    low, high = (left + plot * min(max(v / top_value, 0.0), 1.0) for v in interval)
    caps = "".join(
        f'<line x1="{_num(x)}" y1="{_num(y - 4)}" x2="{_num(x)}" y2="{_num(y + 4)}" '
        f'stroke="{INK}" stroke-width="1"/>'
        for x in (low, high)
    )
    return (
        f'<line x1="{_num(low)}" y1="{_num(y)}" x2="{_num(high)}" y2="{_num(y)}" '
        f'stroke="{INK}" stroke-width="1"/>{caps}'
    )


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
    ticks = nice_ticks(0.0, max([*baseline, *current, 0.0]) or 1.0, most=5)
    peak = ticks[-1]
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
    for tick in ticks:
        y = top + plot_h - plot_h * tick / peak
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}" '
            f'stroke="{GRID}" stroke-width="0.6"/>'
        )
        parts.append(_text(left - 4, y + 3, f"{tick:.0%}", size=8, anchor="end",
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


@dataclass(frozen=True)
class Series:
    """One line of a line chart: (x, y) points in x order; x is any number, e.g. a timestamp."""

    name: str
    points: Sequence[tuple[float, float]]
    colour: str = COLOURS["ok"]
    dashed: bool = False


@dataclass(frozen=True)
class Level:
    """A horizontal reference line across a line chart, e.g. a metric's validation value."""

    value: float
    label: str
    colour: str = MUTED


SERIES_COLOURS = ("#2f5d8a", "#c08a1e", "#1f7a5a", "#7a4fa3", "#a3312f", "#5b6770")


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_ticks: Sequence[tuple[float, str]] = (),
    value_format: str = "{:.2f}",
    levels: Sequence[Level] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    width: int = 620,
    height: int = 230,
) -> Markup:
    """Lines with a dot per point; the y range covers the points and levels unless given."""
    left, right, bottom = 46, 96, 24
    legend_rows = (len(series) + 2) // 3
    top = 26 + 13 * legend_rows
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points] + [lv.value for lv in levels]
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1.0, x_hi + 1.0
    y_lo = minimum if minimum is not None else min(ys, default=0.0)
    y_hi = maximum if maximum is not None else max(ys, default=1.0)
    if y_hi - y_lo < 1e-9:
        y_lo, y_hi = y_lo - 0.05, y_hi + 0.05
    ticks = nice_ticks(y_lo, y_hi)
    y_lo, y_hi = ticks[0], ticks[-1]

    def px(x: float) -> float:
        return left + plot_w * (x - x_lo) / (x_hi - x_lo)

    def py(y: float) -> float:
        return top + plot_h - plot_h * (min(max(y, y_lo), y_hi) - y_lo) / (y_hi - y_lo)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        _text(0, 14, title, size=11, weight="bold"),
    ]
    for i, s in enumerate(series):
        x, y = left + (i % 3) * 180, 22 + 13 * (i // 3)
        dash = ' stroke-dasharray="4 2"' if s.dashed else ""
        parts.append(
            f'<line x1="{x}" y1="{y + 4}" x2="{x + 18}" y2="{y + 4}" stroke="{s.colour}" '
            f'stroke-width="1.6"{dash}/>'
        )
        parts.append(_text(x + 22, y + 7, s.name, size=8.5))
    for value in ticks:
        y = py(value)
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}" '
            f'stroke="{GRID}" stroke-width="0.6"/>'
        )
        parts.append(_text(left - 4, y + 3, value_format.format(value), size=8, anchor="end",
                           fill=MUTED))  # fmt: skip
    for x, label in x_ticks:
        parts.append(_text(px(x), top + plot_h + 13, label, size=8, anchor="middle", fill=MUTED))
    for level in levels:
        y = py(level.value)
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}" '
            f'stroke="{level.colour}" stroke-width="0.9" stroke-dasharray="1.5 2"/>'
        )
        parts.append(_text(left + plot_w + 4, y + 3, level.label, size=7.5, fill=level.colour))
    for s in series:
        points = [(px(x), py(y)) for x, y in s.points]
        dash = ' stroke-dasharray="4 2"' if s.dashed else ""
        if len(points) > 1:
            path = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{s.colour}" '
                f'stroke-width="1.6"{dash}/>'
            )
        parts += [
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="2.4" fill="{s.colour}"/>' for x, y in points
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


# ------------------------------------------------------------------------ the documents' figures


def selection_rates(attribute: dict, *, title: str | None = None) -> Markup:
    """Selection rate per group of one attribute (rows of ``evidence.group_rows``), with each
    group's confidence interval as a whisker and the four-fifths line of the highest rate."""
    bars = [
        Bar(
            g["label"],
            g["selection_rate"],
            g["four_fifths"] if g["status"] == "ok" else g["status"],
            f"n={g['count']:,}",
            tuple(g["selection_interval"]) if g.get("selection_interval") else None,
        )
        for g in attribute["groups"]
    ]
    rates = [g["selection_rate"] for g in attribute["groups"] if g["status"] == "ok"]
    rules = [Rule(max(rates) * 0.8, "four-fifths of highest")] if rates else []
    return horizontal_bars(
        bars, title=title or f"Selection rate by {attribute['attribute']}", rules=rules,
        maximum=1.0,
    )  # fmt: skip


def psi_by_feature(features: Sequence[dict], *, title: str | None = None) -> Markup:
    """PSI of each feature (and the score) with the 0.1 and 0.2 bands."""
    return horizontal_bars(
        [Bar(f["feature"], f["psi"], f["band"]) for f in features],
        title=title or "Population stability index against the training baseline",
        value_format="{:.3f}",
        rules=[Rule(0.1, "0.1"), Rule(0.2, "0.2")],
        maximum=max([0.25] + [f["psi"] or 0.0 for f in features]),
    )


def score_distribution(score: dict, current: str = "logged predictions") -> Markup:
    """Share of decisions per training decile of the score: baseline against ``current``."""
    bins = [b for b in score["bins"] if b["label"] != "(missing)"]
    return paired_columns(
        [str(i + 1) for i in range(len(bins))],
        [b["baseline"] for b in bins],
        [b["current"] for b in bins],
        title="Score distribution by training decile",
        legend=("training baseline", current),
    )


def calibration(performance: dict, *, title: str = "Calibration on logged outcomes") -> Markup:
    return reliability(
        [
            (b["mean_predicted"] or 0.0, b["observed_rate"] or 0.0, b["count"])
            for b in performance["reliability"]
        ],
        title=title,
    )
