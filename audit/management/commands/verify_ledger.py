import datetime as dt
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.export import export_ledger
from audit.models import VerificationRun
from audit.sequencer import starved
from audit.verify import verify_directory


class Command(BaseCommand):
    help = (
        "Recompute every leaf hash and Merkle root of the ledger and check them against the "
        "signed checkpoints (and any checkpoints exported earlier); rebuild every projection "
        "that reports read from the entries and compare. Exits non-zero on failure."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--checkpoint", type=Path, action="append", default=[], help="an earlier export"
        )
        parser.add_argument(
            "--no-projections",
            action="store_true",
            help="skip the projections pass (rows of reports, documents and the workflow)",
        )

    def handle(self, *args, **options) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            projections = not options["no_projections"]
            _, first_gap = export_ledger(Path(tmp), projections=projections)
            result = verify_directory(
                Path(tmp),
                extra_checkpoints=options["checkpoint"],
                projections=projections,
                progress=lambda line: self.stderr.write(line),
            )
        message, ok = result.message, result.ok
        if first_gap is not None:
            message += f"\nleaf {first_gap} is missing from the ledger"
        bound = settings.LEDGER_SEAL_BOUND_SECONDS
        count, ids = starved(timezone.now() - dt.timedelta(seconds=bound))
        if count:
            ok = False
            listed = ", ".join(f"entry {pk}" for pk in ids) + (" …" if count > len(ids) else "")
            message = (
                f"{count} committed entries older than {bound} s are in no signed checkpoint "
                f"({listed}): the sequencer is stopped, or is being starved\n{message}"
            )
        VerificationRun.objects.create(
            ok=ok, entries=result.entries, checkpoints=result.checkpoints, message=message
        )
        if not ok:
            raise CommandError(message)
        self.stdout.write(self.style.SUCCESS(message))
