from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit ledger"

    def ready(self) -> None:
        from simple_history.signals import post_create_historical_record

        from . import checks  # noqa: F401 - registers the deployment checks
        from .signals import record_history

        post_create_historical_record.connect(record_history, dispatch_uid="audit.record_history")
