"""One builder per document: the evidence it needs, what it requires, and how it is issued.

A builder turns the facts of ``modelcards.evidence`` into a document's context and checks its
required evidence items; each item is present or a gap, and a gap is printed where the item
belongs ("No validation report on file") and counted in the coverage score of the document's
framework (items present / items required). ``issue()`` renders the PDF, stores it with its
SHA-256 and records the ledger event, in one transaction.

>>> document = issue(DocumentKind.SR117, model, as_of=date(2026, 6, 30), user=officer)
>>> document.reference, document.sha256, document.event.event_type
('SR117-credit-scoring-1.0.0-20260630-4f1c9a2b7e', '…', 'document.issued')
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from markupsafe import Markup, escape

from audit import merkle
from audit.canonical import canonical_json, sha256_hex
from audit.ledger import record_event
from audit.models import Checkpoint, Leaf, PredictionRecord
from audit.sequencer import inclusion_proof
from compliance import explanations
from compliance.models import AIModel
from compliance.names import checked
from compliance.serving import ServingHistory

from . import charts, evidence
from .models import DocumentKind, IssuedDocument
from .rendering import pdf_moment, render_html, renderer_fingerprint, write_pdf

Evidence = dict[str, Any]
Progress = Callable[[int, str], None]

SR117, EU_AI_ACT, MODEL_CARD, DECISION = "SR 11-7", "EU AI Act", "Model card", "Decision record"


def _nothing(percent: int, stage: str) -> None:
    pass


# ---------------------------------------------------------------------------- requirements


@dataclass(frozen=True)
class Requirement:
    key: str
    label: str
    gap: str  # printed where the evidence is missing; {as_of} and {version} are filled in
    present: Callable[[Evidence], bool]
    # Why it is missing, when a requirement can say (appended to the gap): content checks.
    reasons: Callable[[Evidence], list[str]] | None = None


def _workflow(e: Evidence) -> dict[str, Any]:
    return e.get("workflow") or {}


def _analytics(e: Evidence) -> dict[str, Any]:
    return e.get("analytics") or {}


def _version(e: Evidence) -> dict[str, Any]:
    return e.get("version") or {}


def _version_deployments(e: Evidence) -> list[dict[str, Any]]:
    label = _version(e).get("label")
    return [d for d in _workflow(e).get("deployments", []) if d["version"] == label]


def _narrative(name: str) -> Callable[[Evidence], bool]:
    return lambda e: bool(e["narrative"]["text"][name])


NARRATIVE_LABELS = {
    "methodology": "methodology, design choices and rationale",
    "assumptions": "statement of assumptions",
    "limitations": "statement of limitations",
    "architecture": "description of the system architecture and computational resources",
    "data_provenance": "description of data provenance, selection, labelling and cleaning",
    "instructions_for_use": "instructions for use",
    "human_oversight": "description of human oversight measures",
    "predetermined_changes": "description of pre-determined changes",
    "cybersecurity": "description of cybersecurity measures",
    "risk_management": "risk management system description",
    "standards_applied": "list of standards applied",
    "declaration_of_conformity": "EU declaration of conformity",
    "post_market_monitoring_plan": "post-market monitoring plan",
    "ethical_considerations": "statement of ethical considerations",
    "caveats_and_recommendations": "caveats and recommendations",
}

REQUIREMENTS: dict[str, Requirement] = {
    r.key: r
    for r in [
        Requirement("inventory.purpose", "Intended purpose", "No intended purpose recorded in "
                    "the inventory", lambda e: bool(e["model"]["intended_purpose"])),
        Requirement("inventory.users", "Intended users", "No intended users recorded in the "
                    "inventory", lambda e: bool(e["model"]["intended_users"])),
        Requirement("inventory.owner", "Accountable business owner", "No business owner "
                    "recorded in the inventory", lambda e: bool(e["model"]["business_owner"])),
        Requirement("inventory.team", "Developing team", "No developing team recorded in the "
                    "inventory", lambda e: bool(e["model"]["developing_team"])),
        Requirement("version.registered", "A registered model version", "No model version "
                    "registered as of {as_of}", lambda e: bool(e.get("version"))),
        Requirement("version.commit", "Code commit of the version", "The version's code commit "
                    "is not a commit hash (7 to 40 hexadecimal characters)",
                    lambda e: bool(_version(e).get("code_commit_is_hash"))),
        Requirement("version.metrics", "Evaluation metrics in the version bundle", "No "
                    "evaluation metrics in the version bundle",
                    lambda e: bool(_version(e).get("evaluation_metrics"))),
        Requirement("version.baselines", "Monitoring baselines in the version bundle", "No "
                    "monitoring baselines in the version bundle",
                    lambda e: bool(_version(e).get("baseline_features")
                                   or _version(e).get("baseline_score"))),
        Requirement("version.schema", "Input data specification", "No input schema with named "
                    "features in the version bundle",
                    lambda e: bool(_version(e).get("input_features"))),
        *[
            Requirement(f"narrative.{name}", label[0].upper() + label[1:], f"No {label} on file",
                        _narrative(name))
            for name, label in NARRATIVE_LABELS.items()
        ],
        Requirement("ledger.logging", "Decisions logged to the ledger (Art. 12)", "No decisions "
                    "of version {version} logged to the ledger as of {as_of}",
                    lambda e: bool((e["ledger"].get("version") or {}).get("n"))),
        Requirement("ledger.checkpoint", "Signed checkpoint of the ledger", "No signed "
                    "checkpoint of the ledger as of {as_of}",
                    lambda e: bool(e["ledger"]["checkpoint"])),
        Requirement("ledger.verification", "Verification of the ledger", "No verification of "
                    "the ledger on file as of {as_of}",
                    lambda e: bool((e["ledger"]["verification"] or {}).get("ok"))),
        Requirement("ledger.outcomes", "Outcomes for back-testing", "No outcomes logged for "
                    "back-testing as of {as_of}",
                    lambda e: bool(_analytics(e).get("performance"))),
        Requirement("analytics.groups", "Decision rates per group", "No logged decisions with "
                    "sensitive attributes: rates per group cannot be computed",
                    lambda e: bool(_analytics(e).get("fairness"))),
        Requirement("analytics.importance", "Global feature importance", "No explanations "
                    "logged and no verifiable linear artifact: global importance not available",
                    lambda e: bool(_analytics(e).get("importance"))),
        Requirement("analytics.drift", "Drift against the training baseline", "No drift "
                    "figures: no logged decisions or no training baseline",
                    lambda e: bool(_analytics(e).get("drift"))),
        Requirement("monitoring.schedule", "Monitoring schedule", "No active monitoring "
                    "schedule on file as of {as_of}",
                    lambda e: bool(e["monitoring"]["active"])),
        Requirement("monitoring.fairness", "Scheduled fairness report", "No fairness report on "
                    "file for version {version} as of {as_of}",
                    lambda e: bool(e["monitoring"]["fairness_report"])),
        Requirement("monitoring.drift", "Scheduled drift report", "No drift report on file for "
                    "version {version} as of {as_of}",
                    lambda e: bool(e["monitoring"]["drift_report"])),
        Requirement("monitoring.performance", "Scheduled performance report", "No performance "
                    "report on file for version {version} as of {as_of}: no monitoring report "
                    "measured it on arrived outcomes",
                    lambda e: bool(e["monitoring"]["performance_report"])),
        Requirement("workflow.review", "Independent validation review", "No validation report "
                    "on file", lambda e: any(r["decided_at"] for r in
                                             _workflow(e).get("reviews", []))),
        Requirement("workflow.elements", "Conclusions on the three elements of validation",
                    "No conclusions on conceptual soundness, ongoing monitoring and outcomes "
                    "analysis on file",
                    lambda e: any(r["elements"] and all(x["conclusion"] for x in r["elements"])
                                  for r in _workflow(e).get("reviews", []))),
        Requirement("workflow.substance", "Substance of the validators' conclusions", "The "
                    "validators' conclusions are not substantiated",
                    lambda e: not _workflow(e).get("substance", ["no review"]),
                    lambda e: _workflow(e).get("substance", ["no review"])),
        Requirement("workflow.benchmark", "Benchmark against a challenger or baseline model",
                    "No validator benchmarked version {version} against a challenger or "
                    "baseline model on the same hold-out",
                    lambda e: any(r["decided_at"] and r.get("benchmark")
                                  for r in _workflow(e).get("reviews", []))),
        Requirement("workflow.approval", "Approval of the version", "No approval of version "
                    "{version} on file as of {as_of}",
                    lambda e: bool(_workflow(e).get("approvals"))),
        Requirement("workflow.independence", "Independence of the validators", "Independence "
                    "of validation not demonstrated: no independent validator on file",
                    lambda e: bool(_workflow(e).get("independence"))
                    and not any(i["problems"] for i in _workflow(e)["independence"])),
        Requirement("workflow.revalidation", "Date of the next revalidation", "No revalidation "
                    "date on file: version {version} has no current approval",
                    lambda e: bool(_version(e).get("approval_expires_at"))),
        Requirement("workflow.deployment", "Deployment record of the version", "No deployment "
                    "of version {version} on file as of {as_of}",
                    lambda e: any(d["version"] == _version(e).get("label")
                                  for d in _workflow(e).get("deployments", []))),
        Requirement("workflow.approved_before_deployment", "Approved before each deployment",
                    "Version {version} was deployed without an approval in force",
                    lambda e: all(d["approved_then"] for d in _version_deployments(e))),
        Requirement("workflow.oversight", "Human oversight records (Art. 14)", "No human "
                    "oversight (override, reversal, confirmation or stop) recorded for this model "
                    "as of {as_of}",
                    lambda e: bool((_workflow(e).get("oversight") or {}).get("total"))),
        Requirement("dossier.explanation", "Explanation and reason codes", "No explanation "
                    "logged with this decision: no reason codes can be given",
                    lambda e: bool(e["trail"]["explanation"])),
        Requirement("dossier.outcome", "Observed outcome", "No outcome logged for this "
                    "decision as of {as_of}", lambda e: bool(e["trail"]["outcomes"])),
        Requirement("dossier.receipt", "Receipt with inclusion proof", "Not sealed into a "
                    "signed checkpoint as of {as_of}: no inclusion proof",
                    lambda e: bool(e["trail"]["receipt"])),
        Requirement("dossier.approval", "Approval in force at the decision time", "No approval "
                    "of version {version} in force at the decision time",
                    lambda e: bool(e["trail"]["serving_then"]["approval"])),
        Requirement("dossier.deployment", "Deployment in force at the decision time", "No "
                    "deployment of version {version} in that environment in force at the decision "
                    "time", lambda e: bool(e["trail"]["serving_then"]["deployment"])),
    ]
}  # fmt: skip


@dataclass(frozen=True)
class Spec:
    kind: str
    title: str
    template: str
    framework: str
    prefix: str
    requires: tuple[str, ...]


_N = "narrative."
SPECS: dict[str, Spec] = {
    s.kind: s
    for s in [
        Spec(DocumentKind.SR117, "Model Documentation", "sr117.html.j2", SR117, "SR117", (
            "inventory.purpose", "inventory.users", "inventory.owner", "inventory.team",
            "version.registered", "version.metrics", "version.baselines", "version.schema",
            _N + "methodology", _N + "assumptions", _N + "limitations", _N + "data_provenance",
            _N + "architecture", _N + "instructions_for_use",
            "analytics.importance", "ledger.logging", "ledger.checkpoint", "ledger.outcomes",
            "analytics.groups", "analytics.drift", "monitoring.schedule", "monitoring.fairness",
            "monitoring.drift", "monitoring.performance", "workflow.review", "workflow.approval",
            "workflow.deployment", "workflow.approved_before_deployment", "workflow.revalidation",
            "version.commit",
        )),
        Spec(DocumentKind.VALIDATION, "Model Validation Report", "validation.html.j2", SR117,
             "VAL", (
            "version.registered", "workflow.review", "workflow.elements", "workflow.substance",
            "workflow.benchmark", "workflow.independence", "workflow.approval",
            "workflow.revalidation", "version.metrics", "version.baselines",
            "ledger.outcomes", "analytics.groups", "analytics.drift", "monitoring.schedule",
            "monitoring.fairness", "monitoring.drift", "monitoring.performance",
        )),
        Spec(DocumentKind.ANNEX4, "Technical Documentation (EU AI Act, Annex IV)",
             "annex4.html.j2", EU_AI_ACT, "AIA4", (
            "inventory.purpose", "inventory.users", "inventory.owner", "version.registered",
            _N + "architecture", _N + "instructions_for_use", _N + "methodology",
            _N + "data_provenance", _N + "human_oversight", _N + "predetermined_changes",
            "version.commit", "workflow.deployment", "workflow.approved_before_deployment",
            "version.metrics", "analytics.groups", "workflow.review", _N + "cybersecurity",
            _N + "limitations", "version.schema", "ledger.logging", "ledger.checkpoint",
            "ledger.verification", "workflow.oversight", _N + "risk_management",
            _N + "standards_applied", _N + "declaration_of_conformity",
            _N + "post_market_monitoring_plan", "monitoring.schedule", "monitoring.fairness",
            "monitoring.drift", "monitoring.performance",
        )),
        Spec(DocumentKind.MODELCARD, "Model Card", "modelcard.html.j2", MODEL_CARD, "CARD", (
            "inventory.purpose", "inventory.users", "version.registered", "version.metrics",
            "version.schema", _N + "data_provenance", "monitoring.fairness",
            "monitoring.performance", "analytics.groups", "ledger.outcomes",
            _N + "ethical_considerations", _N + "limitations", _N + "caveats_and_recommendations",
        )),
        Spec(DocumentKind.DOSSIER, "Prediction Dossier", "dossier.html.j2", DECISION, "DOS", (
            "dossier.explanation", "dossier.outcome", "dossier.receipt", "dossier.approval",
            "dossier.deployment",
        )),
    ]
}  # fmt: skip


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    present: bool
    gap: str


@dataclass
class Coverage:
    framework: str
    items: list[Item] = field(default_factory=list)

    @property
    def present(self) -> int:
        return sum(item.present for item in self.items)

    @property
    def required(self) -> int:
        return len(self.items)

    @property
    def gaps(self) -> list[str]:
        return [item.gap for item in self.items if not item.present]

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "present": self.present,
            "required": self.required,
            "gaps": self.gaps,
        }


def check(keys: tuple[str, ...], e: Evidence, framework: str) -> Coverage:
    words = {"as_of": e["as_of"], "version": _version(e).get("label", "(none)")}
    coverage = Coverage(framework)
    for key in keys:
        r = REQUIREMENTS[key]
        present = bool(r.present(e))
        gap = r.gap.format(**words)
        if not present and r.reasons is not None:
            gap += ": " + "; ".join(r.reasons(e))
        coverage.items.append(Item(key, r.label, present, gap))
    return coverage


def model_coverage(model: AIModel, as_of: dt.date | None = None) -> list[Coverage]:
    """Coverage of each framework for ``model``: every item its documents require, once."""
    e = evidence.gather(model, as_of or timezone.now().date())
    by_framework: dict[str, list[str]] = {}
    for spec in SPECS.values():
        if spec.kind == DocumentKind.DOSSIER:
            continue
        keys = by_framework.setdefault(spec.framework, [])
        keys += [k for k in spec.requires if k not in keys]
    return [check(tuple(keys), e, name) for name, keys in by_framework.items()]


# ---------------------------------------------------------------------------- the trail


def trail_facts(record: PredictionRecord, e: Evidence, cutoff: dt.datetime) -> dict[str, Any]:
    """One decision as of ``cutoff``: what was logged, why, under which approval, what came of
    it, and the proof that the log holds it."""
    payload = record.entry.payload() or {"inputs": {}, "output": {}}  # purged: no payload
    titles = {f["name"]: f["title"] for f in _version(e).get("input_features", [])}
    explained = explanations.explanation_of(record, cutoff, payload)
    numeric = explained.contributions if explained else {}
    reasons = [r.to_dict() for r in explanations.reason_codes(record, as_of=cutoff)]
    outcomes = []
    for o in record.outcomes.filter(received_at__lt=cutoff).order_by("received_at", "pk"):
        outcomes.append(
            {
                "outcome_id": str(o.outcome_id),
                "label": o.label,
                "observed_at": evidence.iso(o.observed_at),
                "received_at": evidence.iso(o.received_at),
                "corrects": str(o.corrects.outcome_id) if o.corrects_id else None,
            }
        )
    corrected = {o["corrects"] for o in outcomes if o["corrects"]}
    current = [o for o in outcomes if o["outcome_id"] not in corrected]
    then = evidence.workflow_facts(e["model"], e["version"], record.decided_at, evidence.People())
    return evidence.plain(
        {
            "event_id": str(record.event_id),
            "entry_id": record.entry_id,
            "leaf_hash": record.entry.leaf_hash_hex,
            "decided_at": evidence.iso(record.decided_at),
            "received_at": evidence.iso(record.received_at),
            "environment": record.environment,
            "inputs": [[k, titles.get(k, ""), v] for k, v in sorted(payload["inputs"].items())],
            "output": evidence.flat_items(payload["output"]),
            "context": evidence.flat_items(payload.get("context") or {}),
            "explanation": [[k, titles.get(k, ""), v] for k, v in sorted(numeric.items())],
            "explanation_source": explanation_source(explained),
            "reasons": reasons,
            "favourable": record.favourable,
            "sensitive_committed": bool(payload.get("sensitive_sha256")),
            "flags": {
                "schema_violation": record.schema_violation,
                "unapproved_version": record.unapproved_version,
            },
            "outcomes": outcomes,
            "outcome": current[-1] if current else None,
            "approvals_then": then["approvals"],
            # The same rule, at the same instant, as ingest's flag and the trail's answer.
            "serving_then": ServingHistory(record.version_id, record.environment).evidence(
                record.decided_at
            ),
            "oversight": evidence.decision_oversight(record, cutoff),
            "receipt": receipt_as_of(record, cutoff),
        }
    )


def explanation_source(explained: explanations.Explanation | None) -> str:
    """Where the explanation comes from, in a sentence: the service, or the ledger's own."""
    if explained is None or not explained.contributions:
        return ""
    if explained.source == "logged":
        return "Logged by the model service with the decision."
    additive = "adds up to the model's output" if explained.additive else "does NOT add up"
    return (
        f"Computed by Attest ({explained.method}, {explained.output_space}) after the decision "
        f"and appended to the ledger as entry {explained.entry_id}; it {additive}."
    )


def receipt_as_of(record: PredictionRecord, cutoff: dt.datetime) -> dict[str, Any] | None:
    """The entry's inclusion proof against the latest checkpoint signed before ``cutoff``."""
    leaf = Leaf.objects.filter(entry_id=record.entry_id).first()
    if leaf is None:
        return None
    checkpoint = (
        Checkpoint.objects.filter(issued_at__lt=cutoff, tree_size__gt=leaf.index)
        .order_by("-tree_size")
        .first()
    )
    if checkpoint is None:
        return None
    proof = inclusion_proof(leaf.index, checkpoint.tree_size)
    root = bytes(checkpoint.root_hash)
    leaf_hash = bytes(record.entry.leaf_hash)
    return {
        "leaf_index": leaf.index,
        "leaf_hash": leaf_hash.hex(),
        "proof": [h.hex() for h in proof],
        "verified": merkle.verify_inclusion(
            leaf_hash, leaf.index, checkpoint.tree_size, proof, root
        ),
        "checkpoint": checkpoint.signed(),
        "canonical_sha256": sha256_hex(bytes(record.entry.canonical)),
    }


# ---------------------------------------------------------------------------- building


@dataclass
class Built:
    """A document ready to render: its evidence, coverage, digest and reference."""

    spec: Spec
    model: AIModel
    as_of: dt.date
    evidence: Evidence
    coverage: Coverage
    digest: str
    reference: str
    record: PredictionRecord | None = None

    @property
    def version_label(self) -> str | None:
        return (self.evidence.get("version") or {}).get("label")


def build(
    kind: str,
    model: AIModel,
    as_of: dt.date,
    version_label: str | None = None,
    event_id: str | None = None,
) -> Built:
    """Gather the evidence of one document and derive its reference (nothing is stored)."""
    spec = SPECS[kind]
    record = None
    if kind == DocumentKind.DOSSIER:
        record = _prediction(model, event_id, as_of)
        version_label = record.version.label
    e = evidence.gather(model, as_of, version_label)
    if record is not None:
        e["trail"] = trail_facts(record, e, evidence.cutoff_for(as_of))
    coverage = check(spec.requires, e, spec.framework)
    digest = sha256_hex(
        canonical_json({"kind": spec.kind, "evidence": e, "renderer": renderer_fingerprint()})
    )
    subject = str(record.event_id)[:8] if record else (version_label or _version(e).get("label"))
    reference = checked(
        f"{spec.prefix}-{model.slug}-{subject or 'none'}-{as_of:%Y%m%d}-{digest[:10]}"
    )  # it names the document's file (compliance.names)
    return Built(spec, model, as_of, e, coverage, digest, reference, record)


def _prediction(model: AIModel, event_id: str | None, as_of: dt.date) -> PredictionRecord:
    if not event_id:
        raise evidence.EvidenceError("A prediction dossier needs the prediction's event id.")
    record = (
        PredictionRecord.objects.select_related("entry", "version")
        .filter(event_id=event_id, version__model=model)
        .first()
    )
    if record is None:
        raise evidence.EvidenceError(f"No prediction {event_id} of model {model.slug}.")
    if record.received_at >= evidence.cutoff_for(as_of):
        raise evidence.EvidenceError(
            f"Prediction {event_id} was logged on {record.received_at:%Y-%m-%d}, after {as_of}."
        )
    return record


def chart_set(e: Evidence) -> dict[str, Markup]:
    """The SVG figures of a document, drawn from its evidence: ``groups_*``, ``psi``,
    ``score_distribution``, ``calibration`` and ``importance`` from the ledger analytics;
    ``report_groups_*``, ``report_psi`` and ``report_calibration`` from the latest scheduled
    monitoring reports."""
    out: dict[str, Markup] = {}
    a = e.get("analytics") or {}
    if a.get("importance"):
        feats = a["importance"]["features"]
        out["importance"] = charts.horizontal_bars(
            [charts.Bar(name, value) for name, value in feats],
            title="Global feature importance (mean |SHAP|)",
            value_format="{:.3f}",
        )
    for attribute in (a.get("fairness") or {}).get("selection", []):
        out[f"groups_{attribute['attribute']}"] = charts.selection_rates(attribute)
    dr = a.get("drift")
    if dr and dr["features"]:
        out["psi"] = charts.psi_by_feature(dr["features"])
        score = next((f for f in dr["features"] if f["feature"] == "score"), None)
        if score:
            out["score_distribution"] = charts.score_distribution(score)
    perf = a.get("performance")
    if perf and perf.get("reliability"):
        out["calibration"] = charts.calibration(perf)
    monitoring = e.get("monitoring") or {}
    report = monitoring.get("fairness_report")
    for attribute in (report or {}).get("selection") or []:
        if not attribute["intersection"]:
            out[f"report_groups_{attribute['attribute']}"] = charts.selection_rates(attribute)
    report = monitoring.get("drift_report")
    if report and report["drift"]:
        out["report_psi"] = charts.psi_by_feature(report["drift"])
    report = monitoring.get("performance_report")
    if report and (report["performance"] or {}).get("reliability"):
        out["report_calibration"] = charts.calibration(
            report["performance"], title="Calibration in the monitoring window"
        )
    return out


def gap_marker(text: str) -> Markup:
    return Markup('<p class="gap"><span class="gap-tag">GAP</span> {}</p>').format(escape(text))


def context(built: Built) -> dict[str, Any]:
    """What the template of a built document is rendered with: its evidence, coverage, charts
    and the ``gap()`` that prints a required item's gap where it is missing."""
    items = {item.key: item for item in built.coverage.items}

    def gap(key: str) -> Markup:
        item = items.get(key)
        if item is None:
            raise KeyError(f"{built.spec.kind} does not require {key}: add it to its spec")
        return Markup("") if item.present else gap_marker(item.gap)

    def has(key: str) -> bool:
        return items[key].present

    return {
        "doc": {
            "kind": built.spec.kind,
            "title": built.spec.title,
            "framework": built.spec.framework,
            "reference": built.reference,
            "digest": built.digest,
            "as_of": built.as_of.isoformat(),
            "moment": pdf_moment(built.as_of).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "e": built.evidence,
        "coverage": built.coverage,
        "charts": chart_set(built.evidence),
        "gap": gap,
        "has": has,
        "gap_marker": gap_marker,
        "has_key": lambda key: key in items,
    }


def render(built: Built, progress: Progress = _nothing):
    """The PDF of a built document (bytes, page count, SHA-256)."""
    progress(40, "Drawing the charts")
    values = context(built)
    progress(55, "Laying out the pages")
    html = render_html(built.spec.template, values)
    progress(70, "Writing the PDF")
    return write_pdf(html, identifier=built.digest[:32], moment=pdf_moment(built.as_of))


# ---------------------------------------------------------------------------- issuing


def issue(
    kind: str,
    model: AIModel,
    *,
    as_of: dt.date | None = None,
    version_label: str | None = None,
    event_id: str | None = None,
    user=None,
    progress: Progress = _nothing,
) -> IssuedDocument:
    """Build, render, store and record one document; the one already issued if identical."""
    as_of = as_of or timezone.now().date()
    progress(5, "Gathering the evidence")
    built = build(kind, model, as_of, version_label, event_id)
    existing = IssuedDocument.objects.filter(reference=built.reference).first()
    if existing is not None:
        progress(100, "Already issued")
        return existing
    pdf = render(built, progress)
    progress(90, "Recording the issue in the ledger")
    return store(
        built.reference,
        kind=kind,
        model=model,
        version_label=built.version_label,
        event_id=str(built.record.event_id) if built.record else None,
        as_of=as_of,
        content=pdf.content,
        pages=pdf.pages,
        coverage=[built.coverage.to_dict()],
        user=user,
    )


def store(
    reference: str,
    *,
    kind: str,
    model: AIModel,
    version_label: str | None,
    event_id: str | None,
    as_of: dt.date,
    content: bytes,
    pages: int | None,
    coverage: list[dict[str, Any]],
    user=None,
    content_type: str = "application/pdf",
) -> IssuedDocument:
    """Store an issued document and its ledger event in one transaction."""
    version = model.versions.filter(label=version_label).first() if version_label else None
    digest = sha256_hex(content)
    document = IssuedDocument(
        reference=reference,
        kind=kind,
        model=model,
        version=version,
        prediction_event_id=event_id,
        as_of=as_of,
        sha256=digest,
        content=content,
        content_type=content_type,
        size=len(content),
        pages=pages,
        coverage={"frameworks": coverage},
        issued_by=user,
        issued_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            document.event = _record_issue(document, version_label, event_id, coverage, user)
            document.save()
    except IntegrityError:
        # Issued meanwhile by someone else: same reference, so the same bytes.
        return IssuedDocument.objects.get(reference=reference)
    return document


def _record_issue(document: IssuedDocument, version_label, event_id, coverage, user):
    kind, as_of, reference = document.kind, document.as_of, document.reference
    return record_event(
        "document.issued",
        actor=user,
        obj=document,
        model=document.model,
        after={
            "reference": reference,
            "kind": kind,
            "version": version_label,
            "prediction": event_id,
            "as_of": as_of.isoformat(),
            "sha256": document.sha256,
            "size": document.size,
            "pages": document.pages,
            "coverage": coverage,
        },
        reason=f"{DocumentKind(kind).label} as of {as_of.isoformat()}",
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
