import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.models import Checkpoint


class Command(BaseCommand):
    help = (
        "Print (or write) the latest signed checkpoint. Keep it somewhere the log cannot reach: "
        "verify_ledger --checkpoint FILE later proves the log was not rewritten or truncated. "
        "With --note, the same checkpoint as a C2SP signed note, for standard tools."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", type=Path, help="file to write instead of printing")
        parser.add_argument("--note", action="store_true", help="the signed note, not JSON")

    def handle(self, *args, **options) -> None:
        checkpoint = Checkpoint.objects.order_by("-tree_size").first()
        if checkpoint is None:
            raise CommandError("No checkpoint yet: run seal_ledger or run_sequencer first.")
        if options["note"]:
            if checkpoint.note is None:
                raise CommandError("The latest checkpoint was issued before notes were.")
            text = checkpoint.note
        else:
            text = json.dumps(checkpoint.signed(), sort_keys=True) + "\n"
        if options["out"]:
            options["out"].write_text(text, encoding="utf-8")
            self.stdout.write(f"Checkpoint of tree size {checkpoint.tree_size} written.")
        else:
            self.stdout.write(text, ending="")
