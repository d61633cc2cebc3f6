"""One monitoring report as a PDF: its breaches, the selection rate of every group with its
confidence interval and the four-fifths line, PSI by feature, performance against validation,
and how each headline metric moved across the model's reports up to this one.

Same report, same bytes: everything printed comes from the immutable report, the records as
they stood when it ran (the model and version from their history, the schedule's name) and the
reports stored before it; the PDF is dated with the report's creation time and identified by a
digest of what it shows.

>>> pdf = render_monitoring_report(MonitoringReport.objects.latest("created_at"))
>>> pdf.pages, pdf.sha256
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from markupsafe import Markup

from audit.canonical import canonical_json, sha256_hex
from audit.models import GovernanceEvent
from compliance.choices import RiskTier
from compliance.models import MonitoringReport
from compliance.names import checked
from compliance.reports import trends

from . import charts, evidence
from .documents import gap_marker
from .rendering import RenderedPDF, render_html, renderer_fingerprint, write_pdf

TREND_REPORTS = 60  # the latest reports drawn in the charts of metrics over time
TREND_ROWS = 20  # ... and listed in the table under them
TREND_METRICS = ("min_impact_ratio", "max_demographic_parity_difference", "max_psi", "accuracy",
                 "roc_auc")  # fmt: skip


def reference(report: MonitoringReport) -> str:
    """What the footer prints and the file is named after: model, version, window, hash."""
    return checked(
        f"MON-{report.model.slug}-{report.version.label}-{report.window_end:%Y%m%d}-"
        f"{report.content_sha256[:10]}"
    )


def filename(report: MonitoringReport) -> str:
    return f"{reference(report)}.pdf"


def earlier(report: MonitoringReport) -> Q:
    """The model's reports stored up to ``report`` (itself included)."""
    return Q(model_id=report.model_id) & (
        Q(created_at__lt=report.created_at) | Q(created_at=report.created_at, pk__lte=report.pk)
    )


def trend_facts(report: MonitoringReport) -> dict[str, Any]:
    """``compliance.reports.trends`` restricted to the reports stored up to this one: each
    headline metric per report, for the latest ``TREND_REPORTS`` of them by window end.

    ``trends`` takes the model's latest reports by window end; asking for as many more as
    were stored after this one leaves at least ``TREND_REPORTS`` of those before it.
    """
    later = set(
        MonitoringReport.objects.filter(model_id=report.model_id)
        .exclude(earlier(report))
        .values_list("pk", flat=True)
    )
    series = trends(report.model, limit=TREND_REPORTS + len(later))
    rows: dict[int, dict[str, Any]] = {}
    for metric in TREND_METRICS:
        for point in series.get(metric, []):
            if point["report"] in later:
                continue
            row = rows.setdefault(
                point["report"],
                {"report": point["report"], "version": point["version"],
                 "window_end": point["window_end"], **dict.fromkeys(TREND_METRICS)},
            )  # fmt: skip
            row[metric] = point["value"]
    ordered = sorted(rows.values(), key=lambda r: (r["window_end"], r["report"]))[-TREND_REPORTS:]
    for row in ordered:
        moment = dt.datetime.fromisoformat(row["window_end"])
        row["x"] = moment.timestamp()
        row["window_end"] = evidence.iso(moment)
    return {"rows": ordered, "versions": sorted({r["version"] for r in ordered})}


def _ticks(rows: list[dict[str, Any]], most: int = 5) -> list[tuple[float, str]]:
    if not rows:
        return []
    step = max(1, -(-len(rows) // most))
    picked = rows[::step]
    if picked[-1] is not rows[-1]:
        picked.append(rows[-1])
    seen: dict[str, float] = {}
    for row in picked:
        seen.setdefault(row["window_end"][:10], row["x"])
    return [(x, label) for label, x in seen.items()]


def performance_over_time(trend: dict[str, Any], validation: dict[str, Any]) -> Markup | None:
    """Accuracy (solid) and ROC AUC (dashed) per version across the reports, with this
    version's validation values as dotted levels."""
    series = []
    for i, label in enumerate(trend["versions"]):
        colour = charts.SERIES_COLOURS[i % len(charts.SERIES_COLOURS)]
        for metric, name, dashed in (("accuracy", "accuracy", False), ("roc_auc", "ROC AUC", True)):
            points = [(r["x"], r[metric]) for r in trend["rows"]
                      if r["version"] == label and r[metric] is not None]  # fmt: skip
            if points:
                series.append(charts.Series(f"{name}, {label}", points, colour, dashed))
    if not series:
        return None
    levels = [
        charts.Level(float(validation[key]), f"{name} validation")
        for key, name in (("accuracy", "accuracy"), ("roc_auc", "ROC AUC"))
        if isinstance(validation.get(key), int | float)
    ]
    return charts.line_chart(
        series,
        title="Performance on arrived outcomes, report by report",
        x_ticks=_ticks(trend["rows"]),
        value_format="{:.3f}",
        levels=levels,
    )


def fairness_over_time(trend: dict[str, Any], impact_ratio_min: float) -> Markup | None:
    """The lowest four-fifths impact ratio per report, per version, against its limit."""
    series = []
    for i, label in enumerate(trend["versions"]):
        colour = charts.SERIES_COLOURS[i % len(charts.SERIES_COLOURS)]
        points = [(r["x"], r["min_impact_ratio"]) for r in trend["rows"]
                  if r["version"] == label and r["min_impact_ratio"] is not None]  # fmt: skip
        if points:
            series.append(charts.Series(f"lowest impact ratio, {label}", points, colour))
    if not series:
        return None
    return charts.line_chart(
        series,
        title="Lowest four-fifths impact ratio, report by report",
        x_ticks=_ticks(trend["rows"]),
        value_format="{:.3f}",
        levels=[charts.Level(impact_ratio_min, "limit", charts.COLOURS["fail"])],
        maximum=1.0,
    )


def context(report: MonitoringReport) -> dict[str, Any]:
    """Everything the template prints, as plain data (its digest identifies the PDF)."""
    when = report.created_at
    model = report.model.history.as_of(when)
    version = report.version.history.as_of(when)
    r = evidence.report_facts(report)
    event = (
        GovernanceEvent.objects.filter(
            event_type="report.completed",
            object_type=MonitoringReport._meta.label,
            object_id=str(report.pk),
        )
        .values("entry_id", "occurred_at")
        .first()
    )
    validation = {
        k: v
        for k, v in (version.evaluation_metrics or {}).items()
        if k in ("accuracy", "roc_auc") and isinstance(v, int | float)
    }
    return evidence.plain(
        {
            "model": {
                "id": report.model_id,
                "name": model.name,
                "slug": model.slug,
                "risk_tier_label": RiskTier(model.risk_tier).label,
                "sensitive_attributes": list(model.sensitive_attributes or []),
                "favourable_label": model.favourable_label,
            },
            "version": {
                "label": version.label,
                "manifest_sha256": version.manifest_sha256,
                "score_of": version.score_of,
                "score_of_label": version.get_score_of_display(),
                "validation": sorted(validation.items()),
            },
            "report": r,
            "event": {"entry_id": event["entry_id"], "at": evidence.iso(event["occurred_at"])}
            if event
            else None,
            "trend": trend_facts(report),
        }
    )


def chart_set(c: dict[str, Any]) -> dict[str, Markup]:
    r = c["report"]
    out: dict[str, Markup] = {}
    for attribute in r["selection"] or []:
        out[f"report_groups_{attribute['attribute']}"] = charts.selection_rates(attribute)
    if r["drift"]:
        out["report_psi"] = charts.psi_by_feature(r["drift"])
        score = next((f for f in r["drift"] if f["feature"] == "score"), None)
        if score:
            out["report_score"] = charts.score_distribution(score, "this window")
    if (r["performance"] or {}).get("reliability"):
        out["report_calibration"] = charts.calibration(
            r["performance"], title="Calibration in the window"
        )
    performance = performance_over_time(c["trend"], dict(c["version"]["validation"]))
    if performance is not None:
        out["performance_over_time"] = performance
    limit = next((t["value"] for t in r["thresholds"] if t["key"] == "impact_ratio_min"), 0.8)
    fairness = fairness_over_time(c["trend"], limit)
    if fairness is not None:
        out["fairness_over_time"] = fairness
    return out


def render_monitoring_report(report: MonitoringReport) -> RenderedPDF:
    """The PDF of one stored monitoring report; the same report always gives the same bytes."""
    c = context(report)
    digest = sha256_hex(
        canonical_json({"monitoring_report": c, "renderer": renderer_fingerprint()})
    )
    r = c["report"]

    def no_gap(key: str) -> Markup:  # the macros ask; a report's absences are printed in place
        return Markup("")

    html = render_html(
        "monitoring.html.j2",
        {
            "doc": {
                "kind": "monitoring",
                "title": "Monitoring Report",
                "framework": "Fairness, drift and performance monitoring",
                "reference": reference(report),
                "digest": digest,
                "as_of": r["created_at"][:10],
                "moment": report.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "e": {"model": c["model"], "version": c["version"]},
            "c": c,
            "r": r,
            "charts": chart_set(c),
            "gap": no_gap,
            "has_key": lambda key: False,
            "gap_marker": gap_marker,
        },
    )
    return write_pdf(html, identifier=digest[:32], moment=report.created_at)
