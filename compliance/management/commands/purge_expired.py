from django.core.management.base import BaseCommand

from compliance.retention import purge_expired


class Command(BaseCommand):
    help = (
        "Drop the payloads of sealed predictions and outcomes past their model's retention, "
        "except under legal hold; leaf hashes and checkpoints stay, so the ledger still "
        "verifies. Each purge is a ledger event. Run daily (beat and run_scheduler do)."
    )

    def handle(self, *args, **options) -> None:
        result = purge_expired()
        held = (
            f"; kept under legal hold: {', '.join(result.held_models)}"
            if result.held_models
            else ""
        )
        self.stdout.write(
            f"Purged {result.predictions} prediction and {result.outcomes} outcome payloads "
            f"in {result.events} purge events{held}."
        )
