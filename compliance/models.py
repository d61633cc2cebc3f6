"""The model inventory: what a risk officer keeps, and the versioned bundles developers register."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import jsonschema
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey
from simple_history.models import HistoricalRecords

from audit.canonical import NotCanonicalisable, canonical_json, canonical_sha256

from .choices import (
    RISK_TIER_MEANING,
    AnnexIIIArea,
    EUAIActCategory,
    LifecycleStatus,
    RiskTier,
    VersionState,
)

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


class AIModel(models.Model):
    """An entry of the model inventory (SR 11-7): one model, whatever its versions.

    Kept by the model risk officer; read by validators, auditors and every document. Its full
    history is kept, so it can be shown as it stood on any past date (``as_of``).
    """

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[developing_team])

    class Meta:
        verbose_name = "AI model"
        ordering = ["name"]
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
        "evaluation_metrics",
        "baselines",
    )

    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="versions")
    label = models.CharField("version label", max_length=50, help_text="e.g. 1.0.0")
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

    history = HistoricalRecords()
    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["model", "created_at", "id"]
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
        ]

    def __str__(self) -> str:
        return f"{self.model.slug} {self.label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
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
            bundle[name] = value.isoformat() if isinstance(value, dt.date) else value
        return bundle

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


class UserAPIKey(AbstractAPIKey):
    """An API key of one user (a service account or a script). Only its hash is stored.

    Created by ``manage.py create_api_key`` (which prints the key once); revoked in the admin.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
