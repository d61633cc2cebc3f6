import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.models import Checkpoint


class Command(BaseCommand):
    help = (
        "Print (or write) the latest signed checkpoint. Keep it somewhere the log cannot reach: "
        "verify_ledger --checkpoint FILE later proves the log was not rewritten or truncated."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", type=Path, help="file to write instead of printing")

    def handle(self, *args, **options) -> None:
        checkpoint = Checkpoint.objects.order_by("-tree_size").first()
        if checkpoint is None:
            raise CommandError("No checkpoint yet: run seal_ledger or run_sequencer first.")
        line = json.dumps(checkpoint.signed(), sort_keys=True)
        if options["out"]:
            options["out"].write_text(line + "\n")
            self.stdout.write(f"Checkpoint of tree size {checkpoint.tree_size} written.")
        else:
            self.stdout.write(line)
