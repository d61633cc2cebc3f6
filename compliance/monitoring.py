"""Read logged predictions and outcomes for monitoring, with the heavy lifting in the database.

Fairness needs only confusion counts per group, so one ``GROUP BY`` over the window returns
the whole cube (every combination of the sensitive attributes × decision × outcome, with its
count); each attribute's and each intersection's counts are sums over that cube. Drift reads a
uniform random sample of the inputs (the payload lives in the ledger entry's canonical bytes);
performance reads score and outcome of the predictions whose outcome has arrived.

The outcome of a prediction is its latest outcome record: a correction always comes later.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from django.db import connection

from audit.models import PredictionRecord
from compliance.fairness import GroupCounts

MISSING = "(missing)"


@dataclass(frozen=True)
class Cube:
    """Counts of predictions by (attribute values…, selected, outcome) in a window.

    ``outcome`` is True (the favourable truth), False, or None (not yet known).
    """

    attributes: tuple[str, ...]
    rows: tuple[tuple[tuple[str, ...], bool, bool | None, int], ...]

    @property
    def predictions(self) -> int:
        return sum(count for *_, count in self.rows)

    @property
    def with_outcomes(self) -> int:
        return sum(count for _, _, outcome, count in self.rows if outcome is not None)

    @property
    def selected(self) -> int:
        return sum(count for _, selected, _, count in self.rows if selected)


def _json_text(column: str) -> str:
    """SQL for the text of a JSON value at the path given as the next parameter."""
    if connection.vendor == "postgresql":
        return f"({column} ->> %s)"
    return f"CAST(json_extract({column}, %s) AS TEXT)"


def _bounds(start: dt.datetime, end: dt.datetime) -> list:
    """Datetimes as the backend stores them (raw SQL skips the ORM's conversion)."""
    return [connection.ops.adapt_datetimefield_value(v) for v in (start, end)]


def _json_key(attribute: str) -> str:
    return attribute if connection.vendor == "postgresql" else f'$."{attribute}"'


def prediction_cube(
    version_ids: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
    attributes: Sequence[str],
    favourable_value,
) -> Cube:
    """One GROUP BY over the predictions of ``version_ids`` decided in [start, end)."""
    if not version_ids:
        return Cube(tuple(attributes), ())
    groups = [_json_text('s."values"') for _ in attributes]
    label = (
        "(o.label #>> '{}')"
        if connection.vendor == "postgresql"
        else ("CAST(json_extract(o.label, '$') AS TEXT)")
    )
    columns = ", ".join([*groups, "p.favourable", label])
    placeholders = ", ".join(["%s"] * len(version_ids))
    sql = f"""
        SELECT {columns}, COUNT(*)
        FROM audit_predictionrecord p
        LEFT JOIN audit_sensitiveattributes s ON s.prediction_id = p.id
        LEFT JOIN (
            SELECT prediction_id, MAX(id) AS id FROM audit_outcomerecord GROUP BY prediction_id
        ) latest ON latest.prediction_id = p.id
        LEFT JOIN audit_outcomerecord o ON o.id = latest.id
        WHERE p.version_id IN ({placeholders}) AND p.decided_at >= %s AND p.decided_at < %s
        GROUP BY {", ".join(str(i + 1) for i in range(len(attributes) + 2))}
    """
    params = [_json_key(a) for a in attributes] + list(version_ids) + _bounds(start, end)
    favourable = str(favourable_value)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows = []
    for *values, selected, outcome, count in fetched:
        labels = tuple(MISSING if v is None else str(v) for v in values)
        truth = None if outcome is None else outcome == favourable
        rows.append((labels, bool(selected), truth, int(count)))
    rows.sort(key=lambda r: (r[0], r[1], r[2] is None, r[2] is True))
    return Cube(tuple(attributes), tuple(rows))


def cube_counts(cube: Cube, *, outcomes: bool, intersections: bool = True) -> list[GroupCounts]:
    """Confusion counts per attribute (and per pair of attributes) summed from the cube.

    With ``outcomes`` only predictions whose outcome is known count, with their true cells;
    without, every prediction counts and selected rows are tp, the others tn (selection only).
    """
    subsets = [(i,) for i in range(len(cube.attributes))]
    if intersections:
        subsets += list(combinations(range(len(cube.attributes)), 2))
    result = []
    for subset in subsets:
        cells: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for values, selected, truth, count in cube.rows:
            if outcomes and truth is None:
                continue
            label = " & ".join(f"{cube.attributes[i]}={values[i]}" for i in subset)
            if not outcomes:
                cells[label][0 if selected else 2] += count
            else:
                index = {(True, True): 0, (True, False): 1, (False, False): 2, (False, True): 3}
                cells[label][index[(selected, truth)]] += count
        if not cells:
            continue
        labels = tuple(sorted(cells))
        result.append(
            GroupCounts(
                attribute=" & ".join(cube.attributes[i] for i in subset),
                labels=labels,
                cells=np.array([cells[label] for label in labels], dtype=np.int64),
                outcomes_known=outcomes,
            )
        )
    return result


def _window(version_ids: Sequence[int], start: dt.datetime, end: dt.datetime):
    return PredictionRecord.objects.filter(
        version_id__in=version_ids, decided_at__gte=start, decided_at__lt=end
    )


def sample_inputs(
    version_ids: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
    size: int = 50_000,
    seed: int = 0,
) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """A uniform random sample of inputs and scores in the window: (columns, scores, population).

    Reading the payload means parsing each entry's canonical JSON, so drift uses a sample;
    50,000 rows put the sampling error of a PSI far below its 0.1 and 0.2 bands.
    """
    ids = np.fromiter(_window(version_ids, start, end).values_list("id", flat=True), np.int64)
    population = len(ids)
    if population > size:
        ids = np.sort(np.random.default_rng(seed).choice(ids, size=size, replace=False))
    columns: dict[str, list] = defaultdict(list)
    scores = []
    for chunk in range(0, len(ids), 5000):
        records = PredictionRecord.objects.filter(id__in=ids[chunk : chunk + 5000].tolist())
        for canonical, score in records.values_list("entry__canonical", "score"):
            if not canonical:
                continue  # purged past retention: only its hash is kept
            inputs = json.loads(bytes(canonical))["inputs"]
            for name, value in inputs.items():
                columns[name].append(value)
            scores.append(np.nan if score is None else score)
    arrays = {}
    for name, values in columns.items():
        if len(values) != len(scores):
            continue  # a feature missing from some inputs: schema violations report it
        try:
            arrays[name] = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            arrays[name] = np.asarray([str(v) for v in values])
    return arrays, np.asarray(scores, dtype=np.float64), population


def scored_outcomes(
    version_ids: Sequence[int], start: dt.datetime, end: dt.datetime, favourable_value
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(decided_at as epoch seconds, score, selected, favourable truth) where outcomes arrived."""
    label = (
        "(o.label #>> '{}')"
        if connection.vendor == "postgresql"
        else ("CAST(json_extract(o.label, '$') AS TEXT)")
    )
    placeholders = ", ".join(["%s"] * len(version_ids))
    sql = f"""
        SELECT p.decided_at, p.score, p.favourable, {label}
        FROM audit_predictionrecord p
        JOIN (
            SELECT prediction_id, MAX(id) AS id FROM audit_outcomerecord GROUP BY prediction_id
        ) latest ON latest.prediction_id = p.id
        JOIN audit_outcomerecord o ON o.id = latest.id
        WHERE p.version_id IN ({placeholders}) AND p.decided_at >= %s AND p.decided_at < %s
          AND p.score IS NOT NULL
        ORDER BY p.decided_at
    """
    if not version_ids:
        empty = np.array([])
        return empty, empty, empty.astype(bool), empty.astype(bool)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*version_ids, *_bounds(start, end)])
        rows = cursor.fetchall()
    favourable = str(favourable_value)
    when = np.array([_epoch(r[0]) for r in rows], dtype=np.float64)
    score = np.array([r[1] for r in rows], dtype=np.float64)
    selected = np.array([bool(r[2]) for r in rows], dtype=bool)
    truth = np.array([r[3] == favourable for r in rows], dtype=bool)
    return when, score, selected, truth


def _epoch(value) -> float:
    if isinstance(value, str):  # SQLite through a raw cursor
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()
