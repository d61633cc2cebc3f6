"""Monitoring reports through the API: list, read, download, run now, trends."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.api.permissions import scoped_to_key
from compliance.choices import KeyAction
from compliance.models import AIModel, MonitoringReport
from compliance.reports import run_report, trends
from modelcards.monitoring import filename, render_monitoring_report


class ReportSummarySerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.SlugRelatedField(slug_field="label", read_only=True)
    breaches = serializers.SerializerMethodField()

    class Meta:
        model = MonitoringReport
        fields = [
            "id",
            "model",
            "version",
            "window_start",
            "window_end",
            "passed",
            "breaches",
            "content_sha256",
            "created_at",
            "schedule",
        ]

    def get_breaches(self, report) -> int:
        return len(report.breaches)


class ReportSerializer(ReportSummarySerializer):
    breaches = serializers.JSONField()

    class Meta(ReportSummarySerializer.Meta):
        fields = [
            *ReportSummarySerializer.Meta.fields,
            "checks",
            "thresholds",
            "min_group_size",
            "results",
        ]


class RunReportSerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text="default: 7 days before end")
    end = serializers.DateTimeField(required=False, help_text="default: now")

    def validate(self, attrs):
        end = attrs.get("end") or timezone.now()
        if "start" in attrs and attrs["start"] >= end:
            raise ValidationError(
                {"start": f"The window must start before it ends ({end.isoformat()})."}
            )
        return attrs


@extend_schema(
    parameters=[OpenApiParameter("model", str, description="only the reports of this model")]
)
class ReportListView(generics.ListAPIView):
    """Stored monitoring reports, newest first."""

    key_actions = {"GET": KeyAction.READ_REPORTS}

    serializer_class = ReportSummarySerializer

    def get_queryset(self):
        reports = MonitoringReport.objects.select_related("model", "version")
        slug = self.request.query_params.get("model")
        if slug:
            get_object_or_404(AIModel, slug=slug)
            reports = reports.filter(model__slug=slug)
        return scoped_to_key(reports, self.request, "model__slug")


class ReportDetailView(generics.RetrieveAPIView):
    """One report with every number it computed."""

    key_actions = {"GET": KeyAction.READ_REPORTS}
    key_model_lookup = (MonitoringReport, "pk", "model__slug")

    serializer_class = ReportSerializer
    queryset = MonitoringReport.objects.select_related("model", "version")


class ReportContentView(APIView):
    """The report's content exactly as hashed: the RFC 8785 canonical JSON whose SHA-256 is its
    ``content_sha256`` and is held by its ``report.completed`` ledger event. Hash the body you
    receive: the detail view re-serialises the same numbers, so its bytes are not these."""

    key_actions = {"GET": KeyAction.READ_REPORTS}
    key_model_lookup = (MonitoringReport, "pk", "model__slug")

    required_permissions = {"GET": ["compliance.view_monitoringreport"]}

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        report = get_object_or_404(
            MonitoringReport.objects.select_related("model", "version"), pk=pk
        )
        response = HttpResponse(report.content_bytes(), content_type="application/json")
        response["X-Content-SHA256"] = report.content_sha256
        return response


class ReportPDFView(APIView):
    """The report as a PDF: breaches, selection rate by group with confidence intervals and the
    four-fifths line, PSI by feature, performance over time. The same report always gives the
    same bytes; ``X-Content-SHA256`` is their SHA-256."""

    key_actions = {"GET": KeyAction.READ_REPORTS}
    key_model_lookup = (MonitoringReport, "pk", "model__slug")

    required_permissions = {"GET": ["compliance.view_monitoringreport"]}

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        report = get_object_or_404(
            MonitoringReport.objects.select_related("model", "version"), pk=pk
        )
        pdf = render_monitoring_report(report)
        response = HttpResponse(pdf.content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename(report)}"'
        response["X-Content-SHA256"] = pdf.sha256
        return response


class RunReportView(APIView):
    """Run the model's monitoring report now, over ``start``–``end`` (default: the last 7 days)."""

    key_actions = {"POST": KeyAction.RUN_REPORTS}

    required_permissions = {"POST": ["compliance.add_monitoringreport"]}

    @extend_schema(request=RunReportSerializer, responses={201: ReportSerializer(many=True)})
    def post(self, request, slug: str):
        model = get_object_or_404(AIModel, slug=slug)
        data = RunReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = model.report_schedules.filter(active=True).first()
        reports = run_report(
            model,
            start=data.validated_data.get("start"),
            end=data.validated_data.get("end"),
            schedule=schedule,
            actor=request.user,
        )
        return Response(ReportSerializer(reports, many=True).data, status=status.HTTP_201_CREATED)


class TrendsView(APIView):
    """Each headline metric across the model's reports, oldest first."""

    key_actions = {"GET": KeyAction.READ_REPORTS}

    required_permissions = {"GET": ["compliance.view_monitoringreport"]}

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, slug: str):
        return Response(trends(get_object_or_404(AIModel, slug=slug)))
