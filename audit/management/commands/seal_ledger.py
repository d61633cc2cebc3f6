from django.core.management.base import BaseCommand

from audit.sequencer import seal_all


class Command(BaseCommand):
    help = "Sequence every pending ledger entry once and sign a checkpoint (cron-friendly)."

    def handle(self, *args, **options) -> None:
        count = seal_all()
        self.stdout.write(f"Sealed {count} entries.")
