"""Recount the dashboard's per-day prediction volumes from the ledger."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from compliance.models import PredictionVolume


class Command(BaseCommand):
    help = (
        "Recount predictions per version, day and environment from every sealed prediction in "
        "the ledger. The sequencer keeps the counts as it seals; run this only to rebuild them "
        "(e.g. after restoring a backup)."
    )

    def handle(self, *args, **options) -> None:
        rows = PredictionVolume.rebuild()
        self.stdout.write(f"{rows} version-day counts rebuilt from the sealed predictions.")
