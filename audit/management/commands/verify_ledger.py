import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.export import export_ledger
from audit.models import VerificationRun
from audit.verify import verify_directory


class Command(BaseCommand):
    help = (
        "Recompute every leaf hash and Merkle root of the ledger and check them against the "
        "signed checkpoints (and any checkpoints exported earlier). Exits non-zero on failure."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--checkpoint", type=Path, action="append", default=[], help="an earlier export"
        )

    def handle(self, *args, **options) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            _, first_gap = export_ledger(Path(tmp))
            result = verify_directory(Path(tmp), extra_checkpoints=options["checkpoint"])
        message = result.message
        if first_gap is not None:
            message += f"\nleaf {first_gap} is missing from the ledger"
        VerificationRun.objects.create(
            ok=result.ok, entries=result.entries, checkpoints=result.checkpoints, message=message
        )
        if not result.ok:
            raise CommandError(message)
        self.stdout.write(self.style.SUCCESS(message))
