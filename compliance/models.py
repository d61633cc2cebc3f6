"""The model inventory: what a risk officer keeps, and the versioned bundles developers register."""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import cached_property
from typing import Any

import jsonschema
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey
from simple_history.models import HistoricalRecords

from audit.appendonly import AppendOnlyModel
from audit.canonical import NotCanonicalisable, canonical_json, canonical_sha256
from audit.purging import MIN_RETENTION_MONTHS, add_months

from .choices import (
    APPROVED_STATES,
    RISK_TIER_MEANING,
    AnnexIIIArea,
    Conclusion,
    ConditionStatus,
    DeploymentRole,
    Environment,
    EUAIActCategory,
    FindingStatus,
    LifecycleStatus,
    ReviewDecision,
    RiskTier,
    ScoreOf,
    Severity,
    VersionState,
)
from .names import NAME_RULE, name_check, validate_name

sha256_validator = RegexValidator(
    r"^[0-9a-f]{64}$", "Enter a SHA-256 digest: 64 lowercase hexadecimal characters."
)
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_attribute_names(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError('Give a list of attribute names, e.g. ["sex", "age_band"].')
    bad = [v for v in value if not ATTRIBUTE_NAME.match(v)]
    if bad:
        raise ValidationError(f"Not valid attribute names: {', '.join(map(repr, bad))}.")
    if len(set(value)) != len(value):
        raise ValidationError("Attribute names must not repeat.")


def validate_json_object(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError("Give a JSON object.")
    try:
        canonical_json(value)
    except NotCanonicalisable as exc:
        raise ValidationError(f"Not representable as canonical JSON: {exc}.") from exc


def validate_json_schema(value: Any) -> None:
    validate_json_object(value)
    try:
        jsonschema.validators.validator_for(value).check_schema(value)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise ValidationError(f"Not a valid JSON Schema at {where}: {exc.message}") from exc


def favourable_default() -> int:
    return 1


class WorkflowError(Exception):
    """A workflow action was refused. The message names the rule; ``rule`` is its short name."""

    rule = "workflow"

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        super().__init__(message)
        if rule is not None:
            self.rule = rule


class IllegalTransition(WorkflowError):
    """The action is not allowed in the current state (API: 409). Names the state and what is
    allowed from it."""

    rule = "lifecycle"

    def __init__(self, message: str, *, state: str = "", allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.state = state
        self.allowed = allowed or []


class SegregationOfDutiesError(WorkflowError):
    """The person is not independent of the version (API: 403)."""

    rule = "segregation of duties"


class RuleViolation(WorkflowError):
    """Another governance rule refused the action: four-eyes, a blocking finding, an expired
    approval, a missing role (API: 403)."""


# EU AI Act Art. 19 and 26(6): automatically generated logs are kept at least six months.
RETENTION_TOO_SHORT = (
    f"Logs must be kept at least {MIN_RETENTION_MONTHS} months (EU AI Act Art. 19)."
)


class AIModel(models.Model):
    """An entry of the model inventory (SR 11-7): one model, whatever its versions.

    Kept by the model risk officer; read by validators, auditors and every document. Its full
    history is kept, so it can be shown as it stood on any past date (``as_of``).
    """

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True, validators=[validate_name])
    description = models.TextField(blank=True)
    intended_purpose = models.TextField(blank=True)
    intended_users = models.TextField(blank=True)
    domain = models.CharField(max_length=100, blank=True, help_text="e.g. retail credit")
    business_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_models",
        help_text="Accountable for the model end to end; receives alerts.",
    )
    developing_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="developed_models"
    )
    risk_tier = models.PositiveSmallIntegerField(choices=RiskTier.choices, default=RiskTier.MEDIUM)
    eu_ai_act_category = models.CharField(
        "EU AI Act category", max_length=20, choices=EUAIActCategory.choices
    )
    annex_iii_area = models.CharField(
        "Annex III area", max_length=40, choices=AnnexIIIArea.choices, blank=True
    )
    lifecycle_status = models.CharField(
        max_length=20, choices=LifecycleStatus.choices, default=LifecycleStatus.IN_DEVELOPMENT
    )
    sensitive_attributes = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_attribute_names],
        help_text='Attributes monitored for fairness, e.g. ["sex", "age_band"].',
    )
    favourable_label = models.CharField(max_length=100, default="approved")
    favourable_value = models.JSONField(
        default=favourable_default,
        help_text="The decision value that is favourable to the subject, e.g. 1.",
    )
    monthly_cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="What running the model costs a month (compute, licences, people), in the "
        "reporting currency; empty while unknown.",
    )
    retention_months = models.PositiveSmallIntegerField(
        default=MIN_RETENTION_MONTHS,
        validators=[MinValueValidator(MIN_RETENTION_MONTHS, RETENTION_TOO_SHORT)],
        help_text="Months the payloads of its predictions and outcomes are kept; then purged "
        "(their hashes stay). At least 6 (EU AI Act Art. 19).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[developing_team])

    class Meta:
        verbose_name = "AI model"
        ordering = ["name"]
        permissions = [
            ("record_oversight", "Can record human oversight of predictions and stop a model"),
        ]
        constraints = [
            models.CheckConstraint(
                name="annex_iii_area_only_for_high_risk",
                condition=(
                    models.Q(eu_ai_act_category=EUAIActCategory.HIGH_RISK)
                    & ~models.Q(annex_iii_area="")
                )
                | (
                    ~models.Q(eu_ai_act_category=EUAIActCategory.HIGH_RISK)
                    & models.Q(annex_iii_area="")
                ),
                violation_error_message=(
                    "A high-risk model needs its Annex III area; other categories have none."
                ),
            ),
            models.CheckConstraint(
                name="retention_at_least_six_months",
                condition=models.Q(retention_months__gte=MIN_RETENTION_MONTHS),
                violation_error_message=RETENTION_TOO_SHORT,
            ),
            models.CheckConstraint(
                name="model_slug_is_a_name",
                condition=name_check("slug"),
                violation_error_message=NAME_RULE,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        high_risk = self.eu_ai_act_category == EUAIActCategory.HIGH_RISK
        if high_risk and not self.annex_iii_area:
            raise ValidationError({"annex_iii_area": "A high-risk model needs its Annex III area."})
        if not high_risk and self.annex_iii_area:
            raise ValidationError(
                {"annex_iii_area": "Only high-risk models have an Annex III area."}
            )

    @property
    def risk_tier_meaning(self) -> str:
        return RISK_TIER_MEANING[RiskTier(self.risk_tier)]

    def as_of(self, when: dt.datetime) -> AIModel:
        """This model as it stood at ``when`` (raises ``DoesNotExist`` if it did not exist yet)."""
        return self.history.as_of(when)

    def is_on_team(self, user) -> bool:
        """Whether ``user`` is on the model's developing team."""
        return self.developing_team.filter(pk=user.pk).exists()

    @property
    def approvals_required(self) -> int:
        """Four-eyes for material models: tier 1 or EU AI Act high-risk need two validators."""
        material = self.risk_tier == RiskTier.HIGH
        return 2 if material or self.eu_ai_act_category == EUAIActCategory.HIGH_RISK else 1

    def approval_expiry(self, approved_at: dt.datetime) -> dt.datetime:
        """When an approval given at ``approved_at`` expires (``REVALIDATION_MONTHS`` by tier)."""
        return add_months(approved_at, settings.REVALIDATION_MONTHS[self.risk_tier])


class ModelVersionQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        # A bulk update would bypass save(): refuse it for bundle fields of frozen versions.
        touched = set(kwargs) & set(ModelVersion.BUNDLE_FIELDS)
        if touched and self.exclude(state=VersionState.DRAFT).exists():
            raise FrozenBundleError(
                f"Cannot change {', '.join(sorted(touched))}: the bundle of a version that has "
                "left draft is frozen. Register a new version instead."
            )
        return super().update(**kwargs)

    def awaiting(self, validator) -> ModelVersionQuerySet:
        """The validator's queue: versions waiting for validation (or overdue for revalidation)
        that they are independent of and have not decided yet in the current cycle."""
        decided = ValidationReview.objects.filter(
            version=OuterRef("pk"), validator=validator, cycle=OuterRef("validation_cycle")
        ).exclude(decision="")
        waiting = Q(state__in=[VersionState.SUBMITTED, VersionState.IN_VALIDATION]) | Q(
            state__in=APPROVED_STATES, revalidation_overdue_since__isnull=False
        )
        candidates = self.filter(waiting).exclude(Exists(decided)).select_related("model")
        # One rule of independence (``ModelVersion.independence_problem``), the team's memory
        # included; few versions wait at a time.
        dependent = [v.pk for v in candidates if v.independence_problem(validator)]
        return candidates.exclude(pk__in=dependent)

    def revalidation_overdue(self) -> ModelVersionQuerySet:
        return self.filter(state__in=APPROVED_STATES, revalidation_overdue_since__isnull=False)

    def approval_expired(self, now: dt.datetime) -> ModelVersionQuerySet:
        """Approved versions whose approval has expired by ``now`` (flagged or not yet)."""
        return self.filter(state__in=APPROVED_STATES, approval_expires_at__lte=now)


class FrozenBundleError(ValidationError):
    """Raised on any attempt to change the bundle of a version that has left draft."""


class ModelVersion(models.Model):
    """One version of a model: the atomic bundle that says exactly what made a prediction.

    Registered by a model developer; validated and approved as a whole. Once it leaves draft its
    bundle is frozen (a change means a new version). ``manifest_sha256`` is the SHA-256 of the
    RFC 8785 canonical JSON of every bundle field, so two parties can compare bundles by one hash.
    """

    # The fields that make up the bundle, in the order the manifest lists them.
    BUNDLE_FIELDS = (
        "label",
        "artifact_uri",
        "artifact_sha256",
        "training_data_uri",
        "training_data_sha256",
        "training_row_count",
        "training_date_from",
        "training_date_to",
        "feature_pipeline_version",
        "input_schema",
        "code_commit",
        "configuration",
        "score_of",
        "evaluation_metrics",
        "baselines",
    )

    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="versions")
    label = models.CharField(
        "version label",
        max_length=50,
        validators=[validate_name],
        help_text="e.g. 1.0.0 (letters, digits, '.', '-', '_', '+').",
    )
    state = models.CharField(
        max_length=30, choices=VersionState.choices, default=VersionState.DRAFT, editable=False
    )
    artifact_uri = models.CharField("artifact URI", max_length=500)
    artifact_sha256 = models.CharField(
        "artifact SHA-256", max_length=64, validators=[sha256_validator]
    )
    training_data_uri = models.CharField("training data reference", max_length=500)
    training_data_sha256 = models.CharField(
        "training data SHA-256", max_length=64, validators=[sha256_validator]
    )
    training_row_count = models.PositiveBigIntegerField()
    training_date_from = models.DateField()
    training_date_to = models.DateField()
    feature_pipeline_version = models.CharField(max_length=100)
    input_schema = models.JSONField(validators=[validate_json_schema], help_text="A JSON Schema.")
    input_schema_sha256 = models.CharField(max_length=64, editable=False)
    code_commit = models.CharField(max_length=100)
    configuration = models.JSONField(
        default=dict, blank=True, validators=[validate_json_object], help_text="Hyperparameters."
    )
    score_of = models.CharField(
        "the score is the probability of",
        max_length=20,
        choices=ScoreOf.choices,
        default=ScoreOf.FAVOURABLE,
        help_text="Which outcome the logged score is the probability of: a probability of "
        "default or a fraud risk is of the unfavourable one.",
    )
    evaluation_metrics = models.JSONField(
        default=dict, blank=True, validators=[validate_json_object]
    )
    baselines = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_json_object],
        help_text="Monitoring baselines: feature and score distributions, selection rate by group.",
    )
    manifest_sha256 = models.CharField("manifest SHA-256", max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the workflow only (compliance.workflow), never by a form.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="submitted_versions",
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    validation_cycle = models.PositiveSmallIntegerField(
        default=1,
        editable=False,
        help_text="The cycle new reviews belong to: 1 is the initial validation, then each "
        "periodic revalidation.",
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approval_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    revalidation_overdue_since = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords()
    objects = ModelVersionQuerySet.as_manager()

    # Which workflow actions each state allows (named as the API names them).
    ACTIONS = {
        "submit": (VersionState.DRAFT,),
        "start-validation": (VersionState.SUBMITTED,),
        "review": (VersionState.IN_VALIDATION, *APPROVED_STATES),
        "record-finding": (VersionState.IN_VALIDATION, *APPROVED_STATES),
        "add-condition": (VersionState.IN_VALIDATION, *APPROVED_STATES),
        "approve": (VersionState.IN_VALIDATION, *APPROVED_STATES),
        "reject": (VersionState.IN_VALIDATION,),
        "deploy": APPROVED_STATES,
        "retire": APPROVED_STATES,
    }

    class Meta:
        ordering = ["model", "created_at", "id"]
        permissions = [
            ("submit_modelversion", "Can submit a version for validation"),
            (
                "validate_modelversion",
                "Can validate a version: review, findings, conditions, approve, reject",
            ),
            ("deploy_modelversion", "Can deploy, roll back and retire versions"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "label"],
                name="version_label_unique_per_model",
                violation_error_message="This model already has a version with this label.",
            ),
            models.CheckConstraint(
                name="training_dates_in_order",
                condition=models.Q(training_date_from__lte=models.F("training_date_to")),
                violation_error_message="The training data date range ends before it starts.",
            ),
            models.CheckConstraint(
                name="version_label_is_a_name",
                condition=name_check("label"),
                violation_error_message=NAME_RULE,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model.slug} {self.label}"

    def save(self, *args: Any, transition: bool = False, **kwargs: Any) -> None:
        """Save the version; only the workflow passes ``transition=True`` to change its state."""
        if self.pk is not None and not transition:
            stored = ModelVersion.objects.filter(pk=self.pk).values_list("state", flat=True)
            if stored and stored[0] != self.state:
                raise IllegalTransition(
                    f"The state of {self} changes only through the workflow actions "
                    f"({', '.join(self.ACTIONS)}), never by saving it.",
                    state=stored[0],
                )
        changed = self.frozen_changes()
        if changed:
            raise FrozenBundleError(
                f"Cannot change {', '.join(changed)}: version {self.label} has left draft and "
                "its bundle is frozen. Register a new version instead."
            )
        self.compute_hashes()
        super().save(*args, **kwargs)

    @property
    def is_frozen(self) -> bool:
        return self.state != VersionState.DRAFT

    def clean(self) -> None:
        if (
            self.training_date_from
            and self.training_date_to
            and self.training_date_from > self.training_date_to
        ):
            raise ValidationError(
                {"training_date_to": "The training data date range ends before it starts."}
            )

    def manifest(self) -> dict[str, Any]:
        """The bundle as a JSON object: what ``manifest_sha256`` commits to."""
        bundle: dict[str, Any] = {"model": self.model.slug}
        for name in self.BUNDLE_FIELDS:
            value = getattr(self, name)
            if name == "score_of" and value == ScoreOf.FAVOURABLE:
                # The direction entered the bundle after versions were hashed, all of them
                # scoring the favourable outcome: listing only the other direction keeps
                # every earlier manifest_sha256 (and any copy a third party holds) valid.
                continue
            bundle[name] = value.isoformat() if isinstance(value, dt.date) else value
        return bundle

    @property
    def score_direction(self) -> ScoreOf:
        """How this version's score is read (see ``ScoreOf``)."""
        return ScoreOf(self.score_of)

    def compute_hashes(self) -> None:
        self.input_schema_sha256 = canonical_sha256(self.input_schema)
        self.manifest_sha256 = canonical_sha256(self.manifest())

    def frozen_changes(self) -> list[str]:
        """Bundle fields that differ from the stored copy of a frozen version."""
        if self.pk is None:
            return []
        stored = ModelVersion.objects.filter(pk=self.pk).first()
        if stored is None or not stored.is_frozen:
            return []
        return [f for f in self.BUNDLE_FIELDS if getattr(self, f) != getattr(stored, f)]

    def as_of(self, when: dt.datetime) -> ModelVersion:
        """This version as it stood at ``when`` (raises ``DoesNotExist`` if not registered yet)."""
        return self.history.as_of(when)

    # --------------------------------------------------------------- workflow rules

    def allowed_actions(self) -> list[str]:
        return [action for action, states in self.ACTIONS.items() if self.state in states]

    def check_action(self, action: str) -> None:
        """Raise ``IllegalTransition`` unless the current state allows ``action``."""
        if self.state in self.ACTIONS[action]:
            return
        allowed = self.allowed_actions()
        state = self.get_state_display().lower()
        if allowed:
            then = f"allowed from {state}: {', '.join(allowed)}."
        else:
            then = f"nothing is allowed from {state}; register a new version instead."
        raise IllegalTransition(
            f"Cannot {action.replace('-', ' ')} {self}: it is {state}; {then}",
            state=self.state,
            allowed=allowed,
        )

    def independence_problem(self, user) -> str | None:
        """Why ``user`` is not independent of this version (SR 11-7), or None if they are."""
        if user.pk == self.created_by_id:
            return f"{user.get_username()} registered {self}"
        if user.pk == self.submitted_by_id:
            return f"{user.get_username()} submitted {self}"
        if self.model.is_on_team(user):
            return f"{user.get_username()} is on the developing team of {self.model.slug}"
        if user.pk in self.former_team():
            return (
                f"{user.get_username()} was on the developing team of {self.model.slug} "
                f"after {self} was registered"
            )
        return None

    def former_team(self, until: dt.datetime | None = None) -> set[int]:
        """The ids of everyone the ledger names on the model's developing team in a change of
        the team since this version was registered (and before ``until``): ``aimodel.changed``
        events carry the team before and after each change, so with the team of the moment
        this is everyone on it at any time since. The ledger cannot be quietly rewritten, so
        taking a validator off the team and putting her on the validation does not make her
        independent."""
        from audit.models import GovernanceEvent

        changes = GovernanceEvent.objects.filter(
            model_id=self.model_id,
            object_type=AIModel._meta.label,
            event_type="aimodel.changed",
            occurred_at__gte=self.created_at,
        )
        if until is not None:
            changes = changes.filter(occurred_at__lt=until)
        members: set[int] = set()
        for before, after in changes.values_list("before", "after"):
            for side in (before or {}, after or {}):
                members.update(row["user"] for row in side.get("developing_team") or [])
        return members

    def check_independence(self, user, doing: str) -> None:
        problem = self.independence_problem(user)
        if problem:
            raise SegregationOfDutiesError(
                f"Segregation of duties: nobody may {doing} a version they registered or "
                f"submitted, or of a model whose developing team they are on; {problem}."
            )

    @property
    def is_approved(self) -> bool:
        return self.state in APPROVED_STATES

    def approval_is_current(self, now: dt.datetime | None = None) -> bool:
        """Approved, and the approval has not expired (revalidation is not overdue)."""
        return (
            self.is_approved
            and self.approval_expires_at is not None
            and (now or timezone.now()) < self.approval_expires_at
        )

    def current_approvals(self) -> models.QuerySet[ValidationReview]:
        """Approving reviews of the cycle in progress."""
        return self.reviews.filter(
            cycle=self.validation_cycle,
            decision__in=[ReviewDecision.APPROVE, ReviewDecision.APPROVE_WITH_CONDITIONS],
        )

    def timeline(self) -> models.QuerySet:
        """Every ledger event about this version, its reviews, findings, conditions and
        deployments, oldest first (the admin's per-version timeline)."""
        from audit.models import GovernanceEvent

        related = Q(object_type=self._meta.label, object_id=str(self.pk))
        deployments = list(self.deployments.values_list("pk", flat=True))
        for model, ids in (
            (ValidationReview, self.reviews.values_list("pk", flat=True)),
            (Finding, self.findings.values_list("pk", flat=True)),
            (Condition, self.conditions.values_list("pk", flat=True)),
            (Deployment, deployments),
        ):
            related |= Q(object_type=model._meta.label, object_id__in=[str(pk) for pk in ids])
        # A deployment that replaced or rolled back one of ours names it in ``before``.
        related |= Q(event_type__startswith="deployment.", before__deployment__in=deployments)
        return (
            GovernanceEvent.objects.filter(model=self.model_id)
            .filter(related)
            .order_by("occurred_at", "pk")
        )


class UserAPIKey(AbstractAPIKey):
    """An API key of one user (a service account or a script). Only its hash is stored.

    A key is scoped to a set of models (or, deliberately, to all of them) and a set of actions
    (:class:`~compliance.choices.KeyAction`); the scope narrows what the user's role allows,
    never widens it. Issued and revoked only through :mod:`compliance.keys` (the command, the
    admin), which writes each as a ledger event; revoking it any other way raises.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    ai_models = models.ManyToManyField(
        AIModel, blank=True, related_name="api_keys", verbose_name="models"
    )
    all_models = models.BooleanField(
        default=False, help_text="Every model, present and future (only if deliberately chosen)."
    )
    actions = models.JSONField(default=list, help_text="The KeyAction values the key may do.")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def save(self, *args, **kwargs) -> None:
        if self.revoked and not self._initial_revoked and not getattr(self, "_recorded", False):
            raise ValidationError("Revoke an API key with compliance.keys.revoke_key().")
        super().save(*args, **kwargs)

    def allows(self, action: str) -> bool:
        return action in self.actions

    @cached_property
    def model_slugs(self) -> frozenset[str]:
        """The slugs of the models in scope (cached: checked once per item of a batch)."""
        return frozenset(self.ai_models.values_list("slug", flat=True))

    def covers(self, slug: str) -> bool:
        return self.all_models or slug in self.model_slugs

    def scope_text(self) -> str:
        """The scope in words, for refusals: "models credit-scoring; actions log_predictions"."""
        models_text = (
            "all models"
            if self.all_models
            else ("models " + (", ".join(sorted(self.model_slugs)) or "none"))
        )
        return f"{models_text}; actions {', '.join(self.actions) or 'none'}"


class ValidationQueue(ModelVersion):
    """The versions awaiting one validator: the admin's queue (a view of ``ModelVersion``)."""

    class Meta:
        proxy = True
        verbose_name = "validation queue entry"
        verbose_name_plural = "validation queue"


def benchmark_problem(benchmark: Any) -> str | None:
    """What is wrong with a review's benchmark table, or None (an empty one is allowed: its
    absence is a gap in the validation report, not bad input)."""
    if benchmark in ({}, None):
        return None
    if not isinstance(benchmark, dict) or set(benchmark) - {"against", "hold_out", "rows"}:
        return 'An object with "against", "hold_out" and "rows".'
    if not isinstance(benchmark.get("against"), str) or not benchmark["against"].strip():
        return '"against" names the challenger or baseline model.'
    if not isinstance(benchmark.get("hold_out"), str) or not benchmark["hold_out"].strip():
        return '"hold_out" names the hold-out sample both were scored on.'
    rows = benchmark.get("rows")
    if not isinstance(rows, list) or not rows:
        return '"rows" is a non-empty list of {"metric", "model", "benchmark"}.'
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != {"metric", "model", "benchmark"}:
            return f'Row {i + 1} must have exactly "metric", "model" and "benchmark".'
        if not isinstance(row["metric"], str) or not row["metric"].strip():
            return f"Row {i + 1}: the metric is a name."
        for side in ("model", "benchmark"):
            value = row[side]
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f'Row {i + 1}: "{side}" is a number.'
            if not math.isfinite(value):
                return f'Row {i + 1}: "{side}" is a finite number.'
    return None


class ValidationReview(models.Model):
    """One validator's independent review of a version in one validation cycle (SR 11-7
    effective challenge): its scope, the evidence examined for each of the three elements of
    validation with a conclusion, and the validator's decision.

    Recorded by validators through the workflow; read by risk officers, auditors and the
    validation report. One per validator, version and cycle; it cannot change once decided.
    """

    ELEMENTS = ("conceptual_soundness", "ongoing_monitoring", "outcomes_analysis")

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="reviews")
    validator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="validation_reviews"
    )
    cycle = models.PositiveSmallIntegerField(help_text="1: initial validation; then revalidations.")
    scope = models.TextField(help_text="What the review covered, and what it did not.")
    conceptual_soundness = models.TextField(
        blank=True, help_text="Evidence examined: design, theory, data, methodology."
    )
    conceptual_soundness_conclusion = models.CharField(
        max_length=20, choices=Conclusion.choices, blank=True
    )
    ongoing_monitoring = models.TextField(
        blank=True, help_text="Evidence examined: process verification, benchmarking, monitoring."
    )
    ongoing_monitoring_conclusion = models.CharField(
        max_length=20, choices=Conclusion.choices, blank=True
    )
    outcomes_analysis = models.TextField(
        blank=True, help_text="Evidence examined: back-testing, outcomes against predictions."
    )
    outcomes_analysis_conclusion = models.CharField(
        max_length=20, choices=Conclusion.choices, blank=True
    )
    references = models.JSONField(
        default=dict,
        blank=True,
        help_text='The evidence each conclusion rests on, per element: {"outcomes_analysis": '
        '["report 12", "artifact sha256:…"]} (document references, report ids, hashes).',
    )
    benchmark = models.JSONField(
        default=dict,
        blank=True,
        help_text="The version against a challenger or simple baseline on the same hold-out: "
        '{"against": "…", "hold_out": "…", "rows": [{"metric": "roc_auc", "model": 0.8, '
        '"benchmark": 0.5}]}.',
    )
    recommendations = models.TextField(blank=True, help_text="What the validator recommends.")
    sensitivity = models.TextField(
        blank=True, help_text="Sensitivity or stability analyses run, and their results."
    )
    decision = models.CharField(
        max_length=30, choices=ReviewDecision.choices, blank=True, editable=False
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "cycle", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "validator", "cycle"],
                name="one_review_per_validator_and_cycle",
                violation_error_message="This validator already has a review of this cycle.",
            ),
            models.CheckConstraint(
                name="review_decided_with_a_date",
                condition=Q(decision="", decided_at__isnull=True)
                | (~Q(decision="") & Q(decided_at__isnull=False)),
                violation_error_message="A decided review has a decision and its date.",
            ),
        ]

    def __str__(self) -> str:
        return f"review of {self.version} by {self.validator} (cycle {self.cycle})"

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)

    def clean(self) -> None:
        """References and the benchmark table are free JSON in the database; their shape is
        checked here, so every door (API, admin, commands) refuses the same bad input."""
        super().clean()
        errors = {}
        refs = self.references
        if not isinstance(refs, dict) or set(refs) - set(self.ELEMENTS):
            errors["references"] = (
                "An object whose keys are elements of validation ("
                + ", ".join(self.ELEMENTS)
                + "), each a list of evidence references."
            )
        elif not all(
            isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v)
            for v in refs.values()
        ):
            errors["references"] = "Each element's references are a list of non-empty strings."
        problem = benchmark_problem(self.benchmark)
        if problem:
            errors["benchmark"] = problem
        if errors:
            raise ValidationError(errors)

    def approval_problem(self) -> str | None:
        """Why this review cannot support an approval yet, or None."""
        missing = [e for e in self.ELEMENTS if not getattr(self, f"{e}_conclusion")]
        if missing:
            names = ", ".join(e.replace("_", " ") for e in missing)
            return f"the review has no conclusion on {names}"
        failed = [
            e
            for e in self.ELEMENTS
            if getattr(self, f"{e}_conclusion") == Conclusion.UNSATISFACTORY
        ]
        if failed:
            names = ", ".join(e.replace("_", " ") for e in failed)
            return f"the review concludes {names} is unsatisfactory"
        return None


class FindingQuerySet(models.QuerySet):
    def open(self) -> FindingQuerySet:
        return self.filter(status=FindingStatus.OPEN)

    def overdue(self, today: dt.date | None = None) -> FindingQuerySet:
        return self.open().filter(due_date__lt=today or timezone.localdate())


class Finding(models.Model):
    """A weakness found in a version, by a validator or a monitor, and what became of it.

    Open until a validator confirms it remediated or a risk officer accepts the risk (with a
    justification). An open high-severity finding blocks approval; overdue findings show up
    for the risk officer.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="findings")
    review = models.ForeignKey(
        ValidationReview,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
        help_text="The review it was raised in (none when a monitor raised it).",
    )
    title = models.CharField(max_length=200)
    description = models.TextField()
    severity = models.CharField(max_length=10, choices=Severity.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_findings",
        help_text="Who must remediate it.",
    )
    due_date = models.DateField()
    status = models.CharField(
        max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN, editable=False
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="raised_findings",
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="resolved_findings",
        help_text="Who confirmed the remediation, or who accepted the risk.",
    )
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution = models.TextField(
        blank=True,
        editable=False,
        help_text="How it was remediated, or the justification for accepting the risk.",
    )

    history = HistoricalRecords()
    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["version", "raised_at", "id"]
        permissions = [("accept_risk_finding", "Can accept the risk of a finding")]
        constraints = [
            models.CheckConstraint(
                name="finding_resolved_with_who_when_and_why",
                condition=Q(status=FindingStatus.OPEN, resolved_at__isnull=True)
                | (
                    ~Q(status=FindingStatus.OPEN)
                    & Q(resolved_at__isnull=False, resolved_by__isnull=False)
                    & ~Q(resolution="")
                ),
                violation_error_message=(
                    "A resolved finding records who resolved it, when, and how or why."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display()} finding #{self.pk}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status == FindingStatus.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_date < timezone.localdate()


class ConditionQuerySet(models.QuerySet):
    def open(self) -> ConditionQuerySet:
        return self.filter(status=ConditionStatus.OPEN)

    def overdue(self, today: dt.date | None = None) -> ConditionQuerySet:
        return self.open().filter(due_date__lt=today or timezone.localdate())


class Condition(models.Model):
    """A condition of approval: something the model's owners must do by a date (e.g. "report
    approval rates by age band monthly until June"). A version approved while it has open
    conditions is "approved with conditions"; overdue conditions show up for the risk officer.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="conditions")
    review = models.ForeignKey(
        ValidationReview,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conditions",
    )
    description = models.TextField()
    due_date = models.DateField()
    status = models.CharField(
        max_length=10,
        choices=ConditionStatus.choices,
        default=ConditionStatus.OPEN,
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        editable=False,
        related_name="created_conditions",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    met_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="met_conditions",
    )
    met_at = models.DateTimeField(null=True, blank=True, editable=False)
    note = models.TextField(blank=True, editable=False, help_text="The evidence that it is met.")

    history = HistoricalRecords()
    objects = ConditionQuerySet.as_manager()

    class Meta:
        ordering = ["version", "due_date", "id"]
        constraints = [
            models.CheckConstraint(
                name="condition_met_with_who_and_when",
                condition=Q(status=ConditionStatus.OPEN, met_at__isnull=True)
                | Q(status=ConditionStatus.MET, met_at__isnull=False, met_by__isnull=False),
                violation_error_message="A met condition records who confirmed it and when.",
            ),
        ]

    def __str__(self) -> str:
        return f"condition #{self.pk} of {self.version}: {self.description[:60]}"

    @property
    def is_overdue(self) -> bool:
        return self.status == ConditionStatus.OPEN and self.due_date < timezone.localdate()


class DeploymentQuerySet(models.QuerySet):
    def active(self) -> DeploymentQuerySet:
        return self.filter(ended_at__isnull=True)


class Deployment(models.Model):
    """A version serving in an environment, from its deployment until it was replaced, rolled
    back or stopped: production's champion makes the decisions; a challenger runs beside it in
    shadow or canary.

    Created and ended only by the workflow (deploy, roll back, stop). Each model has at most one
    active champion per environment (a database constraint). Read by ingest, which flags
    predictions of anything but an active deployment with a current approval.
    """

    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="deployments")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="deployments")
    environment = models.CharField(max_length=20, choices=Environment.choices)
    role = models.CharField(max_length=20, choices=DeploymentRole.choices)
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The champion this one replaced: what a rollback restores.",
    )
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    deployed_at = models.DateTimeField()
    reason = models.TextField()
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["model", "environment", "-deployed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "environment"],
                condition=Q(role=DeploymentRole.CHAMPION, ended_at__isnull=True),
                name="one_active_champion_per_environment",
                violation_error_message="This environment already has an active champion.",
            ),
            models.UniqueConstraint(
                fields=["version", "environment"],
                condition=Q(ended_at__isnull=True),
                name="one_active_deployment_of_a_version_per_environment",
                violation_error_message="This version is already deployed to this environment.",
            ),
            models.CheckConstraint(
                name="deployment_ends_after_it_starts",
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("deployed_at")),
                violation_error_message="A deployment cannot end before it started.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} as {self.role} in {self.environment}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


def default_checks() -> list[str]:
    return ["fairness", "drift", "performance"]


def validate_checks(value: Any) -> None:
    allowed = set(default_checks())
    if not isinstance(value, list) or not value or not set(value) <= allowed:
        raise ValidationError(f"Choose one or more of: {', '.join(sorted(allowed))}.")


def validate_thresholds(value: Any) -> None:
    from compliance.reports import DEFAULT_THRESHOLDS

    if not isinstance(value, dict):
        raise ValidationError("Give a JSON object of threshold names and numbers.")
    unknown = set(value) - set(DEFAULT_THRESHOLDS)
    if unknown:
        raise ValidationError(
            f"Unknown thresholds: {', '.join(sorted(unknown))}; known: "
            f"{', '.join(sorted(DEFAULT_THRESHOLDS))}."
        )
    bad = [k for k, v in value.items() if not isinstance(v, int | float) or isinstance(v, bool)]
    if bad:
        raise ValidationError(f"Thresholds must be numbers: {', '.join(sorted(bad))}.")


class ReportSchedule(models.Model):
    """A monitoring schedule of one model: which checks, over which window, how often, and the
    thresholds whose breach raises an alert and opens a finding.

    Kept by the model risk officer in the admin; every change is kept (history) and is a ledger
    event. Scheduled runs go through Celery beat in production and ``run_scheduler`` (or cron
    with ``run_due_reports``) on the embedded default.
    """

    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="report_schedules")
    name = models.CharField(max_length=100, default="Daily monitoring")
    checks = models.JSONField(default=default_checks, validators=[validate_checks])
    attributes = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_attribute_names],
        help_text="Sensitive attributes to analyse; empty means the model's own list.",
    )
    window_days = models.PositiveIntegerField(default=7, help_text="e.g. 7: the last 7 days")
    cadence_hours = models.PositiveIntegerField(default=24, help_text="24: daily")
    min_group_size = models.PositiveIntegerField(
        default=30, help_text="Smaller groups are reported as insufficient data."
    )
    thresholds = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_thresholds],
        help_text='e.g. {"impact_ratio_min": 0.8, "psi_max": 0.2}; missing ones use defaults.',
    )
    active = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["next_run_at"])

    class Meta:
        ordering = ["model", "name"]
        constraints = [
            models.CheckConstraint(
                name="schedule_window_and_cadence_positive",
                condition=Q(window_days__gte=1) & Q(cadence_hours__gte=1),
                violation_error_message="Window and cadence must be at least 1.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} of {self.model.slug}"

    def effective_thresholds(self) -> dict[str, float]:
        from compliance.reports import DEFAULT_THRESHOLDS

        return {**DEFAULT_THRESHOLDS, **(self.thresholds or {})}


class MonitoringReport(AppendOnlyModel):
    """One run of a monitoring report over one version's logged predictions in a window.

    Immutable evidence: inputs (window, version, counts), results, and pass/fail per threshold;
    its SHA-256 is in the ledger event that recorded it. Read by risk officers, validators,
    auditors and the documents.
    """

    schedule = models.ForeignKey(
        ReportSchedule, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="reports")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="reports")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    checks = models.JSONField()
    thresholds = models.JSONField()
    min_group_size = models.PositiveIntegerField()
    results = models.JSONField()
    breaches = models.JSONField()
    passed = models.BooleanField()
    content_sha256 = models.CharField(max_length=64)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who ran it on demand; empty for a scheduled run.",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["model", "created_at"], name="report_model_time")]

    def __str__(self) -> str:
        verdict = "passed" if self.passed else f"{len(self.breaches)} breaches"
        return f"{self.version} {self.window_start:%Y-%m-%d}–{self.window_end:%Y-%m-%d}: {verdict}"

    def content(self) -> dict[str, Any]:
        """What ``content_sha256`` commits to."""
        return {
            "model": self.model.slug,
            "version": self.version.label,
            "version_manifest_sha256": self.version.manifest_sha256,
            "window": [self.window_start.isoformat(), self.window_end.isoformat()],
            "checks": self.checks,
            "thresholds": self.thresholds,
            "min_group_size": self.min_group_size,
            "results": self.results,
            "breaches": self.breaches,
            "passed": self.passed,
        }

    def content_bytes(self) -> bytes:
        """The RFC 8785 canonical JSON of ``content()``: the bytes whose SHA-256 is
        ``content_sha256``, served as they are by the API and put in evidence packs."""
        return canonical_json(self.content())


class ModelArtifact(AppendOnlyModel):
    """The model file of a version, uploaded in skops format (never pickle), and the small
    reference population its SHAP explanations are relative to.

    Uploaded once by a developer of the model's team (``compliance.artifacts.store_artifact``):
    refused unless its SHA-256 is the one the bundle pins and every type in it is one skops
    trusts. Immutable evidence, like the bundle it completes; read by the background explainer
    and by validators and auditors who recompute an explanation.
    """

    version = models.OneToOneField(
        ModelVersion, on_delete=models.PROTECT, related_name="artifact", primary_key=True
    )
    content = models.BinaryField(editable=False, help_text="The skops file, byte for byte.")
    sha256 = models.CharField("SHA-256", max_length=64, validators=[sha256_validator])
    size = models.PositiveBigIntegerField(help_text="bytes")
    estimator = models.CharField(
        max_length=300, help_text="What the file holds, e.g. Pipeline(StandardScaler, …)."
    )
    features = models.JSONField(help_text="The input columns the model reads, in its order.")
    background = models.JSONField(
        help_text="Reference rows (one list of numbers per row, in feature order)."
    )
    background_sha256 = models.CharField(max_length=64)
    background_source = models.CharField(max_length=200)
    explainer = models.CharField(max_length=60, help_text="e.g. shap.LinearExplainer")
    output_space = models.CharField(max_length=20, help_text="e.g. log_odds")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"artifact of {self.version} ({self.sha256[:12]}…)"


class PredictionVolume(models.Model):
    """How many predictions one version made on one day (UTC) in one environment: a rollup of
    the ledger kept so the dashboard never counts millions of predictions on a page load.

    Maintained by the sequencer as it seals predictions (``add_sealed``, in the sealing
    transaction, so every sealed prediction is counted exactly once); ``rebuild`` recounts
    everything sealed (``manage.py rollup_prediction_volume``). Read by the dashboard and the
    readiness scorecard.
    """

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    environment = models.CharField(max_length=20, choices=Environment.choices)
    predictions = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["model", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "day", "environment"], name="one_volume_per_version_day_env"
            )
        ]
        indexes = [models.Index(fields=["day", "model"], name="volume_day_model")]

    def __str__(self) -> str:
        return f"{self.version_id} on {self.day} in {self.environment}: {self.predictions}"

    @classmethod
    def add_sealed(cls, after_entry_id: int, upto_entry_id: int) -> None:
        """Count the predictions whose entries were just sealed: ids in (after, upto]."""
        from audit.models import PredictionRecord

        sealed = PredictionRecord.objects.filter(
            entry_id__gt=after_entry_id, entry_id__lte=upto_entry_id
        )
        for row in cls._per_day(sealed):
            key = {k: row[k] for k in ("version_id", "day", "environment")}
            added = cls.objects.filter(**key).update(predictions=models.F("predictions") + row["n"])
            if not added:
                cls.objects.create(model_id=row["model_id"], predictions=row["n"], **key)

    @classmethod
    def rebuild(cls) -> int:
        """Recount every sealed prediction from the ledger; the number of rows written."""
        from audit.models import PredictionRecord, SequencerState

        state = SequencerState.objects.filter(pk=1).first()
        watermark = state.watermark_id if state else 0
        rows = cls._per_day(PredictionRecord.objects.filter(entry_id__lte=watermark))
        with transaction.atomic():
            cls.objects.all().delete()
            cls.objects.bulk_create(
                cls(
                    model_id=r["model_id"],
                    version_id=r["version_id"],
                    day=r["day"],
                    environment=r["environment"],
                    predictions=r["n"],
                )
                for r in rows
            )
        return len(rows)

    @staticmethod
    def _per_day(predictions: models.QuerySet) -> list[dict[str, Any]]:
        return list(
            predictions.annotate(day=TruncDate("decided_at"))
            .values("version_id", "day", "environment", model_id=models.F("version__model_id"))
            .annotate(n=models.Count("pk"))
            .order_by()
        )


class LegalHoldQuerySet(models.QuerySet):
    def active(self) -> LegalHoldQuerySet:
        return self.filter(released_at__isnull=True)


class LegalHold(models.Model):
    """A legal hold on a model's ledger payloads or on one data subject's personal data.

    While active, ``purge_expired`` keeps the held payloads whatever their age, and
    ``erase_subject`` refuses to erase a held subject. Placed and released by risk officers
    (``manage.py legal_hold``); each step is a ledger event. The subject is named by its
    pseudonymous reference, never by its own id.
    """

    model = models.ForeignKey(
        AIModel, on_delete=models.PROTECT, null=True, blank=True, related_name="legal_holds"
    )
    subject = models.ForeignKey(
        "audit.SubjectKey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legal_holds",
    )
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    placed_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="legal_hold_on_a_model_or_a_subject",
                condition=Q(model__isnull=False, subject__isnull=True)
                | Q(model__isnull=True, subject__isnull=False),
                violation_error_message="A legal hold is on one model or one data subject.",
            )
        ]

    def __str__(self) -> str:
        target = self.model if self.model_id else self.subject
        return f"legal hold on {target}" + (" (released)" if self.released_at else "")
