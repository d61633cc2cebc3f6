from pathlib import Path

from django.core.management.base import BaseCommand

from audit.export import export_ledger


class Command(BaseCommand):
    help = "Export the sequenced ledger for the standalone verifier (python -m audit.verify)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args, **options) -> None:
        count, _ = export_ledger(options["directory"])
        self.stdout.write(f"Exported {count} entries to {options['directory']}")
