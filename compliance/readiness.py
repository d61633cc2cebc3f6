"""The production-readiness scorecard of a model: ten questions, each answered yes or no from
evidence in the system, with the evidence or the gap linked.

``facts(model)`` reads what the answers need from the database (and the URLs where a person
checks it); ``scorecard(facts)`` is pure: the same facts give the same answers, so each
question's rule is tested on its own without a database.

>>> [a.yes for a in scorecard(facts(model))]
[True, False, True, ...]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from .choices import DeploymentRole, Environment, VersionState
from .dashboard import change_page, changelist
from .models import (
    AIModel,
    Deployment,
    ModelArtifact,
    ModelVersion,
    MonitoringReport,
    PredictionVolume,
    ReportSchedule,
)


@dataclass(frozen=True)
class ReadinessFacts:
    """What the scorecard needs to know about one model, plain values only."""

    model: str
    champion: str | None = None  # label of the active production champion
    champion_has_previous: bool = False  # a champion before it, which a rollback restores
    rollbacks: int = 0
    versions: list[str] = field(default_factory=list)  # labels of versions past draft
    versions_without_artifact: list[str] = field(default_factory=list)
    schedules_within_24h: list[str] = field(default_factory=list)  # performance + drift, <= 24 h
    reports: int = 0
    champion_schema_features: int = 0  # named properties in the champion's input schema
    champion_feature_pipeline: str = ""
    latest_drift_failures: list[str] = field(default_factory=list)  # features over the PSI limit
    latest_drift_report: bool = False  # the champion has a drift report
    open_schema_alerts: int = 0
    challenger_deployments: int = 0  # shadow or canary, ever
    predictions_logged: int = 0  # sealed into the ledger
    last_verification_ok: bool | None = None  # None: never verified
    monthly_cost: Decimal | None = None
    owner: str | None = None
    documents: list[str] = field(default_factory=list)  # SR 11-7 documentation, model cards
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    key: str
    question: str
    yes: bool
    detail: str  # the evidence when yes, the gap when no
    url: str  # where to check it


def _list(labels: list[str]) -> str:
    return ", ".join(labels)


def deploy_and_roll_back(f: ReadinessFacts) -> Answer:
    q = "Deploy and roll back within minutes"
    if f.champion is None:
        return Answer(
            "deploy",
            q,
            False,
            "No champion deployed to production through Attest.",
            f.links.get("deployments", ""),
        )
    if f.champion_has_previous or f.rollbacks:
        how = f"{f.rollbacks} rollback(s) recorded" if f.rollbacks else "a previous champion"
        return Answer(
            "deploy",
            q,
            True,
            f"{f.champion} serves production; one step restores the champion before it ({how}).",
            f.links.get("deployments", ""),
        )
    return Answer(
        "deploy",
        q,
        False,
        f"{f.champion} serves production, but there is no earlier champion to roll back to.",
        f.links.get("deployments", ""),
    )


def reproducible(f: ReadinessFacts) -> Answer:
    q = "Reproduce any version from any date"
    url = f.links.get("versions", "")
    if not f.versions:
        return Answer("reproduce", q, False, "No version has left draft.", url)
    if f.versions_without_artifact:
        return Answer(
            "reproduce",
            q,
            False,
            f"No model file uploaded for {_list(f.versions_without_artifact)}.",
            url,
        )
    return Answer(
        "reproduce",
        q,
        True,
        f"Every version ({_list(f.versions)}) pins its artifact, "
        "training data and code by hash, with its file uploaded; history kept for "
        "any date.",
        url,
    )


def degradation_within_24h(f: ReadinessFacts) -> Answer:
    q = "Know within 24 hours if predictions degrade"
    url = f.links.get("schedules", "")
    if not f.schedules_within_24h:
        return Answer(
            "degrade",
            q,
            False,
            "No active schedule checks performance and drift at least daily.",
            url,
        )
    if not f.reports:
        return Answer("degrade", q, False, f"{_list(f.schedules_within_24h)} has not run yet.", url)
    return Answer(
        "degrade",
        q,
        True,
        f"{_list(f.schedules_within_24h)} checks performance and "
        f"drift at least daily; {f.reports} report(s) so far.",
        f.links.get("reports", url),
    )


def features_consistent(f: ReadinessFacts) -> Answer:
    q = "Features identical at training and serving time"
    url = f.links.get("drift", "")
    if f.champion is None or not f.champion_feature_pipeline:
        return Answer(
            "features",
            q,
            False,
            "No production champion with a pinned feature pipeline.",
            f.links.get("deployments", ""),
        )
    if not f.latest_drift_report:
        return Answer(
            "features",
            q,
            False,
            f"No drift report compares {f.champion}'s serving inputs with its training baseline.",
            url,
        )
    if f.latest_drift_failures or f.open_schema_alerts:
        gaps = []
        if f.latest_drift_failures:
            gaps.append(f"drifted: {_list(f.latest_drift_failures)}")
        if f.open_schema_alerts:
            gaps.append(f"{f.open_schema_alerts} open schema-violation alert(s)")
        return Answer(
            "features",
            q,
            False,
            "Serving inputs differ from training (" + "; ".join(gaps) + ").",
            url,
        )
    pipeline = f.champion_feature_pipeline
    return Answer(
        "features",
        q,
        True,
        f"{f.champion} pins pipeline {pipeline}; its latest "
        "drift report finds every feature within the PSI limit.",
        url,
    )


def data_validation(f: ReadinessFacts) -> Answer:
    q = "Automated data validation"
    url = f.links.get("champion", f.links.get("versions", ""))
    if f.champion is None or not f.champion_schema_features:
        return Answer(
            "validation",
            q,
            False,
            "No production champion with an input schema that names its features.",
            url,
        )
    return Answer(
        "validation",
        q,
        True,
        f"Every prediction of {f.champion} is checked against "
        f"its input schema ({f.champion_schema_features} features) as it is logged; "
        "violations are flagged and alerted.",
        url,
    )


def shadow_or_canary(f: ReadinessFacts) -> Answer:
    q = "Canary or shadow testing"
    url = f.links.get("challengers", "")
    if not f.challenger_deployments:
        return Answer(
            "canary", q, False, "No version has run as a challenger in shadow or canary.", url
        )
    return Answer(
        "canary",
        q,
        True,
        f"{f.challenger_deployments} challenger deployment(s) in shadow or canary.",
        url,
    )


def audit_trail(f: ReadinessFacts) -> Answer:
    q = "Audit trail of any prediction in minutes"
    url = f.links.get("predictions", "")
    if not f.predictions_logged:
        return Answer("trail", q, False, "No prediction sealed into the ledger.", url)
    if f.last_verification_ok is None:
        return Answer(
            "trail",
            q,
            False,
            "The ledger has never been verified.",
            f.links.get("verifications", url),
        )
    if not f.last_verification_ok:
        return Answer(
            "trail",
            q,
            False,
            "The last verification of the ledger failed.",
            f.links.get("verifications", url),
        )
    return Answer(
        "trail",
        q,
        True,
        f"{f.predictions_logged:,} predictions sealed in the verified "
        "ledger; each one's trail is one call.",
        url,
    )


def cost_known(f: ReadinessFacts) -> Answer:
    q = "Cost per model known"
    url = f.links.get("model", "")
    if f.monthly_cost is None:
        return Answer("cost", q, False, "No monthly cost recorded in the inventory.", url)
    return Answer("cost", q, True, f"{f.monthly_cost:,.2f} a month.", url)


def single_owner(f: ReadinessFacts) -> Answer:
    q = "One owner end to end"
    url = f.links.get("model", "")
    if not f.owner:
        return Answer("owner", q, False, "No business owner in the inventory.", url)
    return Answer("owner", q, True, f"{f.owner} owns it and receives its alerts.", url)


def documented(f: ReadinessFacts) -> Answer:
    q = "Documentation a newcomer can follow"
    url = f.links.get("documents", "")
    if not f.documents:
        return Answer("docs", q, False, "No SR 11-7 documentation or model card issued.", url)
    return Answer("docs", q, True, f"Issued: {_list(f.documents)}.", url)


QUESTIONS = (
    deploy_and_roll_back,
    reproducible,
    degradation_within_24h,
    features_consistent,
    data_validation,
    shadow_or_canary,
    audit_trail,
    cost_known,
    single_owner,
    documented,
)


def scorecard(f: ReadinessFacts) -> list[Answer]:
    return [question(f) for question in QUESTIONS]


def facts(model: AIModel) -> ReadinessFacts:
    """Everything the scorecard needs about ``model``, read from the database."""
    from audit.models import Alert, GovernanceEvent, PredictionRecord, VerificationRun
    from modelcards.models import DocumentKind, IssuedDocument

    champion = (
        Deployment.objects.active()
        .filter(model=model, environment=Environment.PRODUCTION, role=DeploymentRole.CHAMPION)
        .select_related("version")
        .first()
    )
    versions = list(model.versions.exclude(state=VersionState.DRAFT).order_by("created_at"))
    with_artifact = set(
        ModelArtifact.objects.filter(version__in=versions).values_list("version_id", flat=True)
    )
    schedules = [
        s.name
        for s in ReportSchedule.objects.filter(model=model, active=True, cadence_hours__lte=24)
        if {"performance", "drift"} <= set(s.checks)
    ]
    drift_report = None
    if champion is not None:
        latest = MonitoringReport.objects.filter(version=champion.version).order_by("-pk")
        drift_report = next((r for r in latest[:20] if "drift" in r.checks), None)
    drifted = [
        b["subject"]
        for b in (drift_report.breaches if drift_report else [])
        if b["check"] == "drift"
    ]
    verification = VerificationRun.objects.order_by("-ran_at").first()
    documents = IssuedDocument.objects.filter(
        model=model, kind__in=[DocumentKind.SR117, DocumentKind.MODELCARD]
    )
    owner = model.business_owner
    links = {
        "model": change_page(model),
        "deployments": changelist(Deployment, model__id__exact=model.pk),
        "challengers": changelist(Deployment, model__id__exact=model.pk, role__exact="challenger"),
        "versions": changelist(ModelVersion, model__id__exact=model.pk),
        "schedules": changelist(ReportSchedule, model__id__exact=model.pk),
        "reports": changelist(MonitoringReport, model__id__exact=model.pk),
        "drift": change_page(drift_report) if drift_report else "",
        "predictions": changelist(PredictionRecord, version__model__id__exact=model.pk),
        "verifications": changelist(VerificationRun),
        "documents": changelist(IssuedDocument, model__id__exact=model.pk),
    }
    if champion is not None:
        links["champion"] = change_page(champion.version)
    return ReadinessFacts(
        model=model.slug,
        champion=champion.version.label if champion else None,
        champion_has_previous=bool(champion and champion.previous_id),
        rollbacks=GovernanceEvent.objects.filter(
            model=model, event_type="deployment.rolled_back"
        ).count(),
        versions=[v.label for v in versions],
        versions_without_artifact=[v.label for v in versions if v.pk not in with_artifact],
        schedules_within_24h=schedules,
        reports=MonitoringReport.objects.filter(model=model).count(),
        champion_schema_features=len(
            (champion.version.input_schema or {}).get("properties", {}) if champion else {}
        ),
        champion_feature_pipeline=champion.version.feature_pipeline_version if champion else "",
        latest_drift_failures=drifted,
        latest_drift_report=drift_report is not None,
        open_schema_alerts=Alert.objects.filter(
            model=model, kind=Alert.Kind.SCHEMA_VIOLATION, acknowledged_at__isnull=True
        ).count(),
        challenger_deployments=Deployment.objects.filter(
            model=model, role=DeploymentRole.CHALLENGER
        ).count(),
        predictions_logged=PredictionVolume.objects.filter(model=model).aggregate(
            n=Sum("predictions")
        )["n"]
        or 0,
        last_verification_ok=verification.ok if verification else None,
        monthly_cost=model.monthly_cost,
        owner=(owner.get_full_name() or owner.get_username()) if owner else None,
        documents=sorted({d.get_kind_display() for d in documents}),
        links=links,
    )
