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
