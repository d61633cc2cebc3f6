"""Enumerations of the governance domain, with the meaning a risk officer reads in the admin."""

from __future__ import annotations

import numpy as np
from django.db import models


class RiskTier(models.IntegerChoices):
    """SR 11-7 materiality tier: rigour of validation is proportional to it."""

    HIGH = 1, "Tier 1 – high materiality"
    MEDIUM = 2, "Tier 2 – medium materiality"
    LOW = 3, "Tier 3 – low materiality"


RISK_TIER_MEANING = {
    RiskTier.HIGH: (
        "Material impact on customers, capital or regulatory standing if wrong; "
        "full independent validation before use, two validators, annual review."
    ),
    RiskTier.MEDIUM: (
        "Moderate impact, limited to a business line; independent validation before use, "
        "review every two years."
    ),
    RiskTier.LOW: (
        "Low impact or easily overridden outputs; proportionate validation, "
        "review every three years."
    ),
}


class EUAIActCategory(models.TextChoices):
    """Risk category under Regulation (EU) 2024/1689."""

    PROHIBITED = "prohibited", "Prohibited practice (Art. 5)"
    HIGH_RISK = "high_risk", "High-risk (Art. 6, Annex III)"
    LIMITED = "limited", "Limited risk – transparency obligations (Art. 50)"
    MINIMAL = "minimal", "Minimal risk"


class AnnexIIIArea(models.TextChoices):
    """The eight high-risk areas of Annex III."""

    BIOMETRICS = "biometrics", "1. Biometrics"
    CRITICAL_INFRASTRUCTURE = "critical_infrastructure", "2. Critical infrastructure"
    EDUCATION = "education", "3. Education and vocational training"
    EMPLOYMENT = "employment", "4. Employment, workers management, access to self-employment"
    ESSENTIAL_SERVICES = (
        "essential_services",
        "5. Access to essential private and public services (incl. creditworthiness)",
    )
    LAW_ENFORCEMENT = "law_enforcement", "6. Law enforcement"
    MIGRATION = "migration", "7. Migration, asylum and border control"
    JUSTICE = "justice", "8. Administration of justice and democratic processes"


class LifecycleStatus(models.TextChoices):
    """Where the model stands in the SR 11-7 inventory."""

    IN_DEVELOPMENT = "in_development", "In development"
    IN_USE = "in_use", "In use"
    RETIRED = "retired", "Retired"


class VersionState(models.TextChoices):
    """Lifecycle of one model version; only the workflow functions move it."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for validation"
    IN_VALIDATION = "in_validation", "In validation"
    APPROVED = "approved", "Approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions", "Approved with conditions"
    REJECTED = "rejected", "Rejected"
    RETIRED = "retired", "Retired"


class Role(models.TextChoices):
    """The five roles; each is a Django group of the same name."""

    RISK_OFFICER = "risk_officer", "Model risk officer"
    VALIDATOR = "validator", "Validator"
    AUDITOR = "auditor", "Auditor"
    DEVELOPER = "developer", "Model developer"
    SERVICE = "service", "Service account"


class KeyAction(models.TextChoices):
    """What an API key may be used for; every API endpoint needs exactly one of these.

    A key's actions narrow what its owner's role allows, never widen it.
    """

    LOG_PREDICTIONS = "log_predictions", "Log predictions"
    LOG_OUTCOMES = "log_outcomes", "Log outcomes"
    READ_LEDGER = "read_ledger", "Read receipts and checkpoints"
    READ_TRAIL = "read_trail", "Read the trail of a prediction"
    READ_INVENTORY = "read_inventory", "Read models, versions and workflow records"
    MANAGE_INVENTORY = "manage_inventory", "Register and edit models, versions and artifacts"
    RUN_WORKFLOW = "run_workflow", "Submit, validate, approve, deploy, roll back, retire"
    RECORD_OVERSIGHT = "record_oversight", "Record human oversight"
    READ_REPORTS = "read_reports", "Read monitoring reports"
    RUN_REPORTS = "run_reports", "Run monitoring reports"
    ISSUE_DOCUMENTS = "issue_documents", "Generate and download documents"
    ACKNOWLEDGE_ALERTS = "acknowledge_alerts", "Acknowledge alerts"


# States in which a version counts as approved (if its approval has not expired).
APPROVED_STATES = (VersionState.APPROVED, VersionState.APPROVED_WITH_CONDITIONS)


class Conclusion(models.TextChoices):
    """A validator's conclusion on one of the three SR 11-7 elements of validation."""

    SATISFACTORY = "satisfactory", "Satisfactory"
    NEEDS_IMPROVEMENT = "needs_improvement", "Needs improvement"
    UNSATISFACTORY = "unsatisfactory", "Unsatisfactory"


class ReviewDecision(models.TextChoices):
    """What a validator decided at the end of their review."""

    APPROVE = "approve", "Approve"
    APPROVE_WITH_CONDITIONS = "approve_with_conditions", "Approve with conditions"
    REJECT = "reject", "Reject"


class Severity(models.TextChoices):
    """Severity of a validation finding; an open high-severity finding blocks approval."""

    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    REMEDIATED = "remediated", "Remediated"
    RISK_ACCEPTED = "risk_accepted", "Risk accepted"


class ConditionStatus(models.TextChoices):
    OPEN = "open", "Open"
    MET = "met", "Met"


class Environment(models.TextChoices):
    """Where a version serves (the same values the ledger records with each prediction)."""

    PRODUCTION = "production", "Production"
    SHADOW = "shadow", "Shadow"
    CANARY = "canary", "Canary"


class DeploymentRole(models.TextChoices):
    """The champion makes the decisions; a challenger runs beside it (shadow or canary)."""

    CHAMPION = "champion", "Champion"
    CHALLENGER = "challenger", "Challenger"


class OversightAction(models.TextChoices):
    """What a person did to a model's output (EU AI Act Art. 14)."""

    OVERRIDE = "override", "Override a prediction"
    REVERSE = "reverse", "Reverse a prediction"
    CONFIRM = "confirm", "Confirm a prediction"
    STOP = "stop", "Stop the model"


class ScoreOf(models.TextChoices):
    """Which outcome a version's logged score is the probability of.

    A credit model may output the probability of repayment (favourable) or of default
    (unfavourable); a fraud or recidivism model outputs a risk. Every metric, explanation and
    document reads the score through ``favourable_probability`` and ``direction``, so a good
    risk model is not reported with its AUC, calibration and reason codes reversed.
    """

    FAVOURABLE = "favourable", "the favourable outcome"
    UNFAVOURABLE = "unfavourable", "the unfavourable outcome (a risk)"

    @property
    def direction(self) -> int:
        """+1 when a higher score favours the subject, -1 when it counts against them."""
        return 1 if self == ScoreOf.FAVOURABLE else -1

    def favourable_probability(self, score):
        """The stored score as the probability of the favourable outcome (order reversed for
        a score that is not a probability, which keeps AUC right)."""
        score = np.asarray(score, dtype=np.float64)
        return score if self == ScoreOf.FAVOURABLE else 1.0 - score
