"""The approval workflow: one function per action that moves a version or touches several records.

Lifecycle of a version::

    draft --submit--> submitted --start validation--> in validation --approve--> approved
                                                                    |            (with conditions)
                                                                    +--reject--> rejected
    approved --deploy--> serving (champion in production, challengers in shadow or canary)
    approved --retire--> retired

Each function runs in one transaction that also writes the action's governance event to the
ledger (actor, before/after, reason), so the action and its evidence commit together. Views,
serializers, the admin and commands validate input and call these; they hold no rules. A refusal
raises a ``WorkflowError`` whose message names the rule:

- ``IllegalTransition``: the current state does not allow the action (API 409);
- ``SegregationOfDutiesError``: the person is not independent of the version (API 403);
- ``RuleViolation``: four-eyes, an open high-severity finding, an expired approval, a missing
  role (API 403).

Bad input (a missing reason) raises Django's ``ValidationError`` (API 400).

Example::

    submit_version(version, devon)
    start_validation(version, victor)
    record_review(version, victor, scope="…", conceptual_soundness_conclusion="satisfactory", …)
    approve_version(version, victor)            # tier 1: one of two approvals
    …                                           # valerie reviews and approves: approved
    deploy_version(version, rita, environment="production", reason="go-live")
    rollback(version.model, "production", rita, reason="complaints spiked")
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone

from audit.ledger import iso, raise_alert, record_event
from audit.models import Alert, GovernanceEvent, PredictionRecord

from .choices import (
    ConditionStatus,
    DeploymentRole,
    Environment,
    FindingStatus,
    OversightAction,
    ReviewDecision,
    Role,
    Severity,
    VersionState,
)
from .models import (
    AIModel,
    Condition,
    Deployment,
    Finding,
    IllegalTransition,
    ModelVersion,
    RuleViolation,
    SegregationOfDutiesError,
    ValidationReview,
    WorkflowError,
)
from .roles import has_role

__all__ = [
    "IllegalTransition",
    "RuleViolation",
    "SegregationOfDutiesError",
    "WorkflowError",
    "add_condition",
    "approve_version",
    "check_revalidation",
    "deploy_version",
    "meet_condition",
    "override_rate",
    "record_finding",
    "record_oversight",
    "record_review",
    "reject_version",
    "resolve_finding",
    "retire_version",
    "rollback",
    "start_validation",
    "submit_version",
]

OVERRIDING = (OversightAction.OVERRIDE, OversightAction.REVERSE)


# ---------------------------------------------------------------------------- helpers


def _require(actor, perm: str, doing: str) -> None:
    """Roles are checked here too, so that every caller (API, admin, shell) is held to them."""
    if actor is None or not actor.has_perm(perm):
        name = actor.get_username() if actor is not None else "nobody"
        raise RuleViolation(
            f"Role: {name} may not {doing}; it needs the permission {perm}.", rule="role"
        )


def _need(value: str, field: str, message: str) -> str:
    if not (value or "").strip():
        raise ValidationError({field: message})
    return value.strip()


def _locked(version: ModelVersion) -> ModelVersion:
    """The version, re-read and locked: concurrent actions on it take turns."""
    return ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)


def _move(version: ModelVersion, state: str, actor, action: str, **fields: Any) -> None:
    version.state = state
    for name, value in fields.items():
        setattr(version, name, value)
    version._history_user = actor  # the history row names who, outside a request too
    version._change_reason = f"workflow: {action}"
    version.save(transition=True)


def _state(version: ModelVersion) -> dict[str, Any]:
    return {"state": version.state}


def _end(deployment: Deployment, actor, now: dt.datetime, why: str) -> None:
    deployment.ended_at = now
    deployment.ended_by = actor
    deployment.end_reason = why
    deployment.save()


def _deployment(deployment: Deployment | None) -> dict[str, Any] | None:
    if deployment is None:
        return None
    return {
        "deployment": deployment.pk,
        "version": deployment.version.label,
        "environment": deployment.environment,
        "role": deployment.role,
    }


# ---------------------------------------------------------------------------- lifecycle


def submit_version(version: ModelVersion, actor, reason: str = "") -> ModelVersion:
    """A developer of the model's team submits a draft for validation; its bundle freezes."""
    with transaction.atomic():
        _require(actor, "compliance.submit_modelversion", "submit a version")
        version = _locked(version)
        version.check_action("submit")
        if not version.model.is_on_team(actor):
            raise RuleViolation(
                f"Developing team: only members of the developing team of {version.model.slug} "
                "may submit its versions.",
                rule="developing team",
            )
        before = _state(version)
        _move(
            version,
            VersionState.SUBMITTED,
            actor,
            "submit",
            submitted_by=actor,
            submitted_at=timezone.now(),
        )
        record_event(
            "version.submitted",
            actor=actor,
            obj=version,
            model=version.model,
            before=before,
            after={**_state(version), "manifest_sha256": version.manifest_sha256},
            reason=reason,
        )
        return version


def start_validation(version: ModelVersion, actor, reason: str = "") -> ModelVersion:
    """An independent validator takes a submitted version into validation."""
    with transaction.atomic():
        _require(actor, "compliance.validate_modelversion", "validate a version")
        version = _locked(version)
        version.check_action("start-validation")
        version.check_independence(actor, "validate")
        before = _state(version)
        _move(version, VersionState.IN_VALIDATION, actor, "start validation")
        record_event(
            "version.validation_started",
            actor=actor,
            obj=version,
            model=version.model,
            before=before,
            after={**_state(version), "cycle": version.validation_cycle},
            reason=reason,
        )
        return version


REVIEW_FIELDS = (
    "scope",
    "conceptual_soundness",
    "conceptual_soundness_conclusion",
    "ongoing_monitoring",
    "ongoing_monitoring_conclusion",
    "outcomes_analysis",
    "outcomes_analysis_conclusion",
    "references",
    "benchmark",
    "recommendations",
    "sensitivity",
)


def record_review(
    version: ModelVersion, actor, reason: str = "", **fields: Any
) -> tuple[ValidationReview, bool]:
    """Record (or revise, until decided) the validator's review of the current cycle.

    ``fields`` are ``REVIEW_FIELDS``. Returns the review and whether it was created.
    """
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise TypeError(f"Not review fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        _require(actor, "compliance.add_validationreview", "review a version")
        version = _locked(version)
        version.check_action("review")
        version.check_independence(actor, "validate")
        review = ValidationReview.objects.filter(
            version=version, validator=actor, cycle=version.validation_cycle
        ).first()
        created = review is None
        if created:
            review = ValidationReview(
                version=version, validator=actor, cycle=version.validation_cycle
            )
        elif review.is_decided:
            raise IllegalTransition(
                f"Cannot revise the review of {version} by {actor.get_username()}: it is decided "
                f"({review.get_decision_display().lower()}); a decided review never changes.",
                state=review.decision,
            )
        before = None if created else {name: getattr(review, name) for name in REVIEW_FIELDS}
        for name, value in fields.items():
            setattr(review, name, value)
        _need(review.scope, "scope", "Say what the review covers.")
        review.full_clean(exclude=["version", "validator"])
        review._history_user = actor
        review.save()
        record_event(
            "review.recorded" if created else "review.revised",
            actor=actor,
            obj=review,
            model=version.model,
            before=before,
            after={name: getattr(review, name) for name in REVIEW_FIELDS},
            reason=reason,
        )
        return review, created


def approve_version(version: ModelVersion, actor, reason: str = "") -> ModelVersion:
    """Record the validator's approval; once enough different validators have approved (two
    for tier 1 or EU high-risk models, one otherwise) the version is approved, with conditions
    if any are open, until its approval expires. On an approved version this is a periodic
    revalidation, held to the same rules."""
    with transaction.atomic():
        _require(actor, "compliance.validate_modelversion", "approve a version")
        version = _locked(version)
        version.check_action("approve")
        version.check_independence(actor, "validate or approve")
        blocking = list(version.findings.open().filter(severity=Severity.HIGH))
        if blocking:
            names = "; ".join(
                f"#{f.pk} {f.title} (owner {f.owner}, due {f.due_date})" for f in blocking
            )
            raise RuleViolation(
                f"Open high-severity finding: {names} blocks the approval of {version}; it must "
                "be remediated or its risk accepted first.",
                rule="open high-severity finding",
            )
        required = version.model.approvals_required
        review = version.reviews.filter(validator=actor, cycle=version.validation_cycle).first()
        if review is not None and review.is_decided:
            raise RuleViolation(
                f"Four-eyes: {actor.get_username()} has already decided on {version} in this "
                f"cycle; it needs approvals by {required} different validators.",
                rule="four-eyes",
            )
        problem = review.approval_problem() if review else "there is no review by them"
        if problem:
            raise RuleViolation(
                f"Effective challenge: {actor.get_username()} cannot approve {version}: {problem}. "
                "Record a review with its scope and a conclusion on each of conceptual "
                "soundness, ongoing monitoring and outcomes analysis, none unsatisfactory.",
                rule="review required",
            )
        now = timezone.now()
        open_conditions = version.conditions.open().count()
        review.decision = (
            ReviewDecision.APPROVE_WITH_CONDITIONS if open_conditions else ReviewDecision.APPROVE
        )
        review.decided_at = now
        review._history_user = actor
        review.save()
        approvers = sorted(
            version.current_approvals().values_list("validator__username", flat=True)
        )
        before = {**_state(version), "approvals": len(approvers) - 1, "required": required}
        after = {
            **_state(version),
            "approvals": len(approvers),
            "required": required,
            "approved_by": approvers,
            "cycle": version.validation_cycle,
        }
        if len(approvers) < required:
            record_event(
                "version.approval_recorded",
                actor=actor,
                obj=version,
                model=version.model,
                before=before,
                after=after,
                reason=reason,
            )
            return version
        state = VersionState.APPROVED_WITH_CONDITIONS if open_conditions else VersionState.APPROVED
        expires = version.model.approval_expiry(now)
        _move(
            version,
            state,
            actor,
            "approve",
            approved_at=now,
            approval_expires_at=expires,
            revalidation_overdue_since=None,
            validation_cycle=version.validation_cycle + 1,
        )
        after.update(state=state, expires_at=iso(expires), open_conditions=open_conditions)
        record_event(
            "version.approved",
            actor=actor,
            obj=version,
            model=version.model,
            before=before,
            after=after,
            reason=reason,
        )
        return version


def reject_version(version: ModelVersion, actor, reason: str) -> ModelVersion:
    """A validator rejects a version in validation. A rejected version is never edited back:
    a new version supersedes it."""
    with transaction.atomic():
        _require(actor, "compliance.validate_modelversion", "reject a version")
        version = _locked(version)
        version.check_action("reject")
        version.check_independence(actor, "validate or reject")
        reason = _need(reason, "reason", "Say why the version is rejected.")
        review = version.reviews.filter(validator=actor, cycle=version.validation_cycle).first()
        if review is not None and review.is_decided:
            raise RuleViolation(
                f"Four-eyes: {actor.get_username()} has already approved {version} in this "
                "cycle and a decided review never changes; another validator may reject it.",
                rule="four-eyes",
            )
        if review is not None:
            review.decision = ReviewDecision.REJECT
            review.decided_at = timezone.now()
            review._history_user = actor
            review.save()
        before = _state(version)
        _move(version, VersionState.REJECTED, actor, "reject")
        record_event(
            "version.rejected",
            actor=actor,
            obj=version,
            model=version.model,
            before=before,
            after=_state(version),
            reason=reason,
        )
        return version


def retire_version(version: ModelVersion, actor, reason: str) -> ModelVersion:
    """A risk officer retires an approved version that no longer serves anywhere."""
    with transaction.atomic():
        _require(actor, "compliance.deploy_modelversion", "retire a version")
        version = _locked(version)
        version.check_action("retire")
        reason = _need(reason, "reason", "Say why the version is retired.")
        serving = version.deployments.active().first()
        if serving is not None:
            raise RuleViolation(
                f"Serving versions stay: {version} is the {serving.role} in "
                f"{serving.environment}; deploy another version or roll back first.",
                rule="serving version",
            )
        before = _state(version)
        _move(version, VersionState.RETIRED, actor, "retire")
        record_event(
            "version.retired",
            actor=actor,
            obj=version,
            model=version.model,
            before=before,
            after=_state(version),
            reason=reason,
        )
        return version


# ---------------------------------------------------------------------------- findings


def record_finding(
    version: ModelVersion,
    actor,
    *,
    title: str,
    description: str,
    severity: str,
    owner,
    due_date: dt.date,
    reason: str = "",
) -> Finding:
    """A validator records a finding (``actor=None``: a monitor raised it)."""
    with transaction.atomic():
        version = _locked(version)
        if actor is not None:
            _require(actor, "compliance.add_finding", "record a finding")
        version.check_action("record-finding")
        if actor is not None:
            version.check_independence(actor, "validate")
        review = (
            version.reviews.filter(validator=actor, cycle=version.validation_cycle).first()
            if actor is not None
            else None
        )
        finding = Finding(
            version=version,
            review=review,
            title=_need(title, "title", "Give the finding a title."),
            description=_need(description, "description", "Describe the finding."),
            severity=severity,
            owner=owner,
            due_date=due_date,
            raised_by=actor,
        )
        finding.full_clean(exclude=["version", "review", "owner"])
        finding._history_user = actor
        finding.save()
        record_event(
            "finding.recorded",
            actor=actor,
            obj=finding,
            model=version.model,
            after={
                "version": version.label,
                "title": finding.title,
                "severity": finding.severity,
                "owner": owner.get_username(),
                "due_date": due_date.isoformat(),
                "status": finding.status,
            },
            reason=reason or finding.description,
        )
        return finding


def resolve_finding(finding: Finding, actor, *, status: str, resolution: str) -> Finding:
    """Close a finding: a validator confirms it remediated, or a risk officer accepts the risk
    with a justification. Either must be independent of the version."""
    with transaction.atomic():
        finding = (
            Finding.objects.select_for_update().select_related("version__model").get(pk=finding.pk)
        )
        if status == FindingStatus.REMEDIATED:
            _require(actor, "compliance.change_finding", "confirm a remediation")
            doing = "confirm the remediation of a finding on"
        elif status == FindingStatus.RISK_ACCEPTED:
            _require(actor, "compliance.accept_risk_finding", "accept the risk of a finding")
            doing = "accept the risk of a finding on"
        else:
            raise ValidationError({"status": "Resolve a finding as remediated or risk_accepted."})
        if not finding.is_open:
            raise IllegalTransition(
                f"Finding #{finding.pk} is already {finding.get_status_display().lower()}; only "
                "open findings can be resolved.",
                state=finding.status,
            )
        finding.version.check_independence(actor, doing)
        message = (
            "Say how it was remediated."
            if status == FindingStatus.REMEDIATED
            else "Justify accepting the risk."
        )
        resolution = _need(resolution, "resolution", message)
        finding.status = status
        finding.resolved_by = actor
        finding.resolved_at = timezone.now()
        finding.resolution = resolution
        finding._history_user = actor
        finding.save()
        record_event(
            f"finding.{status}",
            actor=actor,
            obj=finding,
            model=finding.version.model,
            before={"status": FindingStatus.OPEN},
            after={"status": status, "resolved_by": actor.get_username()},
            reason=resolution,
        )
        return finding


def add_condition(
    version: ModelVersion, actor, *, description: str, due_date: dt.date, reason: str = ""
) -> Condition:
    """A validator attaches a condition of approval, due by a date."""
    with transaction.atomic():
        _require(actor, "compliance.add_condition", "add a condition")
        version = _locked(version)
        version.check_action("add-condition")
        version.check_independence(actor, "validate")
        condition = Condition.objects.create(
            version=version,
            review=version.reviews.filter(validator=actor, cycle=version.validation_cycle).first(),
            description=_need(description, "description", "Describe the condition."),
            due_date=due_date,
            created_by=actor,
        )
        record_event(
            "condition.added",
            actor=actor,
            obj=condition,
            model=version.model,
            after={
                "version": version.label,
                "description": condition.description,
                "due_date": due_date.isoformat(),
                "status": condition.status,
            },
            reason=reason,
        )
        return condition


def meet_condition(condition: Condition, actor, *, note: str) -> Condition:
    """A validator confirms a condition is met, with the evidence."""
    with transaction.atomic():
        condition = (
            Condition.objects.select_for_update()
            .select_related("version__model")
            .get(pk=condition.pk)
        )
        _require(actor, "compliance.change_condition", "confirm a condition")
        if condition.status != ConditionStatus.OPEN:
            raise IllegalTransition(
                f"Condition #{condition.pk} is already met; only open conditions can be met.",
                state=condition.status,
            )
        condition.version.check_independence(actor, "confirm a condition on")
        condition.note = _need(note, "note", "Give the evidence that the condition is met.")
        condition.status = ConditionStatus.MET
        condition.met_by = actor
        condition.met_at = timezone.now()
        condition._history_user = actor
        condition.save()
        record_event(
            "condition.met",
            actor=actor,
            obj=condition,
            model=condition.version.model,
            before={"status": ConditionStatus.OPEN},
            after={"status": ConditionStatus.MET, "met_by": actor.get_username()},
            reason=condition.note,
        )
        return condition


# ---------------------------------------------------------------------------- deployments


def deploy_version(
    version: ModelVersion,
    actor,
    *,
    environment: str = Environment.PRODUCTION,
    role: str | None = None,
    reason: str,
) -> Deployment:
    """Deploy an approved version: as champion (the default in production) it replaces the
    current champion, which a rollback can restore; as challenger it runs beside it."""
    role = role or (
        DeploymentRole.CHAMPION
        if environment == Environment.PRODUCTION
        else DeploymentRole.CHALLENGER
    )
    with transaction.atomic():
        _require(actor, "compliance.deploy_modelversion", "deploy a version")
        AIModel.objects.select_for_update().filter(pk=version.model_id).first()  # one at a time
        version = _locked(version)
        version.check_action("deploy")
        now = timezone.now()
        if not version.approval_is_current(now):
            raise RuleViolation(
                f"Revalidation overdue: the approval of {version} expired on "
                f"{version.approval_expires_at:%Y-%m-%d}; only versions with a current approval "
                "are deployed.",
                rule="revalidation overdue",
            )
        reason = _need(reason, "reason", "Say why the version is deployed.")
        active = list(
            Deployment.objects.active()
            .select_for_update()
            .select_related("version")
            .filter(model=version.model, environment=environment)
        )
        for deployment in active:
            if deployment.version_id == version.pk and deployment.role == role:
                raise IllegalTransition(
                    f"{version} is already the {role} in {environment}.",
                    state="deployed",
                    allowed=["rollback"] if role == DeploymentRole.CHAMPION else [],
                )
        previous = None
        for deployment in active:
            if deployment.version_id == version.pk:  # a challenger promoted, or the reverse
                _end(deployment, actor, now, f"became the {role}: {reason}")
            elif role == DeploymentRole.CHAMPION and deployment.role == DeploymentRole.CHAMPION:
                previous = deployment
                _end(deployment, actor, now, f"replaced by {version}: {reason}")
        deployment = Deployment.objects.create(
            model=version.model,
            version=version,
            environment=environment,
            role=role,
            previous=previous,
            deployed_by=actor,
            deployed_at=now,
            reason=reason,
        )
        record_event(
            "deployment.deployed",
            actor=actor,
            obj=deployment,
            model=version.model,
            before=_deployment(previous),
            after=_deployment(deployment),
            reason=reason,
        )
        return deployment


def rollback(model: AIModel, environment: str, actor, reason: str) -> Deployment:
    """Put the previous champion of ``environment`` back in one step, if its approval is still
    current. A second rollback steps back once more."""
    with transaction.atomic():
        _require(actor, "compliance.deploy_modelversion", "roll back a deployment")
        model = AIModel.objects.select_for_update().get(pk=model.pk)
        reason = _need(reason, "reason", "Say why the deployment is rolled back.")
        current = (
            Deployment.objects.active()
            .select_for_update(of=("self",))  # not the outer-joined predecessor
            .select_related("version", "previous__version")
            .filter(model=model, environment=environment, role=DeploymentRole.CHAMPION)
            .first()
        )
        if current is None:
            raise IllegalTransition(
                f"Cannot roll back {model.slug} in {environment}: it has no active champion "
                "there; deploy an approved version instead.",
                state="no champion",
                allowed=["deploy"],
            )
        if current.previous is None:
            raise IllegalTransition(
                f"Cannot roll back {model.slug} in {environment}: its champion "
                f"{current.version} replaced no earlier champion.",
                state="first champion",
                allowed=["deploy"],
            )
        target = _locked(current.previous.version)
        now = timezone.now()
        if not target.approval_is_current(now):
            why = (
                f"its approval expired on {target.approval_expires_at:%Y-%m-%d}"
                if target.is_approved
                else f"it is {target.get_state_display().lower()}"
            )
            raise RuleViolation(
                f"Approved versions only: cannot roll back {model.slug} in {environment} to "
                f"{target}: {why}. Deploy an approved version instead.",
                rule="approved versions only",
            )
        _end(current, actor, now, f"rolled back: {reason}")
        for deployment in target.deployments.active().filter(environment=environment):
            _end(deployment, actor, now, f"restored as champion by a rollback: {reason}")
        restored = Deployment.objects.create(
            model=model,
            version=target,
            environment=environment,
            role=DeploymentRole.CHAMPION,
            previous=current.previous.previous,
            deployed_by=actor,
            deployed_at=now,
            reason=f"rollback: {reason}",
        )
        record_event(
            "deployment.rolled_back",
            actor=actor,
            obj=restored,
            model=model,
            before=_deployment(current),
            after=_deployment(restored),
            reason=reason,
        )
        return restored


# ---------------------------------------------------------------------------- revalidation


def check_revalidation(now: dt.datetime | None = None) -> list[ModelVersion]:
    """Flag every approved version whose approval has expired as "revalidation overdue",
    once: a ledger event and an alert. Returns the versions flagged by this run."""
    now = now or timezone.now()
    flagged = []
    due = ModelVersion.objects.approval_expired(now).filter(revalidation_overdue_since__isnull=True)
    for version in due:
        with transaction.atomic():
            version = _locked(version)
            if version.revalidation_overdue_since is not None or version.approval_is_current(now):
                continue  # another run got there first, or it was revalidated meanwhile
            version.revalidation_overdue_since = now
            version.save()
            months = settings.REVALIDATION_MONTHS[version.model.risk_tier]
            message = (
                f"{version} needs revalidation: its approval expired on "
                f"{version.approval_expires_at:%Y-%m-%d} (tier {version.model.risk_tier} approvals "
                f"last {months} months)."
            )
            record_event(
                "version.revalidation_overdue",
                obj=version,
                model=version.model,
                before={"revalidation_overdue": False},
                after={
                    "revalidation_overdue": True,
                    "approval_expired_at": iso(version.approval_expires_at),
                },
                reason=message,
            )
            raise_alert(
                Alert.Kind.REVALIDATION_OVERDUE,
                model=version.model,
                version=version,
                message=message,
            )
        flagged.append(version)
    return flagged


# ---------------------------------------------------------------------------- human oversight


def record_oversight(
    actor,
    action: str,
    *,
    reason: str,
    event_id: str | None = None,
    model: AIModel | None = None,
    decision: Any = None,
    person: str = "",
) -> GovernanceEvent:
    """Record a person overriding, reversing or confirming a logged prediction (by its event
    id), or stopping a model, which ends all of its active deployments (EU AI Act Art. 14).

    A service account records on behalf of a person of its application and must name them.
    """
    _require(actor, "compliance.record_oversight", "record human oversight")
    if action not in OversightAction.values:
        raise ValidationError({"action": f"One of {', '.join(OversightAction.values)}."})
    reason = _need(reason, "reason", "Say why.")
    if has_role(actor, Role.SERVICE):
        person = _need(person, "person", "Name the person on whose behalf this is recorded.")
    person = (person or "").strip() or actor.get_username()
    with transaction.atomic():
        if action == OversightAction.STOP:
            return _stop(actor, model, person, reason)
        record = (
            PredictionRecord.objects.select_related("entry", "version__model")
            .filter(event_id=event_id)
            .first()
            if event_id
            else None
        )
        if record is None:
            raise ValidationError(
                {"event_id": f"No prediction with event id {event_id} is recorded."}
            )
        if action == OversightAction.OVERRIDE and decision is None:
            raise ValidationError({"decision": "An override gives the decision that replaces it."})
        output = (record.entry.payload() or {}).get("output")  # None once purged
        after = {
            "prediction": str(record.event_id),
            "version": record.version.label,
            "person": person,
        }
        if action == OversightAction.OVERRIDE:
            after["decision"] = decision
        return record_event(
            f"oversight.{action}",
            actor=actor,
            obj=record,
            model=record.version.model,
            before={"decision": output.get("decision")},
            after=after,
            reason=reason,
        )


def _stop(actor, model: AIModel | None, person: str, reason: str) -> GovernanceEvent:
    if model is None:
        raise ValidationError({"model": "Name the model to stop."})
    AIModel.objects.select_for_update().filter(pk=model.pk).first()
    now = timezone.now()
    stopped = list(Deployment.objects.active().select_related("version").filter(model=model))
    for deployment in stopped:
        _end(deployment, actor, now, f"stopped by {person}: {reason}")
    return record_event(
        "oversight.stop",
        actor=actor,
        obj=model,
        model=model,
        before={"deployments": [_deployment(d) for d in stopped]},
        after={"deployments": [], "person": person},
        reason=reason,
    )


@dataclass(frozen=True)
class OverrideRate:
    """How often people overrode or reversed a model's predictions decided in a window."""

    predictions: int
    overridden: int

    @property
    def rate(self) -> float | None:
        return self.overridden / self.predictions if self.predictions else None


def override_rate(model: AIModel, start: dt.datetime, end: dt.datetime) -> OverrideRate:
    """Of the model's predictions decided in [start, end), how many a person overrode or
    reversed (each counted once), counted in the database."""
    predictions = PredictionRecord.objects.filter(
        version__model=model, decided_at__gte=start, decided_at__lt=end
    )
    overridden = (
        GovernanceEvent.objects.filter(
            model=model,
            event_type__in=[f"oversight.{a}" for a in OVERRIDING],
            object_type=PredictionRecord._meta.label,
            object_id__in=predictions.annotate(key=Cast("pk", CharField())).values("key"),
        )
        .values("object_id")
        .distinct()
        .count()
    )
    return OverrideRate(predictions=predictions.count(), overridden=overridden)
