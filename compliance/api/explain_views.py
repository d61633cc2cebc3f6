"""Model artifacts and global importance over HTTP.

``POST /api/v1/versions/{id}/artifact/`` uploads the version's skops file (multipart), refused
unless its SHA-256 is the bundle's and skops trusts every type in it; ``GET`` the same URL
describes the stored artifact and how far its explanations have come.
``GET /api/v1/versions/{id}/importance/`` is mean |SHAP| per feature in a window, in a
reference window, and the feature-attribution drift between them.
"""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import ExplainerProgress
from compliance import artifacts, explanations
from compliance.choices import KeyAction
from compliance.models import ModelArtifact, ModelVersion

REFUSALS = {
    401: OpenApiResponse(description="No valid API key or session."),
    403: OpenApiResponse(description="The role may not do this."),
    404: OpenApiResponse(description="No such version (or it has no artifact yet)."),
}


class ArtifactUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The skops file whose SHA-256 the bundle pins.")
    background = serializers.FileField(
        required=False,
        help_text="Reference rows, about 100 sampled from the training data (CSV with a header, "
        "or a JSON list of objects), at most 1,000. Default: training quantiles from the "
        "version's drift baselines.",
    )
    features = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="The input columns in the model's order; only for a model not fitted on "
        "named columns.",
    )


class ArtifactSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version_id", read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    background_rows = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ModelArtifact
        fields = [
            "version",
            "sha256",
            "size",
            "estimator",
            "features",
            "explainer",
            "output_space",
            "background_rows",
            "background_source",
            "background_sha256",
            "uploaded_by",
            "uploaded_at",
            "progress",
        ]

    def get_background_rows(self, artifact) -> int:
        return len(artifact.background)

    def get_progress(self, artifact) -> dict:
        progress = ExplainerProgress.objects.filter(version_id=artifact.version_id).first()
        if progress is None:
            return {}
        return {
            "explained": progress.explained,
            "unexplainable": progress.unexplainable,
            "logged_with_explanation": progress.logged_with_explanation,
            "mismatches": progress.mismatches,
            "through_entry": progress.watermark_id,
        }


class ArtifactView(APIView):
    """The skops artifact of one version (by id)."""

    key_actions = {"GET": KeyAction.READ_INVENTORY, "POST": KeyAction.MANAGE_INVENTORY}
    key_model_lookup = (ModelVersion, "pk", "model__slug")

    parser_classes = [MultiPartParser, FormParser]
    # Uploads stream to disk; the file's own limit is checked on upload (413).
    max_request_bytes = artifacts.MAX_ARTIFACT_BYTES + 1024 * 1024
    required_permissions = {
        "GET": ["compliance.view_modelartifact"],
        "POST": ["compliance.add_modelartifact"],
    }

    @property
    def permission_denied_message(self) -> str:
        if self.request.method == "POST":
            return "Only developers of the model's team may upload its artifact."
        return "Your role does not read model artifacts."

    @extend_schema(
        summary="The version's artifact: what it holds and how it is explained",
        responses={200: ArtifactSerializer, **REFUSALS},
        tags=["explanations"],
    )
    def get(self, request, pk: int):
        version = get_object_or_404(ModelVersion, pk=pk)
        artifact = get_object_or_404(
            ModelArtifact.objects.defer("content").select_related("uploaded_by"), version=version
        )
        return Response(ArtifactSerializer(artifact).data)

    @extend_schema(
        summary="Upload the version's skops file",
        description="Refused (400) unless the file's SHA-256 equals the bundle's artifact "
        "SHA-256 and skops trusts every type in it (no pickle, nothing that runs code on load), "
        "and unless its SHAP explanations add up on the background. 201 when stored, 200 when "
        "the same file was already stored. Predictions of the version logged without an "
        "explanation, earlier ones included, are then explained in the background.",
        request={"multipart/form-data": ArtifactUploadSerializer},
        responses={
            201: ArtifactSerializer,
            200: ArtifactSerializer,
            400: OpenApiResponse(description="Hash mismatch, untrusted types, bad background."),
            413: OpenApiResponse(description="The file is too large."),
            **REFUSALS,
        },
        tags=["explanations"],
    )
    def post(self, request, pk: int):
        version = get_object_or_404(ModelVersion.objects.select_related("model"), pk=pk)
        data = ArtifactUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > artifacts.MAX_ARTIFACT_BYTES:
            return Response(
                {"file": [f"The limit is {artifacts.MAX_ARTIFACT_BYTES:,} bytes."]},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            background = None
            if "background" in data.validated_data:
                given = data.validated_data["background"]
                background = artifacts.read_background(given.name, given.read())
            artifact, created = artifacts.store_artifact(
                version,
                upload.read(),
                actor=request.user,
                background=background,
                features=data.validated_data.get("features"),
            )
        except artifacts.ArtifactRefused as refused:
            name = "file" if refused.field == "artifact" else refused.field
            return Response({name: [str(refused)]}, status=refused.status)
        return Response(
            ArtifactSerializer(artifact).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ImportanceQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text="default: 7 days before end")
    end = serializers.DateTimeField(required=False, help_text="default: now")
    reference_start = serializers.DateTimeField(
        required=False, help_text="default: the window of the same length before start"
    )
    reference_end = serializers.DateTimeField(required=False, help_text="default: start")
    sample = serializers.IntegerField(
        required=False,
        min_value=100,
        max_value=200_000,
        default=explanations.IMPORTANCE_SAMPLE,
        help_text="explanations read per window at most (a uniform sample)",
    )

    def validate(self, attrs):
        end = attrs.get("end") or timezone.now()
        start = attrs.get("start") or end - dt.timedelta(days=7)
        if start >= end:
            raise ValidationError({"end": "The window must end after it starts."})
        reference_end = attrs.get("reference_end") or start
        reference_start = attrs.get("reference_start") or reference_end - (end - start)
        if reference_start >= reference_end:
            raise ValidationError(
                {"reference_end": "The reference window must end after it starts."}
            )
        return {
            "start": start,
            "end": end,
            "reference_start": reference_start,
            "reference_end": reference_end,
            "sample": attrs["sample"],
        }


class ImportanceView(APIView):
    """Global feature importance of one version and its drift between two windows."""

    key_actions = {"GET": KeyAction.READ_REPORTS}
    key_model_lookup = (ModelVersion, "pk", "model__slug")

    required_permissions = {"GET": ["audit.view_explanationrecord"]}
    permission_denied_message = "Your role does not read explanations."

    @extend_schema(
        summary="Global importance (mean |SHAP|) and feature-attribution drift",
        description="Mean |SHAP| per feature over the version's explanations computed in the "
        "background for predictions decided in [start, end), the same over the reference "
        "window, and the drift between them: total variation distance between the two "
        "importance profiles (0 same, 1 entirely different), the largest change of a feature's "
        "share, Spearman's rank correlation. Also the importance over the artifact's "
        "background rows.",
        parameters=[
            OpenApiParameter(name, OpenApiTypes.DATETIME)
            for name in ("start", "end", "reference_start", "reference_end")
        ]
        + [OpenApiParameter("sample", int)],
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(description="Bad window; the message names the parameter."),
            **REFUSALS,
        },
        tags=["explanations"],
    )
    def get(self, request, pk: int):
        version = get_object_or_404(ModelVersion.objects.select_related("model"), pk=pk)
        query = ImportanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = query.validated_data
        return Response(
            explanations.importance_report(
                version,
                window["start"],
                window["end"],
                window["reference_start"],
                window["reference_end"],
                sample=window["sample"],
            )
        )
