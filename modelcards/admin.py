"""Documentation in the admin: the narrative (with its history), the documents issued, and a
page per model with a button for each document, its evidence coverage and the jobs' progress."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from compliance.admin import TeamWrites
from compliance.history_admin import HistoryAdmin
from compliance.models import AIModel, MonitoringReport

from . import jobs
from .documents import model_coverage
from .models import (
    DocumentJob,
    DocumentKind,
    IssuedDocument,
    ModelNarrative,
    readable_documents,
)
from .monitoring import filename, render_monitoring_report


@admin.register(ModelNarrative)
class ModelNarrativeAdmin(TeamWrites, HistoryAdmin):
    team_work = "write its narrative"
    list_display = ["model", "updated_at"]
    search_fields = ["model__name", "model__slug"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(admin.ModelAdmin):
    change_list_template = "admin/modelcards/issueddocument/change_list.html"
    list_display = ["reference", "kind", "model", "version", "as_of", "pages", "issued_by",
                    "issued_at", "download"]  # fmt: skip
    list_filter = ["kind", "model", "as_of"]
    search_fields = ["reference", "sha256", "model__slug"]
    fields = [
        "reference", "kind", "model", "version", "prediction_event_id", "as_of", "sha256",
        "size", "pages", "coverage", "issued_by", "issued_at", "event", "download",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return readable_documents(request.user)

    def has_add_permission(self, request) -> bool:
        return False  # issued by generating them, never typed in

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="file")
    def download(self, obj: IssuedDocument) -> str:
        url = reverse("admin:modelcards_issueddocument_download", args=[obj.pk])
        return format_html('<a class="button" href="{}">Download</a>', url)

    def get_urls(self):
        own = [
            path("generate/", self.admin_site.admin_view(self.generate_view),
                 name="modelcards_generate"),
            path("generate/<slug:slug>/", self.admin_site.admin_view(self.model_view),
                 name="modelcards_generate_model"),
            path("job/<uuid:pk>/", self.admin_site.admin_view(self.job_view),
                 name="modelcards_job"),
            path("monitoring-report/<int:pk>/pdf/",
                 self.admin_site.admin_view(self.monitoring_report_view),
                 name="modelcards_monitoring_report_pdf"),
            path("<path:reference>/download/", self.admin_site.admin_view(self.download_view),
                 name="modelcards_issueddocument_download"),
        ]  # fmt: skip
        return own + super().get_urls()

    def generate_view(self, request):
        if not request.user.has_perm("modelcards.view_issueddocument"):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": "Generate documents",
                   "models": AIModel.objects.order_by("name")}  # fmt: skip
        return render(request, "admin/modelcards/generate.html", context)

    def model_view(self, request, slug):
        model = get_object_or_404(AIModel, slug=slug)
        may_issue = request.user.has_perms(
            ["modelcards.add_issueddocument", "modelcards.add_documentjob"]
        )
        if request.method == "POST":
            if not may_issue:
                raise PermissionDenied
            kind = request.POST.get("kind")
            if kind not in DocumentKind.values or kind == DocumentKind.DOSSIER:
                messages.error(request, "Choose a document.")
                return redirect(request.path)
            try:
                as_of = dt.date.fromisoformat(request.POST.get("as_of") or "")
            except ValueError:
                as_of = timezone.now().date()
            job = DocumentJob.objects.create(
                kind=kind, model=model, as_of=as_of, requested_by=request.user
            )
            jobs.start(job)
            return redirect("admin:modelcards_job", pk=job.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Documents of {model}",
            "model": model,
            "kinds": [(k, DocumentKind(k).label) for k in DocumentKind.values if k != "dossier"],
            "coverage": model_coverage(model),
            "today": timezone.now().date().isoformat(),
            "may_issue": may_issue,
            "issued": readable_documents(request.user).filter(model=model)[:20],
            "jobs": DocumentJob.objects.filter(model=model)[:10],
            "reports": MonitoringReport.objects.filter(model=model).select_related("version")[:20]
            if request.user.has_perm("compliance.view_monitoringreport")
            else None,
        }
        return render(request, "admin/modelcards/model_documents.html", context)

    def job_view(self, request, pk):
        if not request.user.has_perm("modelcards.view_documentjob"):
            raise PermissionDenied  # as the API's document-job endpoint
        job = get_object_or_404(DocumentJob, pk=pk)
        context = {**self.admin_site.each_context(request), "title": str(job), "job": job}
        return render(request, "admin/modelcards/job.html", context)

    def monitoring_report_view(self, request, pk):
        """A monitoring report as a PDF, rendered on request (the same report, the same bytes)."""
        if not request.user.has_perm("compliance.view_monitoringreport"):
            raise PermissionDenied
        report = get_object_or_404(MonitoringReport.objects.select_related("model", "version"),
                                   pk=pk)  # fmt: skip
        pdf = render_monitoring_report(report)
        response = HttpResponse(pdf.content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename(report)}"'
        return response

    def download_view(self, request, reference):
        if not request.user.has_perm("modelcards.view_issueddocument"):
            raise PermissionDenied
        document = get_object_or_404(readable_documents(request.user), reference=reference)
        response = HttpResponse(bytes(document.content), content_type=document.content_type)
        response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
        return response


@admin.register(DocumentJob)
class DocumentJobAdmin(admin.ModelAdmin):
    list_display = ["requested_at", "kind", "model", "as_of", "status", "progress", "stage",
                    "requested_by"]  # fmt: skip
    list_filter = ["status", "kind"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
