from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from compliance.models import RETENTION_TOO_SHORT, AIModel, ModelVersion

User = get_user_model()


class AIModelSerializer(serializers.ModelSerializer):
    business_owner = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    developing_team = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), many=True, required=False
    )
    risk_tier_meaning = serializers.CharField(read_only=True)

    class Meta:
        model = AIModel
        fields = [
            "slug",
            "name",
            "description",
            "intended_purpose",
            "intended_users",
            "domain",
            "business_owner",
            "developing_team",
            "risk_tier",
            "risk_tier_meaning",
            "eu_ai_act_category",
            "annex_iii_area",
            "lifecycle_status",
            "retention_months",
            "sensitive_attributes",
            "favourable_label",
            "favourable_value",
            "monthly_cost",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "retention_months": {"error_messages": {"min_value": RETENTION_TOO_SHORT}},
        }

    def validate(self, attrs):
        category = attrs.get("eu_ai_act_category", getattr(self.instance, "eu_ai_act_category", ""))
        area = attrs.get("annex_iii_area", getattr(self.instance, "annex_iii_area", ""))
        if category == "high_risk" and not area:
            raise serializers.ValidationError(
                {"annex_iii_area": "A high-risk model needs its Annex III area."}
            )
        if category != "high_risk" and area:
            raise serializers.ValidationError(
                {"annex_iii_area": "Only high-risk models have an Annex III area."}
            )
        return attrs


class ModelVersionSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ModelVersion
        fields = ["id", "model", "state", *ModelVersion.BUNDLE_FIELDS]
        fields += ["input_schema_sha256", "manifest_sha256", "created_by", "created_at"]
        read_only_fields = [
            "state",
            "input_schema_sha256",
            "manifest_sha256",
            "created_by",
            "created_at",
        ]

    def validate_label(self, label: str) -> str:
        model = self.context["model"]
        clash = ModelVersion.objects.filter(model=model, label=label)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(f"{model.slug} already has a version {label}.")
        return label

    def validate(self, attrs):
        start = attrs.get("training_date_from", getattr(self.instance, "training_date_from", None))
        end = attrs.get("training_date_to", getattr(self.instance, "training_date_to", None))
        if start and end and start > end:
            raise serializers.ValidationError(
                {"training_date_to": "The training data date range ends before it starts."}
            )
        return attrs
