"""Monitoring reads from the ledger: the database's GROUP BY cube equals counting by hand."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pytest

from audit.ingest import ingest_outcomes, ingest_predictions
from compliance.fairness import group_counts
from compliance.monitoring import cube_counts, prediction_cube, sample_inputs, scored_outcomes

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@pytest.fixture
def logged(version):
    rng = np.random.default_rng(5)
    n = 400
    sex = rng.choice(["F", "M"], n)
    band = rng.choice(["18-24", "25-39", "60+"], n)
    selected = rng.random(n) < np.where(sex == "F", 0.4, 0.6)
    truth = rng.random(n) < 0.7
    known = rng.random(n) < 0.75
    items, outcomes = [], []
    for i in range(n):
        event_id = str(uuid.uuid4())
        items.append(
            {
                "event_id": event_id,
                "model": "credit-scoring",
                "version": "1.0.0",
                "decided_at": (START + dt.timedelta(hours=i)).isoformat(),
                "inputs": {"income": float(rng.normal(50, 10)), "age": int(rng.integers(18, 80))},
                "output": {"score": float(rng.random()), "decision": int(selected[i])},
                "sensitive": {"sex": str(sex[i]), "age_band": str(band[i])},
            }
        )
        if known[i]:
            wrong = {
                "outcome_id": str(uuid.uuid4()),
                "event_id": event_id,
                "outcome": {"label": int(not truth[i])},
                "observed_at": END.isoformat(),
            }
            outcomes.append(wrong)
            outcomes.append(
                {
                    "outcome_id": str(uuid.uuid4()),
                    "event_id": event_id,
                    "outcome": {"label": int(truth[i])},
                    "observed_at": END.isoformat(),
                    "corrects": wrong["outcome_id"],
                }
            )
    ingest_predictions(items)
    ingest_outcomes(outcomes)
    return version, sex, band, selected, truth, known


def by_attribute(counts):
    return {c.attribute: (c.labels, c.cells.tolist()) for c in counts}


def test_the_cube_gives_the_same_confusion_counts_as_the_arrays(logged):
    version, sex, band, selected, truth, known = logged
    cube = prediction_cube([version.pk], START, END, ["sex", "age_band"], favourable_value=1)
    assert cube.predictions == 400 and cube.with_outcomes == known.sum()

    ours = by_attribute(cube_counts(cube, outcomes=True))
    expected = group_counts(
        truth[known], selected[known], {"sex": sex[known], "age_band": band[known]}
    )
    assert ours == by_attribute(expected)


def test_selection_counts_use_every_prediction(logged):
    version, sex, band, selected, *_ = logged
    cube = prediction_cube([version.pk], START, END, ["sex"], favourable_value=1)
    (counts,) = cube_counts(cube, outcomes=False, intersections=False)
    assert counts.labels == ("sex=F", "sex=M")
    for label, row in zip(counts.labels, counts.cells, strict=True):
        mask = sex == label[-1]
        assert (row[0], row[2]) == (selected[mask].sum(), (~selected[mask]).sum())


def test_a_missing_attribute_is_its_own_group(logged):
    version = logged[0]
    cube = prediction_cube([version.pk], START, END, ["region"], favourable_value=1)
    assert {values for values, *_ in cube.rows} == {("(missing)",)}


def test_the_window_bounds_what_is_counted(logged):
    version = logged[0]
    cube = prediction_cube([version.pk], START, START + dt.timedelta(hours=10), ["sex"], 1)
    assert cube.predictions == 10


def test_a_sample_of_inputs_and_scores_is_drawn_from_the_window(logged):
    version = logged[0]
    columns, scores, population = sample_inputs([version.pk], START, END, size=100)
    assert population == 400 and len(scores) == 100
    assert set(columns) == {"income", "age"} and len(columns["income"]) == 100


def test_scored_outcomes_use_the_correction(logged):
    version, _, _, selected, truth, known = logged
    when, score, chosen, outcome = scored_outcomes([version.pk], START, END, favourable_value=1)
    assert len(score) == known.sum()
    assert (outcome == truth[known]).all() and (chosen == selected[known]).all()
    assert (np.diff(when) >= 0).all()
