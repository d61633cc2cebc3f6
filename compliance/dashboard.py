"""What the risk officer's dashboard shows: every figure with the admin list behind it.

Each figure is a count and the URL of the filtered changelist that lists exactly what was
counted, so a number on the dashboard is always one click from its records. Everything here
reads small governance tables; prediction volumes come from the ``PredictionVolume`` rollup,
never from the ledger, so the page costs the same at ten predictions or ten million.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils import timezone
from markupsafe import Markup, escape

from audit.models import Alert, Checkpoint, VerificationRun
from modelcards.charts import FONT, GRID, INK, MUTED, nice_ticks

from .choices import EUAIActCategory, RiskTier, Severity, VersionState
from .models import AIModel, Condition, Finding, ModelVersion, MonitoringReport, PredictionVolume

VOLUME_DAYS = 30
CHECKS = ("fairness", "drift", "performance")
CATEGORY_HEADINGS = {
    EUAIActCategory.PROHIBITED: "Prohibited",
    EUAIActCategory.HIGH_RISK: "High-risk",
    EUAIActCategory.LIMITED: "Limited",
    EUAIActCategory.MINIMAL: "Minimal",
}


def changelist(model, **filters: Any) -> str:
    """The admin list of ``model`` filtered by ``filters`` (as the admin's query string)."""
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def change_page(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    url: str
    alarming: bool = False  # drawn in red when the count is not zero


@dataclass
class Dashboard:
    categories: list[tuple[str, str]]
    inventory: list[dict[str, Any]]
    inventory_total: Figure
    work: list[Figure]
    checks: list[Figure]
    failing_reports: list[MonitoringReport]
    alerts: Figure
    alerts_by_kind: list[Figure]
    open_alerts: list[Alert]
    volumes: list[dict[str, Any]]
    volume_days: tuple[dt.date, dt.date]
    checkpoint: Checkpoint | None
    verification: VerificationRun | None
    links: dict[str, str] = field(default_factory=dict)


def inventory() -> tuple[list[tuple[str, str]], list[dict[str, Any]], Figure]:
    counts = {
        (row["risk_tier"], row["eu_ai_act_category"]): row["n"]
        for row in AIModel.objects.values("risk_tier", "eu_ai_act_category").annotate(n=Count("pk"))
    }
    categories = [(c.value, CATEGORY_HEADINGS[c]) for c in EUAIActCategory]
    rows = []
    for tier in RiskTier:
        cells = [
            Figure(
                label,
                counts.get((tier.value, category), 0),
                changelist(
                    AIModel, risk_tier__exact=tier.value, eu_ai_act_category__exact=category
                ),
            )
            for category, label in categories
        ]
        total = sum(cell.count for cell in cells)
        rows.append(
            {
                "tier": tier.label.split(" –")[0],
                "meaning": tier.label,
                "cells": cells,
                "total": Figure(
                    tier.label, total, changelist(AIModel, risk_tier__exact=tier.value)
                ),
            }
        )
    total = Figure("models", sum(counts.values()), changelist(AIModel))
    return categories, rows, total


def work(now: dt.datetime) -> list[Figure]:
    versions = ModelVersion.objects
    today = timezone.localdate(now)
    return [
        Figure(
            "Versions submitted, waiting for a validator",
            versions.filter(state=VersionState.SUBMITTED).count(),
            changelist(ModelVersion, state__exact=VersionState.SUBMITTED),
        ),
        Figure(
            "Versions in validation",
            versions.filter(state=VersionState.IN_VALIDATION).count(),
            changelist(ModelVersion, state__exact=VersionState.IN_VALIDATION),
        ),
        Figure(
            "Approvals overdue for revalidation",
            versions.approval_expired(now).count(),
            changelist(ModelVersion, revalidation="overdue"),
            alarming=True,
        ),
        Figure(
            "Open high-severity findings",
            Finding.objects.open().filter(severity=Severity.HIGH).count(),
            changelist(Finding, status__exact="open", severity__exact=Severity.HIGH),
            alarming=True,
        ),
        Figure(
            "Findings overdue",
            Finding.objects.overdue(today).count(),
            changelist(Finding, overdue="yes"),
            alarming=True,
        ),
        Figure(
            "Conditions overdue",
            Condition.objects.overdue(today).count(),
            changelist(Condition, overdue="yes"),
            alarming=True,
        ),
    ]


def latest_reports() -> list[MonitoringReport]:
    """The latest monitoring report of each version: what its checks say now."""
    latest = MonitoringReport.objects.values("version").annotate(last=Max("pk")).values("last")
    return list(
        MonitoringReport.objects.filter(pk__in=latest)
        .select_related("model", "version")
        .order_by("model__name", "version__label")
    )


def failing_checks(reports: list[MonitoringReport]) -> tuple[list[Figure], list[MonitoringReport]]:
    figures = []
    for check in CHECKS:
        failing = [r.pk for r in reports if any(b["check"] == check for b in r.breaches)]
        # Exactly these reports ("0" matches none: the list is empty, as the count says).
        url = changelist(MonitoringReport, id__in=",".join(map(str, failing)) or "0")
        figures.append(Figure(f"Failing {check} checks", len(failing), url, alarming=True))
    return figures, [r for r in reports if not r.passed]


def alerts() -> tuple[Figure, list[Figure], list[Alert]]:
    unacknowledged = Alert.objects.filter(acknowledged_at__isnull=True)
    by_kind = dict(unacknowledged.values_list("kind").annotate(n=Count("pk")))
    kinds = [
        Figure(
            Alert.Kind(kind).label,
            n,
            changelist(Alert, acknowledged_at__isempty=1, kind__exact=kind),
            alarming=True,
        )
        for kind, n in sorted(by_kind.items())
    ]
    total = Figure(
        "Alerts not yet acknowledged",
        sum(by_kind.values()),
        changelist(Alert, acknowledged_at__isempty=1),
        alarming=True,
    )
    latest = list(unacknowledged.select_related("model", "version").order_by("-last_seen")[:10])
    return total, kinds, latest


def volumes(today: dt.date, days: int = VOLUME_DAYS) -> list[dict[str, Any]]:
    """Predictions per model per day over the last ``days`` days, from the rollup."""
    from audit.models import PredictionRecord

    start = today - dt.timedelta(days=days - 1)
    per_day: dict[int, dict[dt.date, int]] = {}
    rows = (
        PredictionVolume.objects.filter(day__gte=start, day__lte=today)
        .values("model_id", "day")
        .annotate(n=Sum("predictions"))
        .order_by()
    )
    for row in rows:
        per_day.setdefault(row["model_id"], {})[row["day"]] = row["n"]
    series = []
    for model in AIModel.objects.filter(pk__in=per_day).order_by("name"):
        counts = per_day[model.pk]
        points = []
        for offset in range(days):
            day = start + dt.timedelta(days=offset)
            url = changelist(
                PredictionRecord,
                version__model__id__exact=model.pk,
                decided_at__year=day.year,
                decided_at__month=day.month,
                decided_at__day=day.day,
            )
            points.append((day, counts.get(day, 0), url))
        total = Figure(
            model.name,
            sum(counts.values()),
            changelist(
                PredictionRecord,
                version__model__id__exact=model.pk,
                decided_at__gte=start.isoformat(),
            ),
        )
        series.append({"model": model, "total": total, "chart": volume_chart(points)})
    return series


def volume_chart(points: list[tuple[dt.date, int, str]], width=560, height=120) -> Markup:
    """Columns of predictions per day, each a link to that day's predictions (inline SVG)."""
    top = max([n for _, n, _ in points] + [1])
    ticks = nice_ticks(0, top, 4)
    top = max(ticks[-1], top)
    left, bottom, right = 48, 18, 4
    plot_w, plot_h = width - left - right, height - bottom - 6
    step = plot_w / len(points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="volume-chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="10" '
        'role="img">'
    ]
    for tick in ticks:
        y = 6 + plot_h - tick / top * plot_h
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{int(tick):,}</text>"
        )
    for i, (day, n, url) in enumerate(points):
        h = n / top * plot_h
        x = left + i * step
        title = escape(f"{day:%a %d %b}: {n:,} predictions")
        parts.append(
            f'<a href="{escape(url)}"><title>{title}</title>'
            f'<rect x="{x + 1:.1f}" y="{6 + plot_h - h:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{max(h, 0.5):.1f}" fill="#2f5d8a"/></a>'
        )
        if (len(points) - 1 - i) % 7 == 0:  # weekly, ending today
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 4}" text-anchor="middle" '
                f'fill="{INK}">{day:%d %b}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def dashboard(now: dt.datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    categories, rows, total = inventory()
    reports = latest_reports()
    checks, failing = failing_checks(reports)
    alert_total, alert_kinds, open_alerts = alerts()
    today = timezone.localdate(now)
    return Dashboard(
        categories=categories,
        inventory=rows,
        inventory_total=total,
        work=work(now),
        checks=checks,
        failing_reports=failing,
        alerts=alert_total,
        alerts_by_kind=alert_kinds,
        open_alerts=open_alerts,
        volumes=volumes(today),
        volume_days=(today - dt.timedelta(days=VOLUME_DAYS - 1), today),
        checkpoint=Checkpoint.objects.order_by("-tree_size").first(),
        verification=VerificationRun.objects.order_by("-ran_at").first(),
        links={
            "checkpoints": changelist(Checkpoint),
            "verifications": changelist(VerificationRun),
            "reports": changelist(MonitoringReport),
        },
    )
