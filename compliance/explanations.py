"""Explanations of logged predictions: computed in the background, read by the trail, reason
codes, global importance and the documents.

A prediction logged with an explanation keeps the one it was sent with. One logged without,
for a version whose artifact was uploaded, is explained here, never in ingest: the explainer
(``run_explainer`` on the embedded default, the ``attest.explain_pending`` Celery task in
production) takes the version's predictions that the sequencer has sealed and it has not yet
seen, in batches (SHAP over 1,000 rows at once costs little more than over one), and appends
one ``explanation`` ledger entry per prediction naming the prediction's entry, leaf index and
leaf hash. Sealed entries have final ids (see ``audit.sequencer``), so a watermark per version
is exact: nothing that commits late is skipped, and the query is a range scan of new entries.

Each explanation records whether it adds up (contributions + base value = model output in its
output space, within ``explain.tolerance``); one that does not is flagged and raises an
``explanation_mismatch`` alert.

SHAP, canonical JSON and hashing run outside any transaction. The writes are short
transactions of ``WRITE_CHUNK`` entries, each taking the version's progress row and re-checking
its watermark (another explainer may have got there first), so ingest never waits for SHAP, on
SQLite's single writer either, and never queues long behind the sequencer, which waits for
every ledger writer in flight. Several explainers may run at once (Celery workers): each
prediction is still explained once; they work in parallel on different versions.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from audit import sequencer
from audit.ledger import iso, new_entry, raise_alert
from audit.models import (
    Alert,
    EntryKind,
    ExplainerProgress,
    ExplanationRecord,
    LedgerEntry,
    PredictionRecord,
    SequencerState,
)
from audit.projections import explanation_columns
from compliance import artifacts, explain
from compliance.models import ModelArtifact, ModelVersion

log = logging.getLogger(__name__)

EXPLAIN_BATCH = 1000
ID_WINDOW = 20_000  # entry ids a read covers at most (or 20 x the batch, if more)
WRITE_CHUNK = 250  # explanations appended per transaction
IMPORTANCE_SAMPLE = 50_000

# Appends a chunk of explanations (``_write``'s signature); None if another explainer was first.
Writer = Callable[..., "Round | None"]


# ---------------------------------------------------------------------------- computing


@dataclass
class Round:
    """What one pass of the explainer did."""

    explained: int = 0
    unexplainable: int = 0
    logged: int = 0  # predictions that came with their own explanation
    mismatches: int = 0
    more: bool = False  # some version has more sealed predictions waiting

    def add(self, other: Round) -> None:
        self.explained += other.explained
        self.unexplainable += other.unexplainable
        self.logged += other.logged
        self.mismatches += other.mismatches
        self.more = self.more or other.more

    @property
    def entries(self) -> int:
        return self.explained + self.unexplainable


def sealed_up_to() -> int:
    """The id of the last entry the sequencer has sealed (every smaller id is final)."""
    return SequencerState.objects.filter(pk=1).values_list("watermark_id", flat=True).first() or 0


def explain_pending(batch: int = EXPLAIN_BATCH, write: Writer | None = None) -> Round:
    """Explain up to ``batch`` sealed predictions of each version with an artifact that the
    explainer has not seen yet (those logged with an explanation are passed over).

    ``write`` runs each write transaction (``_write``); ``run_forever`` hands them to a thread
    at normal priority."""
    limit = sealed_up_to()
    result = Round()
    waiting = (
        ExplainerProgress.objects.filter(watermark_id__lt=limit)
        .select_related("version__model")
        .order_by("version_id")
    )
    for progress in waiting:
        try:
            result.add(_explain_version(progress, limit, batch, write or _write))
        except Exception:
            log.exception("Explaining the predictions of %s failed; retrying", progress.version)
    return result


def explain_all(batch: int = EXPLAIN_BATCH, max_seconds: float | None = None) -> Round:
    """Explain everything sealed now (or for ``max_seconds``)."""
    started = time.monotonic()
    total = Round()
    while True:
        step = explain_pending(batch)
        total.add(step)
        total.more = step.more
        if not step.more or (max_seconds and time.monotonic() - started > max_seconds):
            return total


def lower_priority(priority: str) -> str:
    """Lower the calling thread's CPU priority so that ingest on the same machine comes first:
    "idle" is Linux's idle scheduling class (CPU only when nothing else wants it; nice 19
    elsewhere), "low" is nice 10, "normal" leaves it. Says what it did."""
    if priority == "idle" and hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return "idle scheduling class"
    if priority in ("idle", "low"):
        step = 19 if priority == "idle" else 10
        os.nice(step)
        return f"nice {step}"
    return "normal priority"


class PriorityWriter:
    """Runs the explainer's write transactions in a thread that keeps normal priority, while
    the thread that reads, computes SHAP and builds entries runs at low priority.

    Every ledger writer holds the ledger's write lock (shared) and the sequencer queues for it
    exclusively, with ingest queuing behind the sequencer: a writer starved of CPU in the middle
    of its transaction would stall them all. The two threads take turns (the computing thread
    waits for each write), so they never contend for the GIL either.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="explainer-writer")
        self._pool.submit(lambda: None).result()  # start the thread before priority drops

    def __call__(self, *args: Any) -> Round | None:
        return self._pool.submit(self._write, *args).result()

    @staticmethod
    def _write(*args: Any) -> Round | None:
        try:
            return _write(*args)
        except Exception:
            connection.close()  # this thread's connection
            raise

    def close(self) -> None:
        self._pool.submit(lambda: connection.close()).result()  # the writer's connection
        self._pool.shutdown()


def run_forever(
    interval: float = 1.0,
    stop_after: float | None = None,
    batch: int = EXPLAIN_BATCH,
    priority: str = "normal",
) -> None:
    """Explain new sealed predictions every ``interval`` seconds, for ever (or ``stop_after``),
    computing at ``priority`` (see ``lower_priority``) and writing at normal priority."""
    writer = PriorityWriter() if priority != "normal" else None
    said = lower_priority(priority)
    log.info("Explainer computing at %s", said)
    started = time.monotonic()
    try:
        while stop_after is None or time.monotonic() - started < stop_after:
            try:
                step = explain_pending(batch, writer)
            except Exception:
                log.exception("Explainer round failed; retrying")
                connection.close()
                time.sleep(interval)
                continue
            if step.entries:
                log.info(
                    "Explained %d predictions (%d unexplainable, %d did not add up)",
                    step.explained,
                    step.unexplainable,
                    step.mismatches,
                )
            if not step.more:
                time.sleep(interval)
    finally:
        if writer is not None:
            writer.close()


def favourable_sign(version: ModelVersion, explainer: explain.ModelExplainer) -> int:
    """+1 when a positive contribution favours the subject, -1 when it counts against them.

    A classifier's contributions push towards its positive class, so its classes decide:
    -1 when the positive class is the unfavourable outcome. A model without classes (a
    regressor, a raw risk score) is read as its version declares its score (``score_of``).
    """
    if explainer.negative_class is None:
        return version.score_direction.direction
    if _same(version.model.favourable_value, explainer.negative_class):
        return -1
    return 1


def _same(a: Any, b: Any) -> bool:
    return a == b or str(a) == str(b)


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


@dataclass
class _Written:
    """One prediction of a batch: its entry id and what the explainer made of it."""

    entry_id: int
    entry: LedgerEntry | None = None  # None: it came with its own explanation
    record: ExplanationRecord | None = None
    mismatch: bool = False


def _explain_version(
    progress: ExplainerProgress, limit: int, batch: int, write: Writer | None = None
) -> Round:
    version = progress.version
    # Bounded id ranges keep each read an index range scan, however long the backlog; ranges
    # without a prediction of this version (sealed, so final) are passed over.
    window = max(ID_WINDOW, 20 * batch)
    lower = progress.watermark_id
    while True:
        upper = min(limit, lower + window)
        rows = list(
            PredictionRecord.objects.filter(
                version=version, entry_id__gt=lower, entry_id__lte=upper
            )
            .order_by("entry_id")
            .values_list(
                "id",
                "entry_id",
                "event_id",
                "decided_at",
                "entry__canonical",
                "entry__leaf_hash",
                "entry__leaf__index",
            )[:batch]
        )
        if rows or upper >= limit:
            break
        lower = upper
    full = len(rows) == batch
    end = rows[-1][1] if full else upper
    written = _compute(version, rows)
    result = Round(more=full or upper < limit)
    # Short transactions: every ledger writer holds the ledger's write lock (shared), and the
    # sequencer queues for it exclusively; a long write here would hold up ingest behind it.
    for first in range(0, max(len(written), 1), WRITE_CHUNK):
        chunk = written[first : first + WRITE_CHUNK]
        last = first + WRITE_CHUNK >= len(written)
        done = (write or _write)(progress, version, chunk, end if last else chunk[-1].entry_id)
        if done is None:
            break  # another explainer got there first; it carries on from here
        result.add(done)
    return result


def _compute(version: ModelVersion, rows: list[tuple]) -> list[_Written]:
    """Explain the rows that came without an explanation (SHAP for all of them at once) and
    build their ledger entries and records, all outside any transaction."""
    # A payload purged past retention (empty bytes) has no inputs left to explain.
    payloads = [json.loads(bytes(row[4]) or b'{"inputs":{}}') for row in rows]
    written = [_Written(row[1]) for row in rows]
    todo = [i for i, p in enumerate(payloads) if p.get("explanation") is None]
    if not todo:
        return written
    artifact = ModelArtifact.objects.defer("content").get(version=version)
    explainer = artifacts.explainer_for(artifact)
    X, problems = explain.input_matrix([payloads[i]["inputs"] for i in todo], explainer.features)
    ok = [n for n, problem in enumerate(problems) if problem is None]
    done = explainer.explain(X[ok])
    position = {n: k for k, n in enumerate(ok)}
    values, base_values, outputs = done.values.tolist(), done.base_values, done.outputs
    errors, holding = done.additivity_errors.tolist(), done.additive.tolist()
    now = timezone.now()
    sign = favourable_sign(version, explainer)
    common = {
        "model": version.model.slug,
        "version": version.label,
        "version_manifest_sha256": version.manifest_sha256,
        "artifact_sha256": artifact.sha256,
        "explainer": {
            **explainer.describe(),
            "background_sha256": artifact.background_sha256,
            "background_rows": len(artifact.background),
            "additivity_tolerance": explain.TOLERANCE,
        },
        "computed_at": iso(now),
    }
    for n, i in enumerate(todo):
        pk, entry_id, event_id, decided_at, _, leaf_hash, leaf_index = rows[i]
        payload: dict[str, Any] = {
            "event_id": str(event_id),
            "prediction": {
                "entry_id": entry_id,
                "leaf_index": leaf_index,
                "leaf_hash": bytes(leaf_hash).hex(),
            },
            **common,
        }
        problem = problems[n]
        if problem is None:
            k = position[n]
            base, output, error = float(base_values[k]), float(outputs[k]), errors[k]
            if not _finite(base, output, error, *values[k]):
                problem = "the model or SHAP gave a value that is not a finite number"
        if problem is None:
            payload.update(
                status=ExplanationRecord.Status.COMPUTED.value,
                base_value=base,
                model_output=output,
                contributions=dict(zip(explainer.features, values[k], strict=True)),
                # |base + sum - output|, to 1e-12: float noise reads as 0
                additivity={"error": round(error, 12), "holds": holding[k]},
                favourable_value=version.model.favourable_value,
                favourable_sign=sign,
            )
            written[i].mismatch = not holding[k]
        else:
            payload.update(status=ExplanationRecord.Status.UNEXPLAINABLE.value, reason=problem)
        # The record's columns by the rule the verifiers rebuild them with.
        columns = explanation_columns(payload, version.pk)
        record = ExplanationRecord(
            prediction_id=pk,
            version=version,
            decided_at=decided_at,
            computed_at=now,
            **{
                name: columns[name]
                for name in (
                    "status", "method", "output_space", "base_value", "model_output",
                    "contributions", "additivity_error", "additive", "note",
                )
            },
        )  # fmt: skip
        # The plain string: an enum member would send canonical_json down its slow path.
        written[i].entry = new_entry(EntryKind.EXPLANATION.value, payload, now)
        written[i].record = record
    return written


def _write(
    progress: ExplainerProgress, version: ModelVersion, chunk: list[_Written], watermark: int
) -> Round | None:
    """Append a chunk's entries and records and move the watermark, in one transaction; None
    if another explainer moved the watermark first."""
    entries = [w.entry for w in chunk if w.entry is not None]
    records = [w.record for w in chunk if w.record is not None]
    done = Round(
        explained=sum(r.status == ExplanationRecord.Status.COMPUTED for r in records),
        unexplainable=sum(r.status == ExplanationRecord.Status.UNEXPLAINABLE for r in records),
        logged=len(chunk) - len(records),
        mismatches=sum(w.mismatch for w in chunk),
    )
    with transaction.atomic():
        locked = ExplainerProgress.objects.select_for_update().get(pk=progress.pk)
        if locked.watermark_id != progress.watermark_id:
            return None
        if entries:
            LedgerEntry.objects.bulk_create(entries)
            for entry, record in zip(entries, records, strict=True):
                record.entry = entry
            ExplanationRecord.objects.bulk_create(records)
        locked.watermark_id = watermark
        locked.explained += done.explained
        locked.unexplainable += done.unexplainable
        locked.logged_with_explanation += done.logged
        locked.mismatches += done.mismatches
        locked.save()
        if done.mismatches:
            worst = max(w.record.additivity_error for w in chunk if w.mismatch)
            raise_alert(
                Alert.Kind.EXPLANATION_MISMATCH,
                model=version.model,
                version=version,
                message=f"{done.mismatches} explanations of {version} do not add up to the "
                f"model's output (largest error {worst:.3g}); they are flagged in the ledger. "
                "Check the artifact and the explainer before relying on their reason codes.",
                occurrences=done.mismatches,
            )
    progress.watermark_id = watermark
    return done


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Explanation:
    """The explanation of one prediction: the one it was logged with, or the one computed."""

    source: str  # "logged" or "computed"
    status: str  # "logged", "computed" or "unexplainable"
    contributions: dict[str, float] = field(default_factory=dict)
    favourable_sign: int = 1
    base_value: float | None = None
    model_output: float | None = None
    output_space: str = ""
    method: str = ""
    additive: bool | None = None
    additivity_error: float | None = None
    note: str = ""
    entry_id: int | None = None
    computed_at: dt.datetime | None = None
    entry: LedgerEntry | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "status": self.status,
            "method": self.method,
            "output_space": self.output_space,
            "base_value": self.base_value,
            "model_output": self.model_output,
            "contributions": self.contributions,
            "additive": self.additive,
            "additivity_error": self.additivity_error,
            "favourable_sign": self.favourable_sign,
            "note": self.note,
            "entry_id": self.entry_id,
            "computed_at": iso(self.computed_at) if self.computed_at else None,
        }


def _numbers(mapping: Any) -> dict[str, float]:
    if not isinstance(mapping, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in mapping.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def logged_explanation(explanation: Any, favourable_sign: int = 1) -> Explanation | None:
    """An explanation as the service sent it: a flat object of feature -> contribution, or an
    object with ``contributions`` (and optionally ``base_value`` and ``output_space``).
    Contributions are to the logged score, so ``favourable_sign`` is the direction the
    version declares for it: -1 for a risk score, where a positive contribution counts
    against the subject."""
    if not isinstance(explanation, dict) or not explanation:
        return None
    nested = explanation.get("contributions")
    contributions = _numbers(nested) if isinstance(nested, dict) else _numbers(explanation)
    base = explanation.get("base_value") if isinstance(nested, dict) else None
    return Explanation(
        source="logged",
        status="logged",
        contributions=contributions,
        favourable_sign=favourable_sign,
        base_value=float(base) if isinstance(base, int | float) else None,
        output_space=str(explanation.get("output_space", "")) if isinstance(nested, dict) else "",
        note="" if contributions else "The explanation logged is not in a recognised form.",
    )


def computed_explanation(
    record: PredictionRecord, as_of: dt.datetime | None = None
) -> Explanation | None:
    computed = ExplanationRecord.objects.filter(prediction=record)
    if as_of is not None:
        computed = computed.filter(computed_at__lte=as_of)
    found = computed.select_related("entry").first()
    if found is None:
        return None
    sign = 1
    if found.status == ExplanationRecord.Status.COMPUTED:
        sign = json.loads(bytes(found.entry.canonical)).get("favourable_sign", 1)
    return Explanation(
        source="computed",
        status=found.status,
        contributions=found.contributions or {},
        favourable_sign=sign,
        base_value=found.base_value,
        model_output=found.model_output,
        output_space=found.output_space,
        method=found.method,
        additive=found.additive,
        additivity_error=found.additivity_error,
        note=found.note,
        entry_id=found.entry_id,
        computed_at=found.computed_at,
        entry=found.entry,
    )


def explanation_of(
    record: PredictionRecord,
    as_of: dt.datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> Explanation | None:
    """The prediction's explanation: as logged if it came with one, else as computed (by
    ``as_of``, if given), else None."""
    payload = payload if payload is not None else record.entry.payload() or {}
    sign = record.version.score_direction.direction
    logged = logged_explanation(payload.get("explanation"), sign)
    return logged or computed_explanation(record, as_of)


def reason_codes(
    record: PredictionRecord, k: int = 4, *, as_of: dt.datetime | None = None
) -> list[explain.ReasonCode]:
    """The ``k`` principal reasons that pushed this decision towards the unfavourable outcome
    (what an adverse-action notice states), strongest first, in the words of the version's
    input schema titles, with the applicant's values. Empty when there is no explanation (or
    none computed by ``as_of``) or nothing pushed against the subject.

    >>> [r.text for r in reason_codes(record)]  # doctest: +SKIP
    ['Number of past delinquencies: 3', 'Debt-to-income ratio: 0.92']
    """
    payload = record.entry.payload() or {}  # {} once purged past retention
    return _reasons(record, explanation_of(record, as_of, payload), payload, k)


def _reasons(
    record: PredictionRecord, explanation: Explanation | None, payload: dict[str, Any], k: int
) -> list[explain.ReasonCode]:
    if explanation is None or not explanation.contributions:
        return []
    return explain.rank_reasons(
        explanation.contributions,
        labels=explain.schema_labels(record.version.input_schema),
        values=payload.get("inputs") or {},
        favourable_sign=explanation.favourable_sign,
        k=k,
    )


def trail_explanation(
    record: PredictionRecord, payload: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The trail's view: (the explanation, its reason codes). The explanation is "pending"
    while the explainer has yet to reach the prediction, None when there is none and none
    will come; a computed one carries the receipt of its own ledger entry."""
    explanation = explanation_of(record, payload=payload)
    if explanation is None:
        if ModelArtifact.objects.filter(version_id=record.version_id).exists():
            return {"source": "computed", "status": "pending"}, []
        return None, []
    body = explanation.to_dict()
    if explanation.entry is not None:
        body["leaf_hash"] = explanation.entry.leaf_hash_hex
        body["receipt"] = sequencer.receipt(explanation.entry) or {"status": "pending"}
    return body, [r.to_dict() for r in _reasons(record, explanation, payload, k=4)]


# ---------------------------------------------------------------------------- importance


def global_importance(
    version: ModelVersion,
    start: dt.datetime,
    end: dt.datetime,
    *,
    sample: int = IMPORTANCE_SAMPLE,
    seed: int = 0,
) -> tuple[explain.Importance, int]:
    """Mean |SHAP| per feature over (a uniform sample of) the version's computed explanations
    of predictions decided in [start, end); also how many there were in all."""
    computed = ExplanationRecord.objects.filter(
        version=version,
        status=ExplanationRecord.Status.COMPUTED,
        decided_at__gte=start,
        decided_at__lt=end,
    )
    features = _features(version)
    if not features:  # no artifact: nothing was computed
        return explain.Importance(0, ()), 0
    ids = np.fromiter(computed.values_list("id", flat=True), np.int64)
    population = len(ids)
    if population > sample:
        ids = np.sort(np.random.default_rng(seed).choice(ids, size=sample, replace=False))
    rows = []
    for chunk in range(0, len(ids), 5000):
        part = ExplanationRecord.objects.filter(id__in=ids[chunk : chunk + 5000].tolist())
        for contributions in part.values_list("contributions", flat=True):
            rows.append([contributions.get(f, np.nan) for f in features])
    matrix = np.asarray(rows, dtype=np.float64).reshape(-1, len(features))
    return explain.importance(matrix, features), population


def _features(version: ModelVersion) -> list[str]:
    artifact = ModelArtifact.objects.filter(version=version).values_list("features", flat=True)
    return list(artifact.first() or [])


def baseline_importance(version: ModelVersion) -> tuple[explain.Importance, str] | None:
    """Mean |SHAP| over the artifact's background rows (the reference population)."""
    artifact = ModelArtifact.objects.defer("content").filter(version=version).first()
    if artifact is None:
        return None
    explainer = artifacts.explainer_for(artifact)
    done = explainer.explain(np.asarray(artifact.background, dtype=np.float64))
    return explain.importance(done.values, explainer.features), artifact.background_source


def importance_report(
    version: ModelVersion,
    start: dt.datetime,
    end: dt.datetime,
    reference_start: dt.datetime,
    reference_end: dt.datetime,
    *,
    sample: int = IMPORTANCE_SAMPLE,
) -> dict[str, Any]:
    """Global importance in a window, in a reference window, and the attribution drift
    between them; plus the importance over the artifact's background. For the API, the
    documents and the monitoring reports."""
    artifact = ModelArtifact.objects.defer("content").filter(version=version).first()
    labels = explain.schema_labels(version.input_schema)
    notes = []
    current, population = global_importance(version, start, end, sample=sample)
    reference, reference_population = global_importance(
        version, reference_start, reference_end, sample=sample
    )

    def features(importance: explain.Importance) -> list[dict[str, Any]]:
        return [
            {**f.to_dict(), "label": labels.get(f.feature) or explain.humanise(f.feature)}
            for f in importance.features
        ]

    if artifact is None:
        notes.append(f"{version} has no artifact: no explanations are computed for it.")
    if not current.n:
        notes.append("No computed explanations in the window.")
    drift = None
    if current.n and reference.n:
        drift = explain.attribution_drift(reference, current).to_dict()
    elif current.n:
        notes.append("No computed explanations in the reference window: no drift to report.")
    baseline = baseline_importance(version) if artifact is not None else None
    return {
        "version": {"id": version.pk, "model": version.model.slug, "label": version.label},
        "method": artifact.explainer if artifact else None,
        "output_space": artifact.output_space if artifact else None,
        "window": {
            "start": iso(start),
            "end": iso(end),
            "explanations": population,
            "sampled": current.n,
            "features": features(current),
        },
        "reference": {
            "start": iso(reference_start),
            "end": iso(reference_end),
            "explanations": reference_population,
            "sampled": reference.n,
            "features": features(reference),
        },
        "drift": drift,
        "baseline": (
            {"source": baseline[1], "features": features(baseline[0])} if baseline else None
        ),
        "notes": notes,
    }
