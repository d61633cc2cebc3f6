"""Issue the evidence pack of a model as of a date and write the zip."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compliance.models import AIModel
from modelcards.evidence import EvidenceError
from modelcards.management.commands.generate_document import issuer, parse_day
from modelcards.pack import issue_pack


class Command(BaseCommand):
    help = (
        "Write a model's evidence pack: its documents, governance events, checkpoint, inclusion "
        "proofs, the ledger export, a SHA-256 manifest and how to verify them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True, metavar="SLUG")
        parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="default: today (UTC)")
        parser.add_argument("--user", metavar="USERNAME", help="who issues it (default: system)")
        parser.add_argument(
            "--without-ledger",
            action="store_true",
            help="leave out the ledger export (only the inclusion proofs of the model's events)",
        )
        parser.add_argument("--out", required=True, metavar="FILE.zip")

    def handle(self, *args, **options) -> None:
        model = AIModel.objects.filter(slug=options["model"]).first()
        if model is None:
            raise CommandError(f"No model {options['model']!r} in the inventory.")
        try:
            pack = issue_pack(
                model,
                as_of=parse_day(options["as_of"]),
                user=issuer(options["user"]),
                include_ledger=not options["without_ledger"],
            )
        except EvidenceError as exc:
            raise CommandError(str(exc)) from exc
        Path(options["out"]).write_bytes(bytes(pack.content))
        self.stdout.write(
            f"Evidence pack {pack.reference}\n  {pack.size:,} bytes, SHA-256 {pack.sha256}\n"
            f"  ledger event {pack.event.entry_id}\n  written to {options['out']}"
        )
