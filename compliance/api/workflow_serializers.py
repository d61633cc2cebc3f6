"""Input and output of the workflow endpoints. Input serializers only validate; the actions are
functions of ``compliance.workflow``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance.choices import (
    Conclusion,
    DeploymentRole,
    Environment,
    FindingStatus,
    OversightAction,
    Severity,
)
from compliance.models import (
    AIModel,
    Condition,
    Deployment,
    Finding,
    ModelVersion,
    ValidationReview,
)

User = get_user_model()


def username_field(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="username", **kwargs)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RequiredReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why; kept in the ledger with the action.")


class DeploySerializer(serializers.Serializer):
    environment = serializers.ChoiceField(Environment.choices, default=Environment.PRODUCTION)
    role = serializers.ChoiceField(
        DeploymentRole.choices,
        required=False,
        help_text="Default: champion in production, challenger elsewhere.",
    )
    reason = serializers.CharField()


class RollbackSerializer(serializers.Serializer):
    environment = serializers.ChoiceField(Environment.choices, default=Environment.PRODUCTION)
    reason = serializers.CharField()


class WorkflowErrorSerializer(serializers.Serializer):
    """A refusal: the message names the rule (a refusal by role, before any rule, has only the
    message); a 409 also gives the state and what it allows."""

    detail = serializers.CharField()
    rule = serializers.CharField(required=False)
    state = serializers.CharField(required=False)
    allowed = serializers.ListField(child=serializers.CharField(), required=False)


class DeploymentSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.SlugRelatedField(slug_field="label", read_only=True)
    version_id = serializers.IntegerField(read_only=True)
    deployed_by = username_field(read_only=True)
    ended_by = username_field(read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "model",
            "version",
            "version_id",
            "environment",
            "role",
            "active",
            "previous",
            "deployed_by",
            "deployed_at",
            "reason",
            "ended_by",
            "ended_at",
            "end_reason",
        ]
        read_only_fields = fields


class VersionStatusSerializer(serializers.ModelSerializer):
    """Where a version stands in the workflow."""

    model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    allowed_actions = serializers.ListField(child=serializers.CharField(), read_only=True)
    approvals_required = serializers.IntegerField(source="model.approvals_required")
    approvals = serializers.SerializerMethodField()
    submitted_by = username_field(read_only=True)
    revalidation_overdue = serializers.SerializerMethodField()
    deployments = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "model",
            "label",
            "state",
            "allowed_actions",
            "validation_cycle",
            "approvals_required",
            "approvals",
            "submitted_by",
            "submitted_at",
            "approved_at",
            "approval_expires_at",
            "revalidation_overdue",
            "deployments",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_approvals(self, version: ModelVersion) -> list[str]:
        """Validators who approved in the cycle in progress."""
        return sorted(version.current_approvals().values_list("validator__username", flat=True))

    def get_revalidation_overdue(self, version: ModelVersion) -> bool:
        return version.revalidation_overdue_since is not None

    @extend_schema_field(DeploymentSerializer(many=True))
    def get_deployments(self, version: ModelVersion) -> list[dict]:
        active = version.deployments.active().select_related("model", "version")
        return DeploymentSerializer(active, many=True).data


class ReviewSerializer(serializers.ModelSerializer):
    version = serializers.PrimaryKeyRelatedField(read_only=True)
    validator = username_field(read_only=True)
    conceptual_soundness_conclusion = serializers.ChoiceField(
        Conclusion.choices, required=False, allow_blank=True
    )
    ongoing_monitoring_conclusion = serializers.ChoiceField(
        Conclusion.choices, required=False, allow_blank=True
    )
    outcomes_analysis_conclusion = serializers.ChoiceField(
        Conclusion.choices, required=False, allow_blank=True
    )
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True)

    class Meta:
        model = ValidationReview
        fields = [
            "id",
            "version",
            "validator",
            "cycle",
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
            "decision",
            "decided_at",
            "created_at",
            "updated_at",
            "reason",
        ]
        read_only_fields = ["cycle", "decision", "decided_at", "created_at", "updated_at"]


class FindingSerializer(serializers.ModelSerializer):
    version = serializers.PrimaryKeyRelatedField(read_only=True)
    owner = username_field(
        queryset=User.objects.filter(is_active=True), help_text="Who must remediate it."
    )
    severity = serializers.ChoiceField(Severity.choices)
    raised_by = username_field(read_only=True)
    resolved_by = username_field(read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "version",
            "review",
            "title",
            "description",
            "severity",
            "owner",
            "due_date",
            "status",
            "overdue",
            "raised_by",
            "raised_at",
            "resolved_by",
            "resolved_at",
            "resolution",
            "reason",
        ]
        read_only_fields = [
            "review",
            "status",
            "raised_at",
            "resolved_at",
            "resolution",
        ]


class ResolveFindingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        [FindingStatus.REMEDIATED, FindingStatus.RISK_ACCEPTED],
        help_text="remediated (a validator confirms it) or risk_accepted (a risk officer).",
    )
    resolution = serializers.CharField(
        help_text="How it was remediated, or the justification for accepting the risk."
    )


class ConditionSerializer(serializers.ModelSerializer):
    version = serializers.PrimaryKeyRelatedField(read_only=True)
    created_by = username_field(read_only=True)
    met_by = username_field(read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True)

    class Meta:
        model = Condition
        fields = [
            "id",
            "version",
            "description",
            "due_date",
            "status",
            "overdue",
            "created_by",
            "created_at",
            "met_by",
            "met_at",
            "note",
            "reason",
        ]
        read_only_fields = ["status", "created_at", "met_at", "note"]


class MeetConditionSerializer(serializers.Serializer):
    note = serializers.CharField(help_text="The evidence that the condition is met.")


class OversightSerializer(serializers.Serializer):
    action = serializers.ChoiceField(OversightAction.choices)
    event_id = serializers.UUIDField(
        required=False, help_text="The prediction overridden, reversed or confirmed."
    )
    model = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=AIModel.objects.all(),
        required=False,
        help_text="The model to stop.",
    )
    decision = serializers.JSONField(
        required=False, help_text="For an override: the decision that replaces the model's."
    )
    person = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Who acted; required from a service account, else the caller.",
    )
    reason = serializers.CharField()

    def validate(self, attrs):
        if attrs["action"] == OversightAction.STOP and "model" not in attrs:
            raise serializers.ValidationError({"model": "Name the model to stop."})
        if attrs["action"] != OversightAction.STOP and "event_id" not in attrs:
            raise serializers.ValidationError({"event_id": "Give the event id of the prediction."})
        return attrs


class GovernanceEventSerializer(serializers.Serializer):
    """A governance event of the ledger."""

    id = serializers.IntegerField()
    event_type = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    actor_name = serializers.CharField()
    object_type = serializers.CharField()
    object_repr = serializers.CharField()
    before = serializers.JSONField()
    after = serializers.JSONField()
    reason = serializers.CharField()
