"""Flag versions whose approval has expired: run it daily from cron or Celery beat."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from compliance.models import ModelVersion
from compliance.workflow import check_revalidation


class Command(BaseCommand):
    help = (
        "Flag approved versions whose approval has expired as revalidation overdue, once each: "
        "a ledger event and an alert. Safe to run as often as you like; prints only what it "
        "flagged (-v 2: also how many are overdue in all)."
    )

    def handle(self, *args, **options) -> None:
        for version in check_revalidation():
            self.stdout.write(
                f"Revalidation overdue: {version} (approval expired "
                f"{version.approval_expires_at:%Y-%m-%d})"
            )
        if options["verbosity"] > 1:
            overdue = ModelVersion.objects.revalidation_overdue().count()
            self.stdout.write(f"{overdue} version(s) overdue for revalidation in all.")
