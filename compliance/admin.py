"""The risk officer's admin: the inventory, versions and API keys; the validators' queue.

Auditors hold only ``view_*`` permissions, so Django shows them everything read-only.

The workflow (submit, validate, approve, deploy …) is never a form field: each step is an
action with a small form for its reason, on the version's page and as a bulk action; both call
``compliance.workflow`` and report refusals (segregation of duties, four-eyes …) as messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from compliance.history_admin import HistoryAdmin

from . import keys, workflow
from .choices import APPROVED_STATES, DeploymentRole, Environment, FindingStatus, KeyAction
from .models import (
    AIModel,
    Condition,
    Deployment,
    Finding,
    LegalHold,
    ModelVersion,
    UserAPIKey,
    ValidationQueue,
    ValidationReview,
    WorkflowError,
)
from .roles import outside_team

# ---------------------------------------------------------------------------- workflow forms


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RequiredReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class DeployForm(forms.Form):
    environment = forms.ChoiceField(choices=Environment.choices, initial=Environment.PRODUCTION)
    role = forms.ChoiceField(
        choices=[("", "champion in production, challenger elsewhere"), *DeploymentRole.choices],
        required=False,
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class ReviewForm(forms.ModelForm):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = ValidationReview
        fields = workflow.REVIEW_FIELDS

    # An empty JSON box is "none yet" ({}), as over the API, not a null the model refuses.
    def clean_references(self) -> dict:
        return self.cleaned_data["references"] or {}

    def clean_benchmark(self) -> dict:
        return self.cleaned_data["benchmark"] or {}


class FindingForm(forms.ModelForm):
    owner = forms.ModelChoiceField(get_user_model().objects.filter(is_active=True))
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = Finding
        fields = ["title", "description", "severity", "owner", "due_date"]


class ConditionForm(forms.ModelForm):
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = Condition
        fields = ["description", "due_date"]


class ResolutionForm(forms.Form):
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How it was remediated, or the justification for accepting the risk.",
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="The evidence that it is met."
    )


class RollbackForm(forms.Form):
    environment = forms.ChoiceField(choices=Environment.choices, initial=Environment.PRODUCTION)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


# ---------------------------------------------------------------------------- workflow actions


@dataclass(frozen=True)
class Step:
    """One workflow action as the admin offers it: its form, who may, and what it calls."""

    label: str
    form: type[forms.BaseForm]
    permission: str
    run: Callable[[Any, Any, dict[str, Any]], Any]
    bulk: bool = True  # offered as a bulk action on the changelist too

    def initial(self, obj, user) -> dict[str, Any]:
        if self.form is ReviewForm:
            mine = obj.reviews.filter(validator=user, cycle=obj.validation_cycle).first()
            if mine is not None:
                return {name: getattr(mine, name) for name in workflow.REVIEW_FIELDS}
        return {}


def _review(version, user, data):
    reason = data.pop("reason", "")
    return workflow.record_review(version, user, reason, **data)


VALIDATE = "compliance.validate_modelversion"
DEPLOY = "compliance.deploy_modelversion"

# Named as ``ModelVersion.ACTIONS`` names them, so a version's page offers what its state allows.
VERSION_STEPS = {
    "submit": Step(
        "Submit for validation",
        ReasonForm,
        "compliance.submit_modelversion",
        lambda v, u, d: workflow.submit_version(v, u, d["reason"]),
    ),
    "start-validation": Step(
        "Start validation",
        ReasonForm,
        VALIDATE,
        lambda v, u, d: workflow.start_validation(v, u, d["reason"]),
    ),
    "review": Step(
        "Record your review", ReviewForm, "compliance.add_validationreview", _review, bulk=False
    ),
    "record-finding": Step(
        "Record a finding",
        FindingForm,
        "compliance.add_finding",
        lambda v, u, d: workflow.record_finding(v, u, **d),
        bulk=False,
    ),
    "add-condition": Step(
        "Add a condition of approval",
        ConditionForm,
        "compliance.add_condition",
        lambda v, u, d: workflow.add_condition(v, u, **d),
        bulk=False,
    ),
    "approve": Step(
        "Approve", ReasonForm, VALIDATE, lambda v, u, d: workflow.approve_version(v, u, d["reason"])
    ),
    "reject": Step(
        "Reject",
        RequiredReasonForm,
        VALIDATE,
        lambda v, u, d: workflow.reject_version(v, u, d["reason"]),
    ),
    "deploy": Step(
        "Deploy",
        DeployForm,
        DEPLOY,
        lambda v, u, d: workflow.deploy_version(v, u, **{**d, "role": d["role"] or None}),
    ),
    "retire": Step(
        "Retire",
        RequiredReasonForm,
        DEPLOY,
        lambda v, u, d: workflow.retire_version(v, u, d["reason"]),
    ),
}
FINDING_STEPS = {
    "remediated": Step(
        "Confirm remediated",
        ResolutionForm,
        "compliance.change_finding",
        lambda f, u, d: workflow.resolve_finding(f, u, status=FindingStatus.REMEDIATED, **d),
    ),
    "accept-risk": Step(
        "Accept the risk",
        ResolutionForm,
        "compliance.accept_risk_finding",
        lambda f, u, d: workflow.resolve_finding(f, u, status=FindingStatus.RISK_ACCEPTED, **d),
    ),
}
CONDITION_STEPS = {
    "met": Step(
        "Confirm met",
        NoteForm,
        "compliance.change_condition",
        lambda c, u, d: workflow.meet_condition(c, u, **d),
    ),
}
MODEL_STEPS = {
    "rollback": Step(
        "Roll back to the previous champion",
        RollbackForm,
        DEPLOY,
        lambda m, u, d: workflow.rollback(m, d["environment"], u, d["reason"]),
    ),
    "stop": Step(
        "Stop the model (human oversight)",
        RequiredReasonForm,
        "compliance.record_oversight",
        lambda m, u, d: workflow.record_oversight(u, "stop", model=m, reason=d["reason"]),
    ),
}


class ViewOnly:
    """An admin whose rows are listed and read, never added, changed or deleted here (they
    change through workflow steps or commands, each a ledger event), superusers included."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TeamWrites:
    """For records of one model (``obj.model``): a developer not on that model's team reads
    them but changes none and adds none, the API's rule (``roles.outside_team``) asked here too.
    """

    team_work = "write its records"  # what the refusal says they may not do

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or not outside_team(request.user, obj.model))

    def save_model(self, request, obj, form, change) -> None:
        if outside_team(request.user, obj.model):
            raise PermissionDenied(
                f"Only members of the developing team of {obj.model.slug} may {self.team_work}."
            )
        super().save_model(request, obj, form, change)


class WorkflowAdminMixin:
    """Offers ``steps`` as bulk actions with an intermediate form and as per-object pages
    (``<pk>/act/<step>/``); only to people whose role holds the step's permission."""

    steps: dict[str, Step] = {}

    def get_actions(self, request):
        actions = super().get_actions(request)
        for name, step in self.steps.items():
            if step.bulk and request.user.has_perm(step.permission):
                func = self._bulk_action(name, step)
                actions[func.__name__] = (func, func.__name__, step.label)
        return actions

    def _bulk_action(self, name: str, step: Step):
        def action(modeladmin, request, queryset):
            form = step.form(request.POST if "apply" in request.POST else None)
            if form.is_bound and form.is_valid():
                modeladmin.run_step(request, step, list(queryset), form.cleaned_data)
                return None
            return modeladmin.render_step(request, step, list(queryset), form, bulk=action)

        action.__name__ = name.replace("-", "_")
        return action

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_act"
        return [
            path("<int:pk>/act/<str:step>/", self.admin_site.admin_view(self.step_view), name=name),
            *super().get_urls(),
        ]

    def step_view(self, request, pk: int, step: str):
        spec = self.steps.get(step)
        if spec is None:
            raise Http404(f"No step {step!r} here.")
        if not request.user.has_perm(spec.permission):
            raise PermissionDenied
        obj = get_object_or_404(self.model, pk=pk)
        if request.method == "POST":
            form = spec.form(request.POST)
            if form.is_valid() and self.run_step(request, spec, [obj], form.cleaned_data):
                return redirect(self.change_url(obj))
        else:
            form = spec.form(initial=spec.initial(obj, request.user))
        return self.render_step(request, spec, [obj], form)

    def run_step(self, request, step: Step, objects: list, data: dict[str, Any]) -> bool:
        """Run the step on each object; report each success and refusal. True if all ran."""
        done = 0
        for obj in objects:
            try:
                step.run(obj, request.user, dict(data))
            except WorkflowError as refused:
                self.message_user(
                    request, f"{step.label} refused for {obj}: {refused}", messages.ERROR
                )
            except ValidationError as invalid:
                problem = " ".join(invalid.messages)
                self.message_user(
                    request, f"{step.label} refused for {obj}: {problem}", messages.ERROR
                )
            else:
                done += 1
                self.message_user(request, f"{step.label}: {obj}.", messages.SUCCESS)
        return done == len(objects)

    def render_step(self, request, step: Step, objects: list, form, bulk=None):
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": step.label,
            "opts": opts,
            "form": form,
            "objects": objects,
            "bulk": bulk is not None,
            "action": bulk.__name__ if bulk is not None else "",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "back": self.change_url(objects[0])
            if bulk is None
            else reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        }
        return TemplateResponse(request, "admin/compliance/workflow_action.html", context)

    def change_url(self, obj) -> str:
        opts = obj._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])

    def offered_steps(self, obj) -> list[str]:
        return list(self.steps)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            opts = obj._meta
            links = [
                (
                    reverse(f"admin:{opts.app_label}_{opts.model_name}_act", args=[obj.pk, name]),
                    self.steps[name].label,
                )
                for name in self.offered_steps(obj)
                if request.user.has_perm(self.steps[name].permission)
            ]
            buttons = format_html_join("", '<li><a href="{}">{}</a></li>', links)
            extra_context = {**(extra_context or {}), "workflow_buttons": buttons}
        return super().change_view(request, object_id, form_url, extra_context)


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
class AIModelAdmin(WorkflowAdminMixin, HistoryAdmin):
    steps = MODEL_STEPS
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
        ("Ownership", {"fields": ["business_owner", "developing_team", "monthly_cost"]}),
        ("Risk", {"fields": ["risk_tier", "eu_ai_act_category", "annex_iii_area"]}),
        (
            "Monitoring",
            {"fields": ["sensitive_attributes", "favourable_label", "favourable_value"]},
        ),
        ("Retention", {"fields": ["retention_months"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # retired, never deleted: the inventory keeps recently retired models


class RevalidationFilter(admin.SimpleListFilter):
    """For the risk officer: approvals overdue for revalidation, or due soon."""

    title = "revalidation"
    parameter_name = "revalidation"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("due", "Due within 90 days"), ("current", "Current")]

    def queryset(self, request, queryset):
        now = timezone.now()
        soon = now + dt.timedelta(days=90)
        approved = queryset.filter(state__in=APPROVED_STATES)
        if self.value() == "overdue":
            return queryset.approval_expired(now)
        if self.value() == "due":
            return approved.filter(approval_expires_at__gt=now, approval_expires_at__lte=soon)
        if self.value() == "current":
            return approved.filter(approval_expires_at__gt=now)
        return queryset


class ReviewInline(admin.TabularInline):
    model = ValidationReview
    fields = [
        "validator",
        "cycle",
        "conceptual_soundness_conclusion",
        "ongoing_monitoring_conclusion",
        "outcomes_analysis_conclusion",
        "decision",
        "decided_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class FindingInline(ReviewInline):
    model = Finding
    fields = ["title", "severity", "owner", "due_date", "status", "resolved_by", "resolution"]
    readonly_fields = fields
    show_change_link = True


class ConditionInline(ReviewInline):
    model = Condition
    fields = ["description", "due_date", "status", "met_by", "note"]
    readonly_fields = fields
    show_change_link = True


class DeploymentInline(ReviewInline):
    model = Deployment
    fk_name = "version"
    fields = [
        "environment",
        "role",
        "deployed_by",
        "deployed_at",
        "reason",
        "ended_at",
        "end_reason",
    ]
    readonly_fields = fields


@admin.register(ModelVersion)
class ModelVersionAdmin(TeamWrites, WorkflowAdminMixin, HistoryAdmin):
    steps = VERSION_STEPS
    team_work = "register or edit its versions"
    list_display = [
        "__str__",
        "state",
        "approval",
        "artifact_sha256",
        "created_by",
        "created_at",
    ]
    list_filter = ["state", RevalidationFilter, "model"]
    search_fields = ["label", "model__slug", "model__name", "artifact_sha256", "manifest_sha256"]
    list_select_related = ["model", "created_by"]
    readonly_fields = [
        "state",
        "input_schema_sha256",
        "manifest_sha256",
        "created_by",
        "created_at",
        "submitted_by",
        "submitted_at",
        "approval",
        "approved_at",
        "approval_expires_at",
        "revalidation_overdue_since",
        "timeline",
    ]
    inlines = [ReviewInline, FindingInline, ConditionInline, DeploymentInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("model")
            if obj.is_frozen:
                fields += list(ModelVersion.BUNDLE_FIELDS)
        return fields

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["model", *ModelVersion.BUNDLE_FIELDS]})]
        bundle = [f for f in ModelVersion.BUNDLE_FIELDS if f != "label"]
        return [
            (None, {"fields": ["model", "label", "state", "approval"]}),
            (
                "Workflow",
                {
                    "fields": [
                        "submitted_by",
                        "submitted_at",
                        "approved_at",
                        "approval_expires_at",
                        "revalidation_overdue_since",
                    ]
                },
            ),
            (
                "Bundle",
                {
                    "fields": [
                        *bundle,
                        "input_schema_sha256",
                        "manifest_sha256",
                        "created_by",
                        "created_at",
                    ]
                },
            ),
            ("Timeline", {"fields": ["timeline"]}),
        ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def offered_steps(self, obj) -> list[str]:
        return obj.allowed_actions()

    @admin.display(description="approval")
    def approval(self, obj: ModelVersion) -> str:
        if obj.is_approved:
            if obj.revalidation_overdue_since or not obj.approval_is_current():
                return format_html(
                    '<strong style="color: #cf222e">revalidation overdue</strong> since {}',
                    f"{obj.approval_expires_at:%Y-%m-%d}",
                )
            return f"until {obj.approval_expires_at:%Y-%m-%d}"
        if obj.state in ModelVersion.ACTIONS["approve"]:
            return f"{obj.current_approvals().count()} of {obj.model.approvals_required}"
        return "—"

    @admin.display(description="timeline")
    def timeline(self, obj: ModelVersion) -> str:
        if obj.pk is None:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{e.occurred_at:%Y-%m-%d %H:%M:%S}",
                    e.event_type,
                    e.actor_name,
                    e.object_repr,
                    e.reason,
                )
                for e in obj.timeline()
            ),
        )
        return format_html(
            "<table><thead><tr><th>when (UTC)</th><th>what</th><th>who</th><th>on</th>"
            "<th>why</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ValidationQueue)
class ValidationQueueAdmin(ViewOnly, WorkflowAdminMixin, admin.ModelAdmin):
    """A validator's queue: versions waiting for them, never their own. Opening one leads to
    the version's page; the validation steps are bulk actions here too."""

    steps = {n: VERSION_STEPS[n] for n in ("start-validation", "approve", "reject")}
    list_display = ["version", "state", "approval", "submitted_by", "submitted_at"]
    list_display_links = None
    list_select_related = ["model", "submitted_by"]
    ordering = ["submitted_at"]

    def get_queryset(self, request):
        return ValidationQueue.objects.awaiting(request.user).select_related("model")

    @admin.display(description="version")
    def version(self, obj: ValidationQueue) -> str:
        url = reverse("admin:compliance_modelversion_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj)

    approval = ModelVersionAdmin.approval


class OverdueFilter(admin.SimpleListFilter):
    """Open and past their due date: what the risk officer chases."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue()
        return queryset


class WorkflowRecordAdmin(ViewOnly, WorkflowAdminMixin, HistoryAdmin):
    """Read-only records of the workflow: they change only through its steps."""


@admin.register(Finding)
class FindingAdmin(WorkflowRecordAdmin):
    steps = FINDING_STEPS
    list_display = ["title", "version", "severity", "status", "owner", "due_date", "overdue"]
    list_filter = [OverdueFilter, "status", "severity", "version__model"]
    search_fields = ["title", "description", "version__label", "version__model__slug"]
    list_select_related = ["version__model", "owner"]
    date_hierarchy = "due_date"

    @admin.display(boolean=True)
    def overdue(self, obj: Finding) -> bool:
        return obj.is_overdue

    def offered_steps(self, obj) -> list[str]:
        return list(self.steps) if obj.is_open else []


@admin.register(Condition)
class ConditionAdmin(WorkflowRecordAdmin):
    steps = CONDITION_STEPS
    list_display = ["__str__", "version", "status", "due_date", "overdue", "met_by"]
    list_filter = [OverdueFilter, "status", "version__model"]
    search_fields = ["description", "version__label", "version__model__slug"]
    list_select_related = ["version__model", "met_by"]

    @admin.display(boolean=True)
    def overdue(self, obj: Condition) -> bool:
        return obj.is_overdue

    def offered_steps(self, obj) -> list[str]:
        return list(self.steps) if obj.status == "open" else []


@admin.register(ValidationReview)
class ValidationReviewAdmin(WorkflowRecordAdmin):
    list_display = ["version", "validator", "cycle", "decision", "decided_at"]
    list_filter = ["decision", "version__model"]
    list_select_related = ["version__model", "validator"]


@admin.register(Deployment)
class DeploymentAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ["version", "environment", "role", "active", "deployed_by", "deployed_at"]
    list_filter = ["environment", "role", ("ended_at", admin.EmptyFieldListFilter), "model"]
    list_select_related = ["version__model", "deployed_by"]

    @admin.display(boolean=True)
    def active(self, obj: Deployment) -> bool:
        return obj.is_active


@admin.register(LegalHold)
class LegalHoldAdmin(ViewOnly, admin.ModelAdmin):
    """Read-only: holds are placed and released with ``manage.py legal_hold``, each a ledger
    event; here risk officers and auditors see which are active."""

    list_display = ["__str__", "reason", "placed_by", "placed_at", "released_at"]
    list_filter = [("released_at", admin.EmptyFieldListFilter), "model"]
    list_select_related = ["model", "subject", "placed_by"]


class IssueKeyForm(forms.ModelForm):
    """What an issued key is for: its user, models (or all, deliberately) and actions."""

    actions = forms.MultipleChoiceField(
        choices=KeyAction.choices, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="In the ledger.")

    class Meta:
        model = UserAPIKey
        fields = ["user", "name", "ai_models", "all_models", "actions", "expiry_date"]

    def clean(self):
        data = super().clean()
        if "actions" in data and "ai_models" in data:
            keys.check_scope(data["actions"], list(data["ai_models"]), data.get("all_models"))
        return data


@admin.register(UserAPIKey)
class UserAPIKeyAdmin(admin.ModelAdmin):
    """Keys are issued here (the secret shown once) and revoked with an action; both go through
    ``compliance.keys`` and are ledger events. A key never changes otherwise."""

    form = IssueKeyForm
    list_display = ["prefix", "name", "user", "scope", "created", "expiry_date", "revoked"]
    list_filter = ["revoked", "all_models", "ai_models"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    actions = ["revoke"]
    readonly_fields = ["prefix", "scope", "created", "revoked"]

    @admin.display(description="scope")
    def scope(self, obj: UserAPIKey) -> str:
        return obj.scope_text()

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*IssueKeyForm.Meta.fields, "reason"]
        return ["prefix", "name", "user", "scope", "created", "expiry_date", "revoked"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else []

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a key's scope never changes: revoke it and issue another

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a revoked key stays, as its ledger events name it

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("compliance.change_userapikey")

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        key, secret = keys.issue_key(
            user=data["user"],
            name=data["name"],
            models=data["ai_models"],
            all_models=data["all_models"],
            actions=data["actions"],
            expiry_date=data["expiry_date"],
            actor=request.user,
            reason=data["reason"],
        )
        obj.pk = key.pk
        messages.warning(
            request,
            f"The API key of {key.user.get_username()} is {secret} — copy it now: it is "
            "stored only as a hash and will not be shown again.",
        )

    def save_related(self, request, form, formsets, change) -> None:
        pass  # issue_key has set the models

    @admin.action(description="Revoke the selected API keys", permissions=["revoke"])
    def revoke(self, request, queryset) -> None:
        revoked = [
            keys.revoke_key(key, actor=request.user, reason="Revoked in the admin.")
            for key in queryset.filter(revoked=False)
        ]
        messages.success(request, f"Revoked {len(revoked)} API key(s).")


# The monitoring reports' and the model artifacts' admins register themselves on import.
from . import artifact_admin, monitoring_admin, user_admin  # noqa: E402, F401
