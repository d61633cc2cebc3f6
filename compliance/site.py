"""The admin site: the risk officer's dashboard as its front page, and each model's page.

``AttestAdminConfig`` (in ``INSTALLED_APPS`` instead of ``django.contrib.admin``) makes this
the default site, so every ``@admin.register`` lands here.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from . import readiness
from .dashboard import changelist, dashboard

# Who reads the whole picture: risk officers and auditors (and superusers).
DASHBOARD_PERMISSIONS = ["compliance.view_aimodel", "audit.view_ledgerentry"]
TIMELINE_LENGTH = 100


class AttestAdminSite(admin.AdminSite):
    site_header = "Attest — model risk and audit evidence"
    site_title = "Attest"
    index_title = "Governance"
    index_template = "admin/attest/index.html"

    def index(self, request, extra_context=None):
        if request.user.has_perms(DASHBOARD_PERMISSIONS):
            extra_context = {**(extra_context or {}), "dashboard": dashboard()}
        return super().index(request, extra_context)

    def get_urls(self):
        overview = self.admin_view(self.model_overview)
        return [
            path(
                "compliance/aimodel/<int:pk>/overview/",
                overview,
                name="compliance_aimodel_overview",
            ),  # fmt: skip
            *super().get_urls(),
        ]

    def model_overview(self, request, pk: int):
        """One model's page: the readiness scorecard, evidence coverage and its timeline."""
        from audit.models import GovernanceEvent
        from modelcards.documents import model_coverage

        from .models import AIModel

        if not request.user.has_perm("compliance.view_aimodel"):
            raise PermissionDenied
        model = get_object_or_404(AIModel.objects.select_related("business_owner"), pk=pk)
        events = GovernanceEvent.objects.filter(model=model).order_by("-occurred_at", "-pk")
        answers = readiness.scorecard(readiness.facts(model))
        context = {
            **self.each_context(request),
            "title": model.name,
            "model": model,
            "answers": answers,
            "ready": sum(a.yes for a in answers),
            "coverage": model_coverage(model),
            "timeline": events[:TIMELINE_LENGTH],
            "timeline_url": changelist(GovernanceEvent, model__id__exact=model.pk),
            "documents_url": reverse("admin:modelcards_generate_model", args=[model.slug]),
            "change_url": reverse("admin:compliance_aimodel_change", args=[model.pk]),
            "opts": model._meta,
        }
        return TemplateResponse(request, "admin/compliance/aimodel/overview.html", context)
