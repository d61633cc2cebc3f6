"""The risk officer's admin: the inventory, versions and API keys.

Auditors hold only ``view_*`` permissions, so Django shows them everything read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from rest_framework_api_key.admin import APIKeyModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import AIModel, ModelVersion, UserAPIKey

admin.site.site_header = "Attest — model risk and audit evidence"
admin.site.site_title = "Attest"
admin.site.index_title = "Governance"


class VersionInline(admin.TabularInline):
    model = ModelVersion
    fields = ["link", "state", "artifact_sha256", "manifest_sha256", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="version")
    def link(self, obj: ModelVersion) -> str:
        url = reverse("admin:compliance_modelversion_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.label)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AIModel)
class AIModelAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "slug",
        "risk_tier",
        "eu_ai_act_category",
        "lifecycle_status",
        "business_owner",
        "updated_at",
    ]
    list_filter = ["risk_tier", "eu_ai_act_category", "lifecycle_status", "domain"]
    search_fields = ["name", "slug", "description", "domain"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["developing_team"]
    inlines = [VersionInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "domain", "lifecycle_status"]}),
        ("Use", {"fields": ["intended_purpose", "intended_users"]}),
        ("Ownership", {"fields": ["business_owner", "developing_team"]}),
        ("Risk", {"fields": ["risk_tier", "eu_ai_act_category", "annex_iii_area"]}),
        (
            "Monitoring",
            {"fields": ["sensitive_attributes", "favourable_label", "favourable_value"]},
        ),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # retired, never deleted: the inventory keeps recently retired models


@admin.register(ModelVersion)
class ModelVersionAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "state", "artifact_sha256", "created_by", "created_at"]
    list_filter = ["state", "model"]
    search_fields = ["label", "model__slug", "model__name", "artifact_sha256", "manifest_sha256"]
    readonly_fields = [
        "state",
        "input_schema_sha256",
        "manifest_sha256",
        "created_by",
        "created_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("model")
            if obj.is_frozen:
                fields += list(ModelVersion.BUNDLE_FIELDS)
        return fields

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UserAPIKey)
class UserAPIKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "user"]
    search_fields = [*APIKeyModelAdmin.search_fields, "user__username"]

    def has_add_permission(self, request) -> bool:
        return False  # created by `manage.py create_api_key`, which shows the key once
