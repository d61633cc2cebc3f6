"""Monitoring in the admin: schedules the risk officer edits (with history), reports nobody
can change, a "run now" action, and each model's trends across runs."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from compliance.history_admin import HistoryAdmin

from .admin import ViewOnly  # compliance.admin imports this module once ViewOnly exists
from .models import AIModel, MonitoringReport, ReportSchedule
from .reports import run_report, trends


@admin.register(ReportSchedule)
class ReportScheduleAdmin(HistoryAdmin):
    list_display = ["__str__", "model", "checks", "window_days", "cadence_hours", "next_run_at",
                    "active"]  # fmt: skip
    list_filter = ["active", "model"]
    search_fields = ["name", "model__slug", "model__name"]
    readonly_fields = ["next_run_at", "created_at"]
    actions = ["run_now"]

    @admin.action(description="Run the selected schedules' reports now")
    def run_now(self, request, queryset) -> None:
        if not request.user.has_perm("compliance.add_monitoringreport"):
            raise PermissionDenied
        for schedule in queryset.select_related("model"):
            try:
                reports = run_report(schedule.model, schedule=schedule, actor=request.user)
            except ValueError as exc:
                self.message_user(request, f"{schedule}: {exc}", messages.ERROR)
                continue
            if not reports:
                self.message_user(request, f"{schedule}: no predictions in the window.",
                                  messages.WARNING)  # fmt: skip
            for report in reports:
                level = messages.SUCCESS if report.passed else messages.WARNING
                self.message_user(request, f"{schedule}: {report}", level)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: reports keep pointing at their schedule


@admin.register(MonitoringReport)
class MonitoringReportAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ["__str__", "model", "version", "window_end", "verdict", "created_at"]
    list_filter = ["passed", "model", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["model__slug", "version__label", "content_sha256"]
    date_hierarchy = "created_at"
    fields = ["model", "version", "schedule", "window_start", "window_end", "checks",
              "thresholds", "min_group_size", "breach_list", "counts", "content_sha256",
              "requested_by", "created_at", "trends_link", "results_json"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="result", boolean=False)
    def verdict(self, report: MonitoringReport) -> str:
        if report.passed:
            return format_html('<span style="color:#1a7f37">passed</span>')
        return format_html('<strong style="color:#cf222e">{} breaches</strong>',
                           len(report.breaches))  # fmt: skip

    @admin.display(description="breaches")
    def breach_list(self, report: MonitoringReport) -> str:
        if not report.breaches:
            return "none"
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li>{}</li>", ((b["message"],) for b in report.breaches)))  # fmt: skip

    @admin.display(description="counts")
    def counts(self, report: MonitoringReport) -> str:
        counts = report.results.get("counts", {})
        return ", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in counts.items())

    @admin.display(description="trends")
    def trends_link(self, report: MonitoringReport) -> str:
        url = reverse("admin:compliance_monitoringreport_trends", args=[report.model.slug])
        return format_html('<a href="{}">Trends of {} across its reports</a>', url,
                           report.model.name)  # fmt: skip

    @admin.display(description="every number")
    def results_json(self, report: MonitoringReport) -> str:
        return format_html("<pre style='max-height:40em;overflow:auto'>{}</pre>",
                           json.dumps(report.results, indent=2))  # fmt: skip

    def get_urls(self):
        view = self.admin_site.admin_view(self.trends_view)
        return [
            path("trends/<slug:slug>/", view, name="compliance_monitoringreport_trends"),
            *super().get_urls(),
        ]

    def trends_view(self, request, slug: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        model = get_object_or_404(AIModel, slug=slug)
        series = trends(model)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Monitoring trends of {model.name}",
            "model": model,
            "series": [(name.replace("_", " "), points) for name, points in series.items()],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/compliance/monitoring_trends.html", context)
