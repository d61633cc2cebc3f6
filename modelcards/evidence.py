"""What the system knew about a model at the end of a given day: the facts every document
draws from.

Everything here reads records as they stood before the cut-off (the start of the day after the
as-of date, UTC): the inventory and version bundles from their history, the narrative from its
history, the ledger by the time each entry was received (a prediction logged late counts from
when it arrived), checkpoints by when they were signed. The result is plain JSON data, so a
document's digest can be taken over it.

The approval workflow (reviews, findings, conditions: from their history; deployments: from
their dates; human oversight: from its ledger events) and the monitoring (report schedules from
their history, the stored reports by the time they were created) are read the same way.

Figures computed here from the ledger (per-group rates, back-testing, drift, importance) are
labelled as such in the documents: they are evidence computed at issue time over all logged
decisions, beside the scheduled monitoring reports, whose absence is a gap of its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Max, Min, Q

from audit.models import (
    Checkpoint,
    GovernanceEvent,
    OutcomeRecord,
    PredictionRecord,
    SubjectKey,
    VerificationRun,
)
from compliance import drift, fairness
from compliance.choices import (
    RISK_TIER_MEANING,
    AnnexIIIArea,
    ConditionStatus,
    DeploymentRole,
    Environment,
    EUAIActCategory,
    FindingStatus,
    LifecycleStatus,
    OversightAction,
    RiskTier,
    ScoreOf,
    VersionState,
)
from compliance.models import (
    AIModel,
    Condition,
    Deployment,
    Finding,
    ModelVersion,
    MonitoringReport,
    ReportSchedule,
    ValidationReview,
)
from compliance.reports import DEFAULT_THRESHOLDS
from compliance.serving import ServingHistory
from compliance.workflow import OVERRIDING

from .models import ModelNarrative

# Ledger analytics look at the most recent decisions before the cut-off; the documents say so.
ANALYSIS_LIMIT = 200_000
PAYLOAD_LIMIT = 20_000  # decisions whose logged inputs and explanations are parsed
EVENTS_LIMIT = 500  # governance events listed in a document (all are in the evidence pack)
MIN_GROUP_SIZE = 30
# A git commit: its hash in hexadecimal, abbreviated (at least 7 characters) or full (40).
COMMIT = re.compile(r"[0-9a-fA-F]{7,40}")


class EvidenceError(Exception):
    """The document cannot be built: the model or version did not exist on the date."""


def cutoff_for(as_of: dt.date) -> dt.datetime:
    """The first moment after the as-of date (UTC): records from then on are not shown."""
    return dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.UTC) + dt.timedelta(days=1)


def iso(moment: dt.datetime | dt.date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, dt.datetime):
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.isoformat()


def _parsed(text: str) -> dt.datetime:
    """A moment as ``iso`` printed it."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=dt.UTC)


def plain(value: Any) -> Any:
    """JSON-safe: dates as text, numpy scalars as Python, NaN as None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return iso(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class People:
    """Display names of users, looked up once per document."""

    def __init__(self) -> None:
        self._names: dict[int, str] = {}

    def __call__(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self._names:
            user = get_user_model().objects.filter(pk=user_id).first()
            if user is None:
                self._names[user_id] = f"user #{user_id}"
            else:
                full = user.get_full_name()
                self._names[user_id] = (
                    f"{full} ({user.get_username()})" if full else user.get_username()
                )
        return self._names[user_id]


def latest_history(manager, cutoff: dt.datetime, **filters):
    """The last historical record before ``cutoff`` (None if none, or if it was a deletion)."""
    record = (
        manager.filter(history_date__lt=cutoff, **filters)
        .order_by("-history_date", "-history_id")
        .first()
    )
    return None if record is None or record.history_type == "-" else record


# ---------------------------------------------------------------------------- inventory


def model_facts(model: AIModel, cutoff: dt.datetime, people: People) -> dict[str, Any]:
    h = latest_history(model.history, cutoff)
    if h is None:
        raise EvidenceError(f"Model {model.slug} was not in the inventory before {iso(cutoff)}.")
    tier = RiskTier(h.risk_tier)
    team_ids = sorted(row.user_id for row in h.developing_team.all())
    team = sorted(filter(None, (people(pk) for pk in team_ids)))
    return {
        "id": model.pk,
        "name": h.name,
        "slug": h.slug,
        "description": h.description,
        "intended_purpose": h.intended_purpose,
        "intended_users": h.intended_users,
        "domain": h.domain,
        "business_owner": people(h.business_owner_id),
        "developing_team": team,
        "developing_team_ids": team_ids,
        "risk_tier": int(tier),
        "risk_tier_label": tier.label,
        "risk_tier_meaning": RISK_TIER_MEANING[tier],
        "eu_ai_act_category": h.eu_ai_act_category,
        "eu_ai_act_category_label": EUAIActCategory(h.eu_ai_act_category).label,
        "high_risk": h.eu_ai_act_category == EUAIActCategory.HIGH_RISK,
        "annex_iii_area": AnnexIIIArea(h.annex_iii_area).label if h.annex_iii_area else "",
        "lifecycle_status": LifecycleStatus(h.lifecycle_status).label,
        "sensitive_attributes": list(h.sensitive_attributes or []),
        "favourable_label": h.favourable_label,
        "favourable_value": h.favourable_value,
        "retention_months": h.retention_months,
        "registered_at": iso(h.created_at),
        "record_changed_at": iso(h.history_date),
    }


def input_features(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "title": spec.get("title", ""),
            "type": spec.get("type", ""),
            "minimum": spec.get("minimum"),
            "maximum": spec.get("maximum"),
            "required": name in required,
        }
        for name, spec in (schema.get("properties") or {}).items()
    ]


def flat_items(data: Any, prefix: str = "") -> list[list[Any]]:
    """[[key, value], ...] of a nested JSON object, keys joined with dots, in key order."""
    if not isinstance(data, dict):
        return [[prefix, data]]
    items = []
    for key in sorted(data):
        name = f"{prefix}.{key}" if prefix else str(key)
        value = data[key]
        items += flat_items(value, name) if isinstance(value, dict) else [[name, value]]
    return items


def version_facts(h, people: People) -> dict[str, Any]:
    baselines = h.baselines or {}
    return {
        "id": h.id,
        "label": h.label,
        "state": h.state,
        "state_label": VersionState(h.state).label,
        "registered_at": iso(h.created_at),
        "registered_by": people(h.created_by_id),
        "registered_by_id": h.created_by_id,
        "submitted_at": iso(h.submitted_at),
        "submitted_by": people(h.submitted_by_id),
        "submitted_by_id": h.submitted_by_id,
        "validation_cycle": h.validation_cycle,
        "approved_at": iso(h.approved_at),
        "approval_expires_at": iso(h.approval_expires_at),
        "revalidation_overdue_since": iso(h.revalidation_overdue_since),
        "manifest_sha256": h.manifest_sha256,
        "input_schema_sha256": h.input_schema_sha256,
        "artifact_uri": h.artifact_uri,
        "artifact_sha256": h.artifact_sha256,
        "training_data_uri": h.training_data_uri,
        "training_data_sha256": h.training_data_sha256,
        "training_row_count": h.training_row_count,
        "training_date_from": iso(h.training_date_from),
        "training_date_to": iso(h.training_date_to),
        "feature_pipeline_version": h.feature_pipeline_version,
        "code_commit": h.code_commit,
        "score_of": h.score_of,
        "score_of_label": ScoreOf(h.score_of).label,
        "code_commit_is_hash": bool(COMMIT.fullmatch(h.code_commit or "")),
        "configuration": flat_items(h.configuration or {}),
        # A bundle's evaluation may record its size beside its measures ("test_rows"): the
        # size is printed as such, never in the list of metrics.
        "evaluation_metrics": [
            [k, v] for k, v in flat_items(h.evaluation_metrics or {}) if not k.endswith("_rows")
        ],
        "evaluation_rows": (h.evaluation_metrics or {}).get("test_rows"),
        "input_features": input_features(h.input_schema or {}),
        "baseline_features": sorted((baselines.get("features") or {}).keys()),
        "baseline_score": "score" in baselines,
        "baseline_selection_rate": (baselines.get("selection_rate") or {}).get("overall"),
        "baseline_group_rates": flat_items(
            (baselines.get("selection_rate") or {}).get("by_group") or {}
        ),
    }


def versions_as_of(model: AIModel, cutoff: dt.datetime) -> dict[int, Any]:
    """Historical record of each version of ``model`` as it stood before ``cutoff``."""
    latest: dict[int, Any] = {}
    records = ModelVersion.history.filter(model_id=model.pk, history_date__lt=cutoff).order_by(
        "history_date", "history_id"
    )
    for record in records:
        latest[record.id] = record
    return {pk: r for pk, r in latest.items() if r.history_type != "-"}


def narrative_facts(model: AIModel, cutoff: dt.datetime) -> dict[str, Any]:
    h = latest_history(ModelNarrative.history, cutoff, model_id=model.pk)
    texts = {
        name: (getattr(h, name, "") or "").strip() if h else "" for name in ModelNarrative.FIELDS
    }
    labels = {
        name: ModelNarrative._meta.get_field(name).verbose_name for name in ModelNarrative.FIELDS
    }
    return {"text": texts, "labels": labels, "changed_at": iso(h.history_date) if h else None}


# ---------------------------------------------------------------------------- ledger


IGNORED_EVENTS = ("document.", "evidence_pack.", "modelnarrative.")


def governance_events(model: AIModel, cutoff: dt.datetime) -> dict[str, Any]:
    """The model's governance events before ``cutoff``, oldest first.

    Documents issued are left out: listing them would make each document change the next one
    issued for the same date. Narrative edits are left out too (the narrative is printed).
    """
    events = GovernanceEvent.objects.filter(model=model, occurred_at__lt=cutoff)
    for prefix in IGNORED_EVENTS:
        events = events.exclude(event_type__startswith=prefix)
    rows = events.order_by("occurred_at", "pk").values_list(
        "event_type", "occurred_at", "actor_name", "object_repr", "reason", "entry_id",
        "entry__leaf__index",
    )  # fmt: skip
    total = events.count()
    listed = [
        {
            "type": t,
            "at": iso(at),
            "actor": actor,
            "object": obj,
            "reason": (reason or "")[:240],
            "entry_id": entry_id,
            "leaf_index": leaf,
        }
        for t, at, actor, obj, reason, entry_id, leaf in rows[:EVENTS_LIMIT]
    ]
    return {"total": total, "listed": listed, "truncated": total > len(listed)}


def ledger_facts(model: AIModel, version_id: int | None, cutoff: dt.datetime) -> dict[str, Any]:
    by_version = (
        PredictionRecord.objects.filter(version__model=model, received_at__lt=cutoff)
        .values("version__label")
        .annotate(n=Count("pk"), first=Min("decided_at"), last=Max("decided_at"))
        .order_by("version__label")
    )
    facts: dict[str, Any] = {
        "by_version": [
            {
                "version": r["version__label"],
                "n": r["n"],
                "first": iso(r["first"]),
                "last": iso(r["last"]),
            }
            for r in by_version
        ],
        "version": None,
    }
    if version_id is not None:
        # One pass over the version's records (per environment) and one over its outcomes:
        # at a million decisions each pass is a second.
        environments = list(
            PredictionRecord.objects.filter(version_id=version_id, received_at__lt=cutoff)
            .values("environment")
            .annotate(
                n=Count("pk"),
                first=Min("decided_at"),
                last=Max("decided_at"),
                favourable=Count("pk", filter=Q(favourable=True)),
                schema_violations=Count("pk", filter=Q(schema_violation=True)),
                unapproved=Count("pk", filter=Q(unapproved_version=True)),
            )
            .order_by("environment")
        )
        outcomes = OutcomeRecord.objects.filter(
            prediction__version_id=version_id, received_at__lt=cutoff
        ).aggregate(n=Count("pk"), predictions=Count("prediction_id", distinct=True))
        facts["version"] = {
            **{
                k: sum(e[k] for e in environments)
                for k in ("n", "favourable", "schema_violations", "unapproved")
            },
            "first": iso(min((e["first"] for e in environments), default=None)),
            "last": iso(max((e["last"] for e in environments), default=None)),
            "environments": [[e["environment"], e["n"]] for e in environments],
            "outcomes": outcomes["n"],
            "predictions_with_outcome": outcomes["predictions"],
        }
    checkpoints = Checkpoint.objects.filter(issued_at__lt=cutoff)
    latest = checkpoints.order_by("-tree_size").first()
    facts["checkpoint"] = (
        {
            "tree_size": latest.tree_size,
            "root_hash": bytes(latest.root_hash).hex(),
            "issued_at": iso(latest.issued_at),
            "key_id": latest.key_id,
            "log_id": latest.log_id,
            "count": checkpoints.count(),
        }
        if latest
        else None
    )
    run = VerificationRun.objects.filter(ran_at__lt=cutoff).order_by("-ran_at").first()
    facts["verification"] = (
        {
            "ran_at": iso(run.ran_at),
            "ok": run.ok,
            "entries": run.entries,
            "checkpoints": run.checkpoints,
            "summary": (run.message.splitlines() or [""])[0],
        }
        if run
        else None
    )
    oldest = PredictionRecord.objects.filter(received_at__lt=cutoff).aggregate(
        first=Min("received_at")
    )
    facts["oldest_entry"] = iso(oldest["first"])
    facts["retention"] = retention_facts(model, cutoff)
    return facts


def retention_facts(model: AIModel, cutoff: dt.datetime) -> dict[str, Any]:
    """What of the model's ledger payloads has been dropped and what is held, before ``cutoff``,
    read from the governance events that recorded each step (``compliance.retention``): the
    purges with their leaf ranges, the legal holds on the model or on a data subject it
    decided about, and the erasures of such subjects (counts only, never who).
    """
    events = GovernanceEvent.objects.filter(occurred_at__lt=cutoff).order_by("occurred_at", "pk")
    purges = [
        {
            "at": iso(at),
            "sealed_before": after.get("sealed_before"),
            "retention_months": after.get("retention_months"),
            "predictions": after.get("predictions", 0),
            "outcomes": after.get("outcomes", 0),
            "leaf_ranges": after.get("leaf_ranges") or [],
        }
        for at, after in events.filter(model=model, event_type="ledger.purged").values_list(
            "occurred_at", "after"
        )
    ]
    # Holds on a data subject and erasures name no model: the subject is one of this model's
    # if it decided about them.
    rows = [
        (t, at, actor, object_id, (before or after or {}).get("subject"), after, reason)
        for t, at, actor, object_id, before, after, reason in events.filter(
            Q(model=model, event_type__startswith="legal_hold.")
            | Q(model=None, event_type__startswith="legal_hold.")
            | Q(event_type="subject.erased")
        ).values_list(
            "event_type", "occurred_at", "actor_name", "object_id", "before", "after", "reason"
        )
    ]
    named = {row[4] for row in rows} - {None}
    ours = {
        str(r)
        for r in SubjectKey.objects.filter(reference__in=named, predictions__version__model=model)
        .values_list("reference", flat=True)
        .distinct()
    }
    holds: dict[str, dict[str, Any]] = {}
    erased = []
    for t, at, actor, object_id, subject, after, reason in rows:
        if subject is not None and subject not in ours:
            continue
        if t == "subject.erased":
            erased.append(after.get("predictions", 0))
        elif t == "legal_hold.placed":
            on = "a data subject" if subject else "the model"
            holds[object_id] = {
                "on": on, "placed_at": iso(at), "placed_by": actor, "reason": reason,
                "released_at": None,
            }  # fmt: skip
        elif object_id in holds:
            holds[object_id]["released_at"] = iso(at)
    return {
        "purges": purges,
        "purged_predictions": sum(p["predictions"] for p in purges),
        "purged_outcomes": sum(p["outcomes"] for p in purges),
        "holds": list(holds.values()),
        "erasures": len(erased),
        "erased_predictions": sum(erased),
    }


# ---------------------------------------------------------------------------- analytics


@dataclass
class Decisions:
    """The most recent logged decisions of a version before the cut-off, as arrays."""

    ids: np.ndarray
    score: np.ndarray  # NaN where no score was logged
    decision: np.ndarray  # 1 favourable, 0 not
    truth: np.ndarray  # 1 favourable outcome, 0 not, NaN not (yet) known
    sensitive: list[dict[str, Any] | None]
    first: str | None
    last: str | None


def _raw(queryset) -> list[tuple]:
    """The rows of a ``values_list`` queryset as the database driver gives them, without the
    ORM's per-value converters: at a million decisions those cost more than the query."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _json_reader():
    """Reads JSON columns fetched by :func:`_raw` (text on SQLite, text or decoded on
    PostgreSQL), decoding each distinct text once: sensitive attributes and outcome labels
    take a handful of values over many rows."""
    seen: dict[str, Any] = {}

    def read(value):
        if not isinstance(value, str | bytes):
            return value
        if value not in seen:
            seen[value] = json.loads(value)
        return seen[value]

    return read


def decisions(version_id: int, favourable_value: Any, cutoff: dt.datetime) -> Decisions | None:
    """The version's latest ``ANALYSIS_LIMIT`` decisions logged before ``cutoff``, with the
    current (last uncorrected) outcome of each where one arrived."""
    logged = PredictionRecord.objects.filter(
        version_id=version_id, received_at__lt=cutoff, favourable__isnull=False
    ).order_by("-decided_at", "-pk")
    rows = _raw(
        logged.values_list("pk", "score", "favourable", "sensitive__values")[:ANALYSIS_LIMIT]
    )
    if not rows:
        return None
    span = dict(
        PredictionRecord.objects.filter(pk__in=[rows[-1][0], rows[0][0]]).values_list(
            "pk", "decided_at"
        )
    )  # rows run from the latest decision back to the earliest
    read = _json_reader()
    outcomes = OutcomeRecord.objects.filter(
        prediction__version_id=version_id,
        prediction__decided_at__gte=span[rows[-1][0]],
        received_at__lt=cutoff,
    ).order_by("received_at", "pk")
    outcome_rows = _raw(outcomes.values_list("pk", "prediction_id", "label", "corrects_id"))
    corrected = {corrects for _, _, _, corrects in outcome_rows if corrects}
    labels = {
        prediction_id: read(label)
        for pk, prediction_id, label, _ in outcome_rows
        if pk not in corrected
    }
    truth = np.array(
        [
            (1.0 if labels[r[0]] == favourable_value else 0.0) if r[0] in labels else np.nan
            for r in rows
        ]
    )
    return Decisions(
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        score=np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=np.float64),
        decision=np.array([1 if r[2] else 0 for r in rows], dtype=np.int64),
        truth=truth,
        sensitive=[read(r[3]) for r in rows],
        first=iso(span[rows[-1][0]]),
        last=iso(span[rows[0][0]]),
    )


def fairness_facts(
    data: Decisions, attributes: list[str], min_group: dict[str, Any]
) -> dict[str, Any] | None:
    """Per-group rates over logged decisions (and, where outcomes arrived, error rates), with
    the minimum group size ``min_group`` (see ``governing_group_size``)."""
    if not attributes:
        return None
    complete = np.array(
        [bool(s) and all(s.get(a) is not None for a in attributes) for s in data.sensitive]
    )
    if not complete.any():
        return None
    columns = {
        a: np.array([str(s[a]) for s, keep in zip(data.sensitive, complete, strict=True) if keep])
        for a in attributes
    }
    size = min_group["size"]
    options = fairness.FairnessOptions(min_group_size=size, n_bootstrap=500, intersections=False)
    selection = fairness.fairness_report(None, data.decision[complete], columns, options)
    known = complete & ~np.isnan(data.truth)
    errors = None
    if known.sum() >= size:
        kept = known[complete]
        errors = fairness.fairness_report(
            data.truth[known].astype(np.int64),
            data.decision[known],
            {a: v[kept] for a, v in columns.items()},
            fairness.FairnessOptions(min_group_size=size, n_bootstrap=0, intersections=False),
        )
    return {
        "decisions": int(complete.sum()),
        "without_attributes": int((~complete).sum()),
        "with_outcome": int(known.sum()),
        "min_group_size": size,
        "min_group_source": min_group["source"],
        "overall_selection_rate": selection.overall.selection_rate,
        "selection": group_rows(selection.to_dict()),
        "errors": group_rows(errors.to_dict()) if errors else None,
    }


def performance_facts(
    data: Decisions, metrics: dict[str, Any], score_of: ScoreOf
) -> dict[str, Any] | None:
    """Back-testing of the logged decisions whose outcome arrived, the score read as the
    probability of the favourable outcome whichever way the version declares it."""
    scored = ~np.isnan(data.score)
    if not (scored & ~np.isnan(data.truth)).any():
        return None
    reference = {
        k: float(v)
        for k, v in metrics.items()
        if k in ("accuracy", "roc_auc") and isinstance(v, int | float)
    }
    report = drift.performance(
        data.truth[scored],
        score_of.favourable_probability(data.score[scored]),
        y_pred=data.decision[scored],
        reference=reference,
    )
    return plain(report.to_dict())


def _payloads(version_id: int, cutoff: dt.datetime) -> list[dict[str, Any]]:
    rows = (
        PredictionRecord.objects.filter(version_id=version_id, received_at__lt=cutoff)
        .order_by("-decided_at", "-pk")
        .values_list("entry__canonical", flat=True)[:PAYLOAD_LIMIT]
    )
    # A purged entry (past retention) keeps only its hash. Filtering on its purge in SQL
    # leads SQLite to scan every entry by that index instead of the window's predictions.
    return [json.loads(bytes(row)) for row in rows if row]


def drift_facts(
    data: Decisions, payloads: list[dict[str, Any]], baselines: dict[str, Any]
) -> dict[str, Any] | None:
    results = []
    features = baselines.get("features") or {}
    if payloads and features:
        columns = {}
        for name, baseline in features.items():
            values = [p.get("inputs", {}).get(name) for p in payloads]
            if baseline.get("kind") == "categorical":
                columns[name] = np.array(["" if v is None else str(v) for v in values])
            else:
                columns[name] = np.array(
                    [float(v) if isinstance(v, int | float) else np.nan for v in values]
                )
        results += [f.to_dict() for f in drift.feature_drift(columns, features)]
    scored = data.score[~np.isnan(data.score)]
    if "score" in baselines and len(scored):
        results.append(
            drift.population_stability_index("score", scored, baselines["score"]).to_dict()
        )
    approval = None
    rate = (baselines.get("selection_rate") or {}).get("overall")
    if rate is not None:
        approval = drift.approval_rate_drift(data.decision, rate).overall.to_dict()
    if not results and approval is None:
        return None
    return plain(
        {
            "features": [
                {
                    "feature": r["feature"],
                    "psi": r["psi"],
                    "band": r["band"],
                    "n": r["n"],
                    "bins": r["bins"],
                    "reason": r["reason"],
                }
                for r in results
            ],
            "payloads": len(payloads),
            "approval": approval,
        }
    )


def importance_from_explanations(payloads: list[dict[str, Any]]) -> dict[str, Any] | None:
    totals: dict[str, list[float]] = {}
    n = 0
    for p in payloads:
        explanation = p.get("explanation")
        if not isinstance(explanation, dict) or not explanation:
            continue
        n += 1
        for name, value in explanation.items():
            if isinstance(value, int | float):
                totals.setdefault(name, []).append(abs(float(value)))
    if not n:
        return None
    ranked = sorted(((sum(v) / n, k) for k, v in totals.items()), reverse=True)
    return {
        "source": f"mean absolute attribution over {n:,} logged explanations",
        "features": [[name, value] for value, name in ranked],
    }


def _local_file(uri: str, sha256: str) -> Path | None:
    from compliance.demo import sha256_file

    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = Path(parsed.path)
    if not path.is_file() or sha256_file(path) != sha256:
        return None
    return path


def _file_identity(uri: str) -> tuple[str, int, int] | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    try:
        stat = Path(parsed.path).stat()
    except OSError:
        return None
    return parsed.path, stat.st_mtime_ns, stat.st_size


def importance_from_artifact(version: dict[str, Any]) -> dict[str, Any] | None:
    """Exact SHAP values of a linear model (in log-odds) over the first training rows, when
    the artifact and training data are local files that match their pinned hashes.

    For a linear model with independent features, SHAP value j of row x is w_j (x_j - E x_j)
    in the model's own (transformed) feature space; shap's LinearExplainer computes the same.
    The result is kept per process for the same files (path, modification time and size) and
    hashes: an evidence pack's four documents load the artifact once.
    """
    artifact = _file_identity(version["artifact_uri"])
    data = _file_identity(version["training_data_uri"])
    if artifact is None or data is None:
        return None
    names = tuple(f["name"] for f in version["input_features"])
    return _artifact_importance(
        artifact, version["artifact_sha256"], data, version["training_data_sha256"], names
    )


@functools.lru_cache(maxsize=16)
def _artifact_importance(
    artifact_file: tuple[str, int, int],
    artifact_sha256: str,
    data_file: tuple[str, int, int],
    data_sha256: str,
    names: tuple[str, ...],
) -> dict[str, Any] | None:
    artifact = _local_file(f"file://{artifact_file[0]}", artifact_sha256)
    data = _local_file(f"file://{data_file[0]}", data_sha256)
    if artifact is None or data is None or artifact.suffix != ".skops":
        return None
    try:
        import pandas as pd
        import skops.io as sio

        pipeline = sio.load(artifact)
        final = pipeline[-1] if hasattr(pipeline, "steps") else pipeline
        coef = np.asarray(getattr(final, "coef_", None), dtype=np.float64)
        if coef.ndim != 2 or coef.shape[0] != 1 or coef.shape[1] != len(names):
            return None
        frame = pd.read_csv(data, nrows=5000)[list(names)]
        transformed = pipeline[:-1].transform(frame) if hasattr(pipeline, "steps") else frame
        transformed = np.asarray(transformed, dtype=np.float64)
    except Exception:  # an artifact we cannot read is a gap, not a failed document
        return None
    phi = (transformed - transformed.mean(axis=0)) * coef[0]
    mean_abs = np.abs(phi).mean(axis=0)
    ranked = sorted(zip(mean_abs.tolist(), names, strict=True), reverse=True)
    return {
        "source": f"exact SHAP values of the linear model (log-odds) over {len(frame):,} "
        "training rows, computed from the hash-verified artifact",
        "features": [[name, value] for value, name in ranked],
    }


def governing_group_size(monitoring: dict[str, Any]) -> dict[str, Any]:
    """The minimum group size a document judges groups by: its active schedules' (the largest,
    if they differ), so a document never counts a group its monitoring calls too small; the
    default only where no schedule is active."""
    active = monitoring["active"]
    if not active:
        return {"size": MIN_GROUP_SIZE, "source": "the default: no monitoring schedule is active"}
    chosen = max(active, key=lambda s: s["min_group_size"])
    return {"size": chosen["min_group_size"], "source": f"the schedule “{chosen['name']}”"}


def analytics(
    model: dict[str, Any],
    version: dict[str, Any],
    baselines: dict[str, Any],
    cutoff: dt.datetime,
    min_group: dict[str, Any],
):
    data = decisions(version["id"], model["favourable_value"], cutoff)
    payloads = _payloads(version["id"], cutoff) if data is not None else []
    importance = importance_from_explanations(payloads) or importance_from_artifact(version)
    if data is None:
        return {"window": None, "fairness": None, "performance": None, "drift": None,
                "importance": importance}  # fmt: skip
    metrics = dict(version["evaluation_metrics"])
    return {
        "window": {
            "decisions": len(data.ids),
            "first": data.first,
            "last": data.last,
            "limit": ANALYSIS_LIMIT,
            "payload_limit": PAYLOAD_LIMIT,
        },  # fmt: skip
        "fairness": fairness_facts(data, model["sensitive_attributes"], min_group),
        "performance": performance_facts(data, metrics, ScoreOf(version["score_of"])),
        "drift": drift_facts(data, payloads, baselines),
        "importance": importance,
    }


# ---------------------------------------------------------------------------- workflow


def _history_as_of(model_class, cutoff: dt.datetime, **filters) -> list[Any]:
    """The last historical record of each object before ``cutoff`` (deletions left out)."""
    latest: dict[int, Any] = {}
    records = model_class.history.filter(history_date__lt=cutoff, **filters)
    for record in records.order_by("history_date", "history_id"):
        latest[record.id] = record
    return [r for r in latest.values() if r.history_type != "-"]


def _label(choices_field_owner, field: str, value: str) -> str:
    choices = dict(choices_field_owner._meta.get_field(field).choices or [])
    return str(choices.get(value, value or ""))


def workflow_facts(
    model: dict[str, Any], version: dict[str, Any] | None, cutoff: dt.datetime, people: People
) -> dict[str, Any]:
    """Reviews, findings, conditions, approvals, deployments and human oversight as the
    approval workflow had recorded them before ``cutoff``.

    Reviews, findings and conditions are read from their history (each as it stood then);
    deployments from their start and end; oversight from its ledger events.
    """
    last_day = (cutoff - dt.timedelta(days=1)).date()  # overdue means due before the as-of date
    facts: dict[str, Any] = {"reviews": [], "findings": [], "conditions": [], "deployments": []}
    if version is not None:
        reviews = _history_as_of(ValidationReview, cutoff, version_id=version["id"])
        for r in sorted(reviews, key=lambda r: (r.cycle, r.created_at, r.id)):
            facts["reviews"].append(
                {
                    "id": r.id,
                    "validator": people(r.validator_id),
                    "validator_id": r.validator_id,
                    "cycle": r.cycle,
                    "scope": r.scope,
                    "elements": [
                        {
                            "code": e,
                            "name": e.replace("_", " ").capitalize(),
                            "evidence": getattr(r, e) or "",
                            "conclusion": _label(
                                ValidationReview, f"{e}_conclusion", getattr(r, f"{e}_conclusion")
                            ),
                            "references": list((r.references or {}).get(e) or []),
                        }
                        for e in ValidationReview.ELEMENTS
                    ],
                    "benchmark": r.benchmark or None,
                    "recommendations": r.recommendations,
                    "sensitivity": r.sensitivity,
                    "decision": _label(ValidationReview, "decision", r.decision),
                    "decision_code": r.decision,
                    "decided_at": iso(r.decided_at),
                }
            )
        findings = _history_as_of(Finding, cutoff, version_id=version["id"])
        for f in sorted(findings, key=lambda f: (f.raised_at, f.id)):
            facts["findings"].append(
                {
                    "id": f.id,
                    "title": f.title,
                    "description": f.description,
                    "severity": _label(Finding, "severity", f.severity),
                    "severity_code": f.severity,
                    "owner": people(f.owner_id),
                    "due_date": iso(f.due_date),
                    "status": _label(Finding, "status", f.status),
                    "status_code": f.status,
                    "raised_by": people(f.raised_by_id) or "a monitor",
                    "by_monitor": f.raised_by_id is None,
                    "raised_at": iso(f.raised_at),
                    "resolved_by": people(f.resolved_by_id),
                    "resolved_at": iso(f.resolved_at),
                    "resolution": f.resolution,
                    "overdue": f.status == FindingStatus.OPEN and f.due_date < last_day,
                    "review_id": f.review_id,
                }
            )
        for review in facts["reviews"]:  # its issues list: the findings raised in it
            review["issues"] = [f for f in facts["findings"] if f["review_id"] == review["id"]]
        conditions = _history_as_of(Condition, cutoff, version_id=version["id"])
        for c in sorted(conditions, key=lambda c: (c.due_date, c.id)):
            facts["conditions"].append(
                {
                    "id": c.id,
                    "description": c.description,
                    "due_date": iso(c.due_date),
                    "status": _label(Condition, "status", c.status),
                    "set_by": people(c.created_by_id),
                    "met_by": people(c.met_by_id),
                    "met_at": iso(c.met_at),
                    "note": c.note,
                    "overdue": c.status == ConditionStatus.OPEN and c.due_date < last_day,
                }
            )
    deployments = Deployment.objects.filter(model_id=model["id"], deployed_at__lt=cutoff)
    for d in deployments.select_related("version").order_by("deployed_at", "pk"):
        ended = d.ended_at is not None and d.ended_at < cutoff
        facts["deployments"].append(
            {
                "version": d.version.label,
                "approved_then": ServingHistory(d.version_id, d.environment).approval(d.deployed_at)
                is not None,
                "environment": d.environment,
                "role": d.role,
                "deployed_by": people(d.deployed_by_id),
                "deployed_at": iso(d.deployed_at),
                "reason": d.reason,
                "ended_at": iso(d.ended_at) if ended else None,
                "end_reason": d.end_reason if ended else "",
                "active": not ended,
            }
        )
    facts["approvals"] = [
        r for r in facts["reviews"] if r["decision_code"] in ("approve", "approve_with_conditions")
    ]
    registered = ModelVersion.objects.filter(pk=version["id"]).first() if version else None
    former = registered.former_team(until=cutoff) if registered else set()
    facts["independence"] = independence(model, version, facts["reviews"], former)
    facts["substance"] = review_substance(facts["reviews"])
    facts["oversight"] = oversight_facts(model, cutoff)
    return facts


# A conclusion shorter than this shows no work: "Sound; monitoring in place." is not a review.
MIN_CONCLUSION_WORDS = 20


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def review_substance(reviews: list[dict[str, Any]]) -> list[str]:
    """Why the decided reviews' conclusions do not count as substance, one reason a line; empty
    when each element of each decided review has the validator's own text (not trivially short,
    not another validator's) and the evidence it rests on.

    SR 11-7 asks for effective challenge: a one-line sentence, or the same words signed by two
    "independent" validators, show none, so they are gaps, not coverage."""
    decided = [r for r in reviews if r["decided_at"]]
    if not decided:
        return ["no decided review"]
    problems = []
    for r in decided:
        for x in r["elements"]:
            what = f"{r['validator']}'s {x['name'].lower()} (cycle {r['cycle']})"
            words = _words(x["evidence"])
            if len(words) < MIN_CONCLUSION_WORDS:
                problems.append(
                    f"{what} is {len(words)} words, under the {MIN_CONCLUSION_WORDS} that "
                    "show the work"
                )
            copies = [
                o["validator"]
                for o in decided
                if o["validator_id"] != r["validator_id"]
                and words
                and any(_words(y["evidence"]) == words for y in o["elements"])
            ]
            if copies:
                problems.append(f"{what} repeats the text of {', '.join(sorted(set(copies)))}")
            if not x["references"]:
                problems.append(f"{what} cites no evidence it rests on")
    return problems


def independence(
    model: dict[str, Any],
    version: dict[str, Any] | None,
    reviews: list[dict[str, Any]],
    former_team: set[int] = frozenset(),
) -> list[dict[str, Any]]:
    """Each validator's independence of the version, checked as the workflow checks it
    (``ModelVersion.independence_problem``), against the records as of the cut-off: the team
    then, and ``former_team``, who the ledger shows on it since the version was registered
    (``ModelVersion.former_team``)."""
    if version is None:
        return []
    team = set(model["developing_team_ids"])
    result = []
    for review in reviews:
        who = review["validator_id"]
        problems = []
        if who == version["registered_by_id"]:
            problems.append("registered the version")
        if who == version["submitted_by_id"]:
            problems.append("submitted the version")
        if who in team:
            problems.append("is on the developing team")
        elif who in former_team:
            problems.append("was on the developing team after the version was registered")
        result.append({"validator": review["validator"], "cycle": review["cycle"],
                       "problems": problems})  # fmt: skip
    return result


OVERSIGHT_LISTED = 100


def _oversight_row(event_type, at, actor, before, after, reason) -> dict[str, Any]:
    action = event_type.removeprefix("oversight.")
    after, before = after or {}, before or {}
    return {
        "at": iso(at),
        "action": action,
        "person": after.get("person") or actor,
        "recorded_by": actor,
        "prediction": after.get("prediction"),
        "decision_before": before.get("decision"),
        "decision_after": after.get("decision"),
        "reason": (reason or "")[:240],
    }


def _label_of(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def oversight_facts(model: dict[str, Any], cutoff: dt.datetime) -> dict[str, Any]:
    """Human oversight of the model (EU AI Act Art. 14) before ``cutoff``, from the ledger:
    ``workflow.record_oversight`` writes one ``oversight.<action>`` governance event per
    override, reversal, confirmation or stop.

    The override rate counts what ``workflow.override_rate`` counts (decisions a person
    overrode or reversed, each once), over the decisions logged before the cut-off and the
    oversight recorded before it.
    """
    events = GovernanceEvent.objects.filter(
        model_id=model["id"], event_type__startswith="oversight.", occurred_at__lt=cutoff
    )
    counts = dict(events.values_list("event_type").annotate(n=Count("pk")).order_by("event_type"))
    rows = events.order_by("occurred_at", "pk").values_list(
        "event_type", "occurred_at", "actor_name", "before", "after", "reason"
    )
    overriding = [f"oversight.{a}" for a in OVERRIDING]
    overridden = (
        events.filter(event_type__in=overriding, object_type=PredictionRecord._meta.label)
        .values("object_id")
        .distinct()
        .count()
    )
    decisions = PredictionRecord.objects.filter(
        version__model_id=model["id"], received_at__lt=cutoff
    ).count()
    total = sum(counts.values())
    return {
        "total": total,
        "by_action": [
            [_label_of(OversightAction, a), counts.get(f"oversight.{a}", 0)]
            for a in OversightAction.values
        ],
        "listed": [_oversight_row(*row) for row in rows[:OVERSIGHT_LISTED]],
        "truncated": total > OVERSIGHT_LISTED,
        "decisions": decisions,
        "overridden": overridden,
        "override_rate": overridden / decisions if decisions else None,
        "stopped": counts.get("oversight.stop", 0),
    }


def decision_oversight(record: PredictionRecord, cutoff: dt.datetime) -> list[dict[str, Any]]:
    """Oversight recorded on one logged decision before ``cutoff``, oldest first."""
    rows = (
        GovernanceEvent.objects.filter(
            event_type__startswith="oversight.",
            object_type=PredictionRecord._meta.label,
            object_id=str(record.pk),
            occurred_at__lt=cutoff,
        )
        .order_by("occurred_at", "pk")
        .values_list("event_type", "occurred_at", "actor_name", "before", "after", "reason")
    )
    return [_oversight_row(*row) for row in rows]


# ---------------------------------------------------------------------------- monitoring

THRESHOLD_LABELS = {
    "impact_ratio_min": "Four-fifths impact ratio of each group, at least",
    "demographic_parity_difference_max": "Demographic parity difference, at most",
    "equalized_odds_difference_max": "Equalized odds difference, at most",
    "psi_max": "Population stability index of each feature and the score, at most",
    "approval_rate_change_max": "Relative change of a selection rate from its baseline, at most",
    "accuracy_drop_max_points": "Drop of accuracy below validation, at most (points)",
    "roc_auc_drop_max_points": "Drop of ROC AUC below validation, at most (points)",
}
REPORTS_LISTED = 12
SCHEDULE_CHANGES_LISTED = 50
# How many of a version's latest reports are searched for the latest with each kind of result.
REPORT_SCAN = 60


def cadence_label(hours: int) -> str:
    if hours % 24 == 0:
        days = hours // 24
        return {1: "daily", 7: "weekly"}.get(days, f"every {days} days")
    return "hourly" if hours == 1 else f"every {hours} hours"


def thresholds_table(thresholds: dict[str, Any]) -> list[dict[str, Any]]:
    """Every threshold a report applies: the schedule's own, the defaults for the rest."""
    effective = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    return [
        {
            "key": key,
            "label": THRESHOLD_LABELS.get(key, key),
            "value": effective[key],
            "set": key in (thresholds or {}),
        }
        for key in sorted(effective, key=lambda k: (list(THRESHOLD_LABELS).index(k)
                                                     if k in THRESHOLD_LABELS else 99, k))
    ]  # fmt: skip


def schedule_facts(
    model: AIModel, model_attributes: list[str], cutoff: dt.datetime, people: People
) -> dict[str, Any]:
    """The model's report schedules as they stood at the cut-off, and their changes before it.

    ``ReportSchedule.history.as_of()`` gives each schedule as of a moment (inclusive), hence
    the last microsecond before the cut-off.
    """
    moment = cutoff - dt.timedelta(microseconds=1)
    schedules = []
    current = ReportSchedule.history.as_of(moment).filter(model_id=model.pk)
    for s in sorted(current, key=lambda s: (not s.active, s.name, s.pk)):
        schedules.append(
            {
                "id": s.pk,
                "name": s.name,
                "active": s.active,
                "checks": list(s.checks or []),
                "attributes": list(s.attributes or []) or model_attributes,
                "attributes_own": bool(s.attributes),
                "window_days": s.window_days,
                "cadence_hours": s.cadence_hours,
                "cadence": cadence_label(s.cadence_hours),
                "min_group_size": s.min_group_size,
                "thresholds": thresholds_table(s.thresholds),
                "created_at": iso(s.created_at),
            }
        )
    changes = []
    history = ReportSchedule.history.filter(model_id=model.pk, history_date__lt=cutoff)
    previous: dict[int, Any] = {}
    for record in history.order_by("history_date", "history_id"):
        before = previous.get(record.id)
        if record.history_type == "+":
            what = "created"
        elif record.history_type == "-":
            what = "deleted"
        elif before is not None:
            fields = [c.field for c in record.diff_against(before).changes]
            what = (
                "changed " + ", ".join(f.replace("_", " ") for f in fields) if fields else "saved"
            )
        else:
            what = "changed"
        previous[record.id] = record
        changes.append(
            {
                "at": iso(record.history_date),
                "schedule": record.name,
                "by": people(record.history_user_id) or "system",
                "what": what,
                "reason": record.history_change_reason or "",
            }
        )
    return {
        "schedules": schedules,
        "active": [s for s in schedules if s["active"]],
        "changes": changes[-SCHEDULE_CHANGES_LISTED:],
        "changes_total": len(changes),
    }


def group_rows(fairness_result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Rows per attribute (and intersection) of a fairness result (``FairnessReport.to_dict()``,
    as monitoring reports store it): each group's rates, interval, impact ratio and verdict."""
    out: list[dict[str, Any]] = []
    for attribute in (fairness_result or {}).get("attributes", []):
        four_fifths = {r["label"]: r for r in attribute["four_fifths"]}
        groups = []
        for g in attribute["groups"]:
            ratio = four_fifths.get(g["label"], {})
            intervals = g.get("intervals") or {}
            groups.append(
                {
                    "label": g["label"],
                    "count": g["count"],
                    "status": g["status"],
                    "selection_rate": g["selection_rate"],
                    "selection_interval": intervals.get("selection_rate"),
                    "true_positive_rate": g["true_positive_rate"],
                    "false_positive_rate": g["false_positive_rate"],
                    "precision": g["precision"],
                    "accuracy": g["accuracy"],
                    "impact_ratio": ratio.get("impact_ratio"),
                    "four_fifths": ratio.get("status", g["status"]),
                }
            )
        d = attribute["disparity"]
        intervals = d.get("intervals") or {}
        out.append(
            {
                "attribute": attribute["attribute"],
                "intersection": " & " in attribute["attribute"],
                "groups": groups,
                "demographic_parity_difference": d["demographic_parity_difference"],
                "demographic_parity_difference_interval": intervals.get(
                    "demographic_parity_difference"
                ),
                "demographic_parity_ratio": d["demographic_parity_ratio"],
                "equalized_odds_difference": d["equalized_odds_difference"],
                "equalized_odds_difference_interval": intervals.get("equalized_odds_difference"),
                "equal_opportunity_difference": d["equal_opportunity_difference"],
                "groups_compared": d["groups_compared"],
                "fails": [r["label"] for r in attribute["four_fifths"] if r["status"] == "fail"],
            }
        )
    return out


def report_facts(report: MonitoringReport) -> dict[str, Any]:
    """One stored monitoring report as the documents print it: what it covered, every result
    it stored, its verdict per threshold and its hash."""
    results = report.results or {}
    counts = results.get("counts") or {}
    fairness_result = results.get("fairness")
    overall = (fairness_result or {}).get("overall") or {}
    return plain(
        {
            "id": report.pk,
            "version": report.version.label,
            "window_start": iso(report.window_start),
            "window_end": iso(report.window_end),
            "window_days": round(
                (report.window_end - report.window_start).total_seconds() / 86400, 2
            ),  # fmt: skip
            "created_at": iso(report.created_at),
            "schedule": schedule_name(report),
            "requested_by": report.requested_by.get_username() if report.requested_by_id else None,
            "checks": list(report.checks or []),
            "thresholds": thresholds_table(report.thresholds),
            "min_group_size": report.min_group_size,
            "passed": report.passed,
            "breaches": list(report.breaches or []),
            "sha256": report.content_sha256,
            "counts": {
                "predictions": counts.get("predictions", 0),
                "with_outcomes": counts.get("with_outcomes", 0),
                "selected": counts.get("selected", 0),
            },
            "overall_selection_rate": overall.get("selection_rate"),
            "selection": group_rows(fairness_result) if fairness_result else None,
            "errors": group_rows(results.get("fairness_with_outcomes"))
            if results.get("fairness_with_outcomes")
            else None,
            "approval": (results.get("approval_rate") or {}).get("changes") or None,
            "drift": [
                {k: d[k] for k in ("feature", "kind", "n", "psi", "band", "bins")}
                | {"reason": d.get("reason")}  # reports stored before it have none
                for d in results.get("drift") or []
            ],
            "performance": results.get("performance"),
            "notes": list(results.get("notes") or []),
        }
    )


def schedule_name(report: MonitoringReport) -> str | None:
    """The name its schedule had when the report ran (a schedule may be renamed later)."""
    if report.schedule_id is None:
        return None
    record = (
        ReportSchedule.history.filter(id=report.schedule_id, history_date__lte=report.created_at)
        .order_by("-history_date", "-history_id")
        .first()
    )
    return record.name if record else f"schedule #{report.schedule_id}"


def _latest_with(reports, key: str) -> int | None:
    """The id of the latest of ``reports`` whose stored results hold ``key``."""
    for pk, value in reports.values_list("pk", f"results__{key}")[:REPORT_SCAN]:
        if value:
            return pk
    return None


def monitoring_facts(
    model: AIModel,
    facts: dict[str, Any],
    version: dict[str, Any] | None,
    cutoff: dt.datetime,
    people: People,
) -> dict[str, Any]:
    """The report schedules as of the cut-off and the monitoring reports stored before it: the
    latest fairness, drift and performance results of the version, and the model's recent runs.
    """
    monitoring = schedule_facts(model, facts["sensitive_attributes"], cutoff, people)
    reports = MonitoringReport.objects.filter(model_id=model.pk, created_at__lt=cutoff)
    recent = reports.select_related("version").order_by("-created_at", "-pk")[:REPORTS_LISTED]
    monitoring["reports_total"] = reports.count()
    monitoring["reports_failed"] = reports.filter(passed=False).count()
    monitoring["recent"] = [
        {
            "id": r.pk,
            "version": r.version.label,
            "window_start": iso(r.window_start),
            "window_end": iso(r.window_end),
            "created_at": iso(r.created_at),
            "passed": r.passed,
            "breaches": [b["message"] for b in r.breaches or []],
            "sha256": r.content_sha256,
        }
        for r in recent.only(
            "pk", "version__label", "window_start", "window_end", "created_at", "passed",
            "breaches", "content_sha256",
        )
    ]  # fmt: skip
    monitoring.update(latest_report=None, fairness_report=None, drift_report=None,
                      performance_report=None)  # fmt: skip
    if version is None:
        return monitoring
    mine = reports.filter(version_id=version["id"]).order_by("-created_at", "-pk")
    wanted = {
        "latest_report": mine.values_list("pk", flat=True).first(),
        "fairness_report": _latest_with(mine, "fairness"),
        "drift_report": _latest_with(mine, "drift"),
        "performance_report": _latest_with(mine, "performance"),
    }
    ids = {pk for pk in wanted.values() if pk is not None}
    loaded = {
        r.pk: report_facts(r)
        for r in MonitoringReport.objects.filter(pk__in=ids).select_related(
            "version", "requested_by"
        )
    }
    monitoring.update({name: loaded.get(pk) for name, pk in wanted.items()})
    return monitoring


# ---------------------------------------------------------------------------- all together


def choose_version(records: dict[int, Any], label: str | None, cutoff: dt.datetime) -> Any:
    """The version a document is about: the one named, else the production champion on the
    date, else the latest registered."""
    if label is not None:
        for record in records.values():
            if record.label == label:
                return record
        raise EvidenceError(f"Version {label} was not registered before {iso(cutoff)}.")
    if not records:
        return None
    champion = _production_champion(records, cutoff)
    if champion is not None:
        return champion
    return max(records.values(), key=lambda r: (r.created_at, r.id))


def _production_champion(records: dict[int, Any], cutoff: dt.datetime):
    active = (
        Deployment.objects.filter(
            version_id__in=list(records), environment=Environment.PRODUCTION,
            role=DeploymentRole.CHAMPION, deployed_at__lt=cutoff,
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=cutoff))
        .order_by("-deployed_at")
        .first()
    )  # fmt: skip
    return records.get(active.version_id) if active else None


def after_approval(version: dict[str, Any] | None, evidence: dict[str, Any]) -> dict[str, Any]:
    """What is dated after the version's approval, which its validators cannot have seen: the
    validation report shows it apart from the evidence they approved on."""
    approved = version and version.get("approved_at")
    if not approved:
        return {"approved_at": None, "reports": [], "findings": [], "latest": []}

    def later(value: str | None) -> bool:  # both as iso() prints them, to the second
        return value is not None and _parsed(value) > _parsed(approved)

    mo = evidence["monitoring"]
    mine = [r for r in mo["recent"] if r["version"] == version["label"]]
    latest = ("fairness_report", "drift_report", "performance_report")
    return {
        "approved_at": approved,
        "reports": [r for r in mine if later(r["created_at"])],
        "findings": [f for f in evidence["workflow"]["findings"] if later(f["raised_at"])],
        "latest": [k for k in latest if mo[k] and later(mo[k]["created_at"])],
    }


def gather(model: AIModel, as_of: dt.date, version_label: str | None = None) -> dict[str, Any]:
    """Everything the documents about ``model`` may say, as it stood at the end of ``as_of``."""
    cutoff = cutoff_for(as_of)
    people = People()
    facts = model_facts(model, cutoff, people)
    records = versions_as_of(model, cutoff)
    chosen = choose_version(records, version_label, cutoff)
    version = version_facts(chosen, people) if chosen is not None else None
    evidence = {
        "as_of": as_of.isoformat(),
        "cutoff": iso(cutoff),
        "model": facts,
        "versions": [
            {
                "label": r.label,
                "state": VersionState(r.state).label,
                "registered_at": iso(r.created_at),
                "manifest_sha256": r.manifest_sha256,
            }
            for r in sorted(records.values(), key=lambda r: (r.created_at, r.id))
        ],
        "version": version,
        "narrative": narrative_facts(model, cutoff),
        "ledger": ledger_facts(model, version["id"] if version else None, cutoff),
        "events": governance_events(model, cutoff),
        "workflow": workflow_facts(facts, version, cutoff, people),
        "monitoring": monitoring_facts(model, facts, version, cutoff, people),
    }
    evidence["after_approval"] = after_approval(version, evidence)
    evidence["analytics"] = (
        analytics(
            facts,
            version,
            chosen.baselines or {},
            cutoff,
            governing_group_size(evidence["monitoring"]),
        )  # fmt: skip
        if version
        else None
    )
    return plain(evidence)
