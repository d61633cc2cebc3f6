"""The ledger in the admin: read-only for everybody, searchable, with the latest checkpoint
and the last verification result on the list pages."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from compliance.admin import RequiredReasonForm, Step, ViewOnly, WorkflowAdminMixin
from compliance.roles import scope_reads

from .ledger import acknowledge_alert
from .models import (
    Alert,
    Checkpoint,
    ExplanationRecord,
    GovernanceEvent,
    LedgerEntry,
    OutcomeRecord,
    PredictionRecord,
    VerificationRun,
)


class ScopedReads:
    """Rows of one model's predictions: a developer lists and opens only those of their own
    team's models (``compliance.roles.scope_reads``, as the API); others do not exist for them."""

    model_path = "version__model"  # from a row to its AIModel

    def get_queryset(self, request):
        return scope_reads(super().get_queryset(request), request.user, path=self.model_path)


class ReadOnlyAdmin(ViewOnly, admin.ModelAdmin):
    """Nobody adds, changes or deletes ledger rows here, superusers included."""

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "latest_checkpoint": Checkpoint.objects.order_by("-tree_size").first(),
            "last_verification": VerificationRun.objects.order_by("-ran_at").first(),
        }
        return super().changelist_view(request, extra_context)


def pretty(entry: LedgerEntry) -> str:
    """The entry's payload, indented; past retention, which purge dropped it (its hash stays)."""
    payload = entry.payload()
    if payload is None:
        return format_html("purged past retention by ledger entry {}", entry.purged_by_id)
    return format_html("<pre>{}</pre>", json.dumps(payload, indent=2))


@admin.register(PredictionRecord)
class PredictionRecordAdmin(ScopedReads, ReadOnlyAdmin):
    change_list_template = "admin/audit/ledger_change_list.html"
    list_display = [
        "event_id",
        "version",
        "decided_at",
        "environment",
        "score",
        "favourable",
        "schema_violation",
        "unapproved_version",
    ]
    list_filter = [
        "version__model",
        "version",
        "environment",
        "schema_violation",
        "unapproved_version",
        ("decided_at", admin.DateFieldListFilter),
    ]
    search_fields = ["=event_id", "version__model__slug", "version__label"]
    date_hierarchy = "decided_at"
    list_select_related = ["version", "version__model"]
    show_full_result_count = False  # counting millions of rows on every page is slow
    fields = [
        "event_id",
        "version",
        "decided_at",
        "received_at",
        "environment",
        "entry_id",
        "leaf_hash",
        "payload",
    ]
    readonly_fields = fields

    @admin.display(description="leaf hash")
    def leaf_hash(self, obj: PredictionRecord) -> str:
        return obj.entry.leaf_hash_hex

    @admin.display(description="what was logged (canonical bytes)")
    def payload(self, obj: PredictionRecord) -> str:
        return pretty(obj.entry)


@admin.register(ExplanationRecord)
class ExplanationRecordAdmin(ScopedReads, ReadOnlyAdmin):
    change_list_template = "admin/audit/ledger_change_list.html"
    list_display = [
        "prediction",
        "version",
        "decided_at",
        "status",
        "method",
        "output_space",
        "additive",
        "computed_at",
    ]
    list_filter = ["status", "additive", "version__model", "method"]
    list_select_related = ["prediction", "version", "version__model"]
    search_fields = ["=prediction__event_id"]
    date_hierarchy = "decided_at"
    show_full_result_count = False
    fields = [
        "prediction",
        "version",
        "status",
        "note",
        "method",
        "output_space",
        "base_value",
        "model_output",
        "additivity_error",
        "additive",
        "computed_at",
        "entry_id",
        "payload",
    ]
    readonly_fields = fields

    @admin.display(description="the ledger entry (canonical bytes)")
    def payload(self, obj: ExplanationRecord) -> str:
        return pretty(obj.entry)


@admin.register(OutcomeRecord)
class OutcomeRecordAdmin(ScopedReads, ReadOnlyAdmin):
    model_path = "prediction__version__model"
    change_list_template = "admin/audit/ledger_change_list.html"
    list_display = ["outcome_id", "prediction", "label", "observed_at", "corrects"]
    search_fields = ["=outcome_id", "=prediction__event_id"]
    list_filter = [("observed_at", admin.DateFieldListFilter)]
    show_full_result_count = False


@admin.register(GovernanceEvent)
class GovernanceEventAdmin(ReadOnlyAdmin):
    change_list_template = "admin/audit/ledger_change_list.html"
    list_display = ["occurred_at", "event_type", "actor_name", "model", "object_repr", "reason"]
    list_filter = ["event_type", "model", ("occurred_at", admin.DateFieldListFilter)]
    search_fields = ["event_type", "actor_name", "object_repr", "reason", "object_id"]
    date_hierarchy = "occurred_at"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    change_list_template = "admin/audit/ledger_change_list.html"
    list_display = ["id", "kind", "received_at", "leaf_hash_hex"]
    list_filter = ["kind"]
    show_full_result_count = False
    fields = ["kind", "received_at", "leaf_hash_hex", "payload"]
    readonly_fields = fields

    @admin.display(description="canonical bytes")
    def payload(self, obj: LedgerEntry) -> str:
        return pretty(obj)


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["tree_size", "issued_at", "root_hex", "key_id", "log_id"]

    @admin.display(description="root hash")
    def root_hex(self, obj: Checkpoint) -> str:
        return bytes(obj.root_hash).hex()


@admin.register(VerificationRun)
class VerificationRunAdmin(ReadOnlyAdmin):
    list_display = ["ran_at", "ok", "entries", "checkpoints", "summary"]
    list_filter = ["ok"]

    @admin.display(description="result")
    def summary(self, obj: VerificationRun) -> str:
        return obj.message.splitlines()[0] if obj.message else ""


ACKNOWLEDGE = Step(
    "Acknowledge",
    RequiredReasonForm,
    "audit.change_alert",
    lambda alert, user, data: acknowledge_alert(alert, user, data["reason"]),
)


@admin.register(Alert)
class AlertAdmin(WorkflowAdminMixin, ReadOnlyAdmin):
    """Alerts stay open (and on the dashboard) until a risk officer acknowledges them with a
    reason: a button on the alert's page and a bulk action, both a ledger event."""

    steps = {"acknowledge": ACKNOWLEDGE}
    list_display = [
        "kind",
        "model",
        "subject",
        "occurrences",
        "first_seen",
        "last_seen",
        "acknowledged_at",
        "acknowledged_by",
    ]
    list_filter = ["kind", "model", ("acknowledged_at", admin.EmptyFieldListFilter)]
    list_select_related = ["model", "version", "acknowledged_by"]
    search_fields = ["message", "subject"]

    def offered_steps(self, obj) -> list[str]:
        return [] if obj.acknowledged_at else ["acknowledge"]
