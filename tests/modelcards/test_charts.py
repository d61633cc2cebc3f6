"""SVG charts are pure functions: well-formed, escaped, deterministic."""

from __future__ import annotations

from xml.etree import ElementTree

from modelcards import charts


def parse(svg) -> ElementTree.Element:
    return ElementTree.fromstring(str(svg))


def test_a_bar_chart_draws_one_bar_per_value_and_prints_n_a_for_none():
    svg = charts.horizontal_bars(
        [charts.Bar("sex=F", 0.5), charts.Bar("sex=M", None, "insufficient data")],
        title="Selection rate",
        rules=[charts.Rule(0.4, "four-fifths")],
    )
    root = parse(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "sex=F" in texts and "n/a" in texts and "50.0%" in texts
    assert len(list(root.iter("{http://www.w3.org/2000/svg}rect"))) == 1


def test_labels_are_escaped():
    svg = charts.horizontal_bars([charts.Bar("<script>&", 1.0)], title="t")
    texts = [t.text for t in parse(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "<script>&" in texts


def test_the_same_numbers_give_the_same_markup():
    def draw():
        return charts.paired_columns(["1", "2"], [0.5, 0.5], [0.4, 0.6], title="Score")

    assert str(draw()) == str(draw())
    parse(draw())
    parse(charts.reliability([(0.1, 0.12, 10), (0.5, 0.0, 0)], title="Calibration"))


def test_a_bar_with_an_interval_gets_a_whisker_inside_the_plot():
    svg = charts.horizontal_bars(
        [charts.Bar("sex=F", 0.5, interval=(0.4, 0.6)), charts.Bar("sex=M", 0.7)],
        title="Selection rate",
        maximum=1.0,
    )
    lines = list(parse(svg).iter("{http://www.w3.org/2000/svg}line"))
    whisker = [
        ln for ln in lines if ln.get("y1") == ln.get("y2") and ln.get("stroke") == charts.INK
    ]
    assert len(whisker) == 1  # the interval; its two caps are vertical
    assert float(whisker[0].get("x1")) < float(whisker[0].get("x2"))


def test_a_line_chart_draws_each_series_and_its_levels():
    svg = charts.line_chart(
        [
            charts.Series("accuracy", [(1.0, 0.8), (2.0, 0.78), (3.0, 0.7)]),
            charts.Series("ROC AUC", [(1.0, 0.85)], dashed=True),
        ],
        title="Performance",
        x_ticks=[(1.0, "2026-06-01"), (3.0, "2026-06-03")],
        levels=[charts.Level(0.81, "validation")],
    )
    root = parse(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"accuracy", "ROC AUC", "validation", "2026-06-01"} <= set(texts)
    assert len(list(root.iter("{http://www.w3.org/2000/svg}polyline"))) == 1  # one point: no line
    assert len(list(root.iter("{http://www.w3.org/2000/svg}circle"))) == 4
