from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ComplianceConfig(AppConfig):
    default = True  # this module also holds the admin's config, below
    name = "compliance"
    verbose_name = "Model governance"

    def ready(self) -> None:
        """Hand the ledger the governance tables whose audited fields it records, so that
        verification replays their events and names any row changed without one."""
        from audit import state
        from audit.projections import StateRule

        from . import models

        for model in (
            models.AIModel,
            models.ModelVersion,
            models.ValidationReview,
            models.Finding,
            models.Condition,
            models.ReportSchedule,
        ):
            state.register_history(model)
        state.register(
            models.LegalHold,
            StateRule(
                table=models.LegalHold._meta.db_table,
                object_type=models.LegalHold._meta.label,
                fields=("released",),
                events={
                    "legal_hold.placed": {"released": False},
                    "legal_hold.released": {"released": True},
                },
            ),
            lambda hold: {"released": hold.released_at is not None},
        )


class AttestAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Attest's site (the dashboard as its front page)."""

    default = False
    default_site = "compliance.site.AttestAdminSite"
