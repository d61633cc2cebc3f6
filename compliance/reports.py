"""What a monitoring report computes for one version over one window, and which checks fail.

``compute()`` gathers the evidence (fairness from the database's GROUP BY cube, drift from a
sample of inputs, performance from the predictions whose outcomes have arrived); ``breaches()``
is a pure function from those results and the thresholds to the list of failed checks. A group
below the minimum size is reported as insufficient data and never breaches anything.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from audit.canonical import sha256_hex
from audit.ledger import raise_alert, record_event
from audit.models import PredictionRecord
from compliance import drift, monitoring, workflow
from compliance.choices import Severity
from compliance.fairness import FOUR_FIFTHS, FairnessOptions, fairness_from_counts, jsonable
from compliance.models import ModelVersion, MonitoringReport

log = logging.getLogger(__name__)

# Thresholds a schedule may set; a missing key falls back to these defaults.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "impact_ratio_min": FOUR_FIFTHS[0] / FOUR_FIFTHS[1],  # four-fifths rule, 29 CFR 1607.4(D)
    "demographic_parity_difference_max": 0.1,
    "equalized_odds_difference_max": 0.2,
    "psi_max": 0.2,
    "approval_rate_change_max": 0.1,  # relative change of a selection rate against baseline
    "accuracy_drop_max_points": 5.0,
    "roc_auc_drop_max_points": 5.0,
}
CHECKS = ("fairness", "drift", "performance")


@dataclass(frozen=True)
class Breach:
    check: str  # fairness, drift or performance
    metric: str  # e.g. impact_ratio, psi, accuracy_drop_points
    subject: str  # what it is about, e.g. "sex=F" or "income"
    value: float
    threshold: float
    message: str

    @property
    def key(self) -> str:
        """Identifies the breach across runs: one alert and one finding per key."""
        return f"{self.check}:{self.metric}:{self.subject}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "metric": self.metric,
            "subject": self.subject,
            "value": round(self.value, 6),
            "threshold": self.threshold,
            "message": self.message,
            "key": self.key,
        }


@dataclass
class Results:
    counts: dict[str, int]
    fairness: dict[str, Any] | None = None
    fairness_with_outcomes: dict[str, Any] | None = None
    approval_rate: dict[str, Any] | None = None
    drift: list[dict[str, Any]] = field(default_factory=list)
    performance: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "fairness": self.fairness,
            "fairness_with_outcomes": self.fairness_with_outcomes,
            "approval_rate": self.approval_rate,
            "drift": self.drift,
            "performance": self.performance,
            "notes": self.notes,
        }


def compute(
    version,
    start: dt.datetime,
    end: dt.datetime,
    *,
    checks=CHECKS,
    attributes=None,
    min_group_size: int = 30,
    n_bootstrap: int = 1000,
    sample_size: int = 50_000,
) -> Results:
    """Evidence about ``version``'s logged predictions decided in [start, end)."""
    model = version.model
    attributes = list(attributes or model.sensitive_attributes)
    ids = [version.pk]
    cube = monitoring.prediction_cube(ids, start, end, attributes, model.favourable_value)
    results = Results(
        counts={
            "predictions": cube.predictions,
            "with_outcomes": cube.with_outcomes,
            "selected": cube.selected,
        }
    )
    baseline = version.baselines or {}
    if "fairness" in checks:
        options = FairnessOptions(min_group_size=min_group_size, n_bootstrap=n_bootstrap)
        if not attributes:
            results.notes.append("No sensitive attributes are set for this model.")
        elif cube.predictions:
            selection = monitoring.cube_counts(cube, outcomes=False)
            results.fairness = fairness_from_counts(selection, options).to_dict()
            results.approval_rate = _approval_rate(cube, baseline.get("selection_rate") or {})
            if cube.with_outcomes:
                known = monitoring.cube_counts(cube, outcomes=True)
                results.fairness_with_outcomes = fairness_from_counts(known, options).to_dict()
    if "drift" in checks and cube.predictions:
        features = baseline.get("features") or {}
        columns, scores, _ = monitoring.sample_inputs(ids, start, end, size=sample_size)
        current = dict(columns)
        baselines = dict(features)
        if "score" in baseline:
            current["score"], baselines["score"] = scores, baseline["score"]
        if not baselines:
            results.notes.append("The version has no drift baselines.")
        results.drift = [d.to_dict() for d in drift.feature_drift(current, baselines)]
        results.notes += [
            f"Drift of {d['feature']} not scored: {d['reason']}."
            for d in results.drift
            if d["reason"]
        ]
    if "performance" in checks and cube.with_outcomes:
        _, score, selected, truth = monitoring.scored_outcomes(
            ids, start, end, model.favourable_value
        )
        reference = {
            k: v
            for k, v in (version.evaluation_metrics or {}).items()
            if k in ("accuracy", "roc_auc") and isinstance(v, int | float)
        }
        report = drift.performance(
            truth.astype(float),
            version.score_direction.favourable_probability(score),
            y_pred=selected,
            reference=reference,
        )
        results.performance = report.to_dict()
    return results


def _approval_rate(cube: monitoring.Cube, baseline: dict[str, Any]) -> dict[str, Any]:
    """Selection rate now against the training baseline, overall and per attribute value."""
    groups = baseline.get("by_group") or {}
    changes = [
        drift.rate_change("overall", cube.predictions, cube.selected, baseline.get("overall"))
    ]
    for counts in monitoring.cube_counts(cube, outcomes=False, intersections=False):
        for label, (tp, _, tn, _) in zip(counts.labels, counts.cells.tolist(), strict=True):
            changes.append(drift.rate_change(label, tp + tn, tp, groups.get(label)))
    return {"changes": [c.to_dict() for c in changes]}


def breaches(results: Results, thresholds: dict[str, float], min_group_size: int) -> list[Breach]:
    """Every check of ``results`` that fails ``thresholds`` (defaults fill the gaps)."""
    limits = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    found: list[Breach] = []
    if results.fairness:
        for attribute in results.fairness["attributes"]:
            for ratio in attribute["four_fifths"]:
                if ratio["status"] == "fail" and ratio["impact_ratio"] is not None:
                    limit = limits["impact_ratio_min"]
                    found.append(
                        Breach(
                            "fairness",
                            "impact_ratio",
                            ratio["label"],
                            ratio["impact_ratio"],
                            limit,
                            f"{ratio['label']} is selected at {ratio['impact_ratio']:.0%} of the "
                            f"rate of the most-selected group (four-fifths rule: at least "
                            f"{limit:.0%}).",
                        )
                    )
            dpd = attribute["disparity"]["demographic_parity_difference"]
            limit = limits["demographic_parity_difference_max"]
            if dpd is not None and abs(dpd) > limit:
                found.append(
                    Breach(
                        "fairness",
                        "demographic_parity_difference",
                        attribute["attribute"],
                        dpd,
                        limit,
                        f"Selection rates by {attribute['attribute']} differ by {dpd:.3f} "
                        f"(limit {limit}).",
                    )
                )
    if results.fairness_with_outcomes:
        limit = limits["equalized_odds_difference_max"]
        for attribute in results.fairness_with_outcomes["attributes"]:
            eod = attribute["disparity"]["equalized_odds_difference"]
            if eod is not None and eod > limit:
                found.append(
                    Breach(
                        "fairness",
                        "equalized_odds_difference",
                        attribute["attribute"],
                        eod,
                        limit,
                        f"Error rates by {attribute['attribute']} differ by {eod:.3f} "
                        f"(equalized odds, limit {limit}).",
                    )
                )
    if results.approval_rate:
        limit = limits["approval_rate_change_max"]
        for change in results.approval_rate["changes"]:
            relative = change["relative_change"]
            if relative is not None and change["n"] >= min_group_size and abs(relative) > limit:
                found.append(
                    Breach(
                        "drift",
                        "approval_rate_change",
                        change["group"],
                        relative,
                        limit,
                        f"Approval rate of {change['group']} moved {relative:+.0%} from its "
                        f"baseline {change['baseline_rate']:.1%} to {change['current_rate']:.1%}.",
                    )
                )
    for feature in results.drift:
        limit = limits["psi_max"]
        if feature["psi"] is not None and feature["psi"] > limit:
            found.append(
                Breach(
                    "drift",
                    "psi",
                    feature["feature"],
                    feature["psi"],
                    limit,
                    f"{feature['feature']} has drifted from its training distribution "
                    f"(PSI {feature['psi']:.3f}, limit {limit}).",
                )
            )
    if results.performance:
        for change in results.performance["degradation"]:
            key = f"{change['metric']}_drop_max_points"
            if key in limits and change["drop_points"] is not None:
                if change["drop_points"] > limits[key]:
                    found.append(
                        Breach(
                            "performance",
                            f"{change['metric']}_drop_points",
                            change["metric"],
                            change["drop_points"],
                            limits[key],
                            f"{change['metric']} fell {change['drop_points']:.1f} points below "
                            f"its validation value {change['reference']:.3f} "
                            f"(limit {limits[key]} points).",
                        )
                    )
    return found


# ---------------------------------------------------------------------------- running reports

ALERT_KINDS = {
    "fairness": "fairness_breach",
    "drift": "drift_breach",
    "performance": "performance_breach",
}


def versions_in_window(model, start: dt.datetime, end: dt.datetime) -> list:
    """The versions of ``model`` that made predictions in [start, end)."""

    ids = (
        PredictionRecord.objects.filter(
            version__model=model, decided_at__gte=start, decided_at__lt=end
        )
        .values_list("version_id", flat=True)
        .distinct()
    )
    return list(ModelVersion.objects.filter(pk__in=list(ids)).select_related("model"))


def run_report(
    model,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    schedule=None,
    actor=None,
    n_bootstrap: int = 1000,
) -> list:
    """Run the monitoring report of ``model`` (one per version with traffic in the window).

    Each report is stored immutably and recorded in the ledger with its SHA-256; each breach
    raises an alert and, the first time, opens a finding owned by the model owner, emails them
    and calls the webhook. Returns the reports.
    """

    end = end or timezone.now()
    window = dt.timedelta(days=schedule.window_days if schedule else 7)
    start = start or end - window
    if start >= end:
        raise ValueError(f"The window must start before it ends ({start} to {end}).")
    checks = tuple(schedule.checks) if schedule else CHECKS
    attributes = (schedule.attributes if schedule else None) or model.sensitive_attributes
    min_group_size = schedule.min_group_size if schedule else 30
    thresholds = schedule.effective_thresholds() if schedule else dict(DEFAULT_THRESHOLDS)
    reports = []
    for version in versions_in_window(model, start, end):
        results = compute(
            version,
            start,
            end,
            checks=checks,
            attributes=attributes,
            min_group_size=min_group_size,
            n_bootstrap=n_bootstrap,
        )
        found = breaches(results, thresholds, min_group_size)
        reports.append(
            _store(
                model,
                version,
                schedule,
                actor,
                start,
                end,
                checks,
                thresholds,
                min_group_size,
                results,
                found,
            )
        )
    return reports


def _store(
    model, version, schedule, actor, start, end, checks, thresholds, min_group_size, results, found
):

    with transaction.atomic():
        report = MonitoringReport(
            schedule=schedule,
            model=model,
            version=version,
            window_start=start,
            window_end=end,
            checks=list(checks),
            thresholds=thresholds,
            min_group_size=min_group_size,
            results=jsonable(results.to_dict()),
            breaches=[b.to_dict() for b in found],
            passed=not found,
            requested_by=actor,
            created_at=timezone.now(),
        )
        report.content_sha256 = sha256_hex(report.content_bytes())
        report.save()
        record_event(
            "report.completed",
            actor=actor,
            obj=report,
            model=model,
            after={
                "version": version.label,
                "window": [start.isoformat(), end.isoformat()],
                "sha256": report.content_sha256,
                "passed": report.passed,
                "breaches": [b.key for b in found],
            },
            reason="scheduled run" if schedule and actor is None else "run on demand",
        )
        for breach in found:
            alert = raise_alert(
                ALERT_KINDS[breach.check],
                model=model,
                version=version,
                subject=f"{version.label}:{breach.key}",
                message=breach.message,
            )
            if alert.is_new:
                _open_finding(version, breach, report)
                transaction.on_commit(lambda b=breach, r=report: notify(model, b, r))
    return report


def _open_finding(version, breach: Breach, report) -> None:
    """A monitor's finding, owned by the model owner; skipped (and noted) where impossible."""

    owner = version.model.business_owner
    if owner is None or "record-finding" not in version.allowed_actions():
        return  # the alert stands; a finding needs an owner and a version that can take one
    severity = Severity.HIGH if breach.check == "fairness" else Severity.MEDIUM
    try:
        workflow.record_finding(
            version,
            None,
            title=f"Monitoring: {breach.metric.replace('_', ' ')} of {breach.subject}"[:200],
            description=f"{breach.message} Report {report.pk} ({report.content_sha256[:12]}).",
            severity=severity,
            owner=owner,
            due_date=timezone.localdate() + dt.timedelta(days=30),
            reason=f"monitoring breach {breach.key}",
        )
    except ValidationError:
        return


def notify(model, breach: Breach, report) -> None:
    """Email the model owner and call the webhook; failures are logged, never raised."""

    owner = model.business_owner
    subject = f"[Attest] {model.name}: {breach.metric.replace('_', ' ')} breached"
    body = (
        f"{breach.message}\n\nReport {report.pk}, window {report.window_start:%Y-%m-%d} to "
        f"{report.window_end:%Y-%m-%d}, SHA-256 {report.content_sha256}."
    )
    if owner is not None and owner.email:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [owner.email])
        except Exception:  # noqa: BLE001 - a mail outage must not lose the report
            log.exception("Could not email %s about %s", owner.email, breach.key)
    if settings.ALERT_WEBHOOK_URL:
        payload = {"model": model.slug, "report": report.pk, **breach.to_dict()}
        request = urllib.request.Request(
            settings.ALERT_WEBHOOK_URL,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(request, timeout=5).close()
        except Exception:  # noqa: BLE001
            log.exception("Webhook %s failed for %s", settings.ALERT_WEBHOOK_URL, breach.key)


def trends(model, limit: int = 200) -> dict[str, list[dict[str, Any]]]:
    """Each headline metric across the model's stored reports, oldest first, per version.

    Series: the lowest four-fifths impact ratio, the largest demographic parity difference, the
    largest PSI, accuracy and ROC AUC; a report that lacks a metric has no point for it.
    """
    series: dict[str, list[dict[str, Any]]] = {
        "min_impact_ratio": [],
        "max_demographic_parity_difference": [],
        "max_psi": [],
        "accuracy": [],
        "roc_auc": [],
    }
    reports = MonitoringReport.objects.filter(model=model).select_related("version")
    for report in reversed(list(reports.order_by("-window_end")[:limit])):
        point = {
            "report": report.pk,
            "version": report.version.label,
            "window_end": report.window_end.isoformat(),
        }
        results = report.results
        ratios, differences = [], []
        for attribute in (results.get("fairness") or {}).get("attributes", []):
            ratios += [
                r["impact_ratio"]
                for r in attribute["four_fifths"]
                if r["status"] in ("pass", "fail") and r["impact_ratio"] is not None
            ]
            dpd = attribute["disparity"]["demographic_parity_difference"]
            if dpd is not None:
                differences.append(abs(dpd))
        psis = [d["psi"] for d in results.get("drift") or [] if d["psi"] is not None]
        performance = results.get("performance") or {}
        values = {
            "min_impact_ratio": min(ratios, default=None),
            "max_demographic_parity_difference": max(differences, default=None),
            "max_psi": max(psis, default=None),
            "accuracy": performance.get("accuracy"),
            "roc_auc": performance.get("roc_auc"),
        }
        for name, value in values.items():
            if value is not None:
                series[name].append({**point, "value": value})
    return series
