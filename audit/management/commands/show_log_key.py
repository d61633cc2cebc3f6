from django.conf import settings
from django.core.management.base import BaseCommand

from audit import signing


class Command(BaseCommand):
    help = (
        "Print the log's public key: its origin, key id, the verifier key that signed-note "
        "tools (golang.org/x/mod/sumdb/note, witnesses) take, and the PEM the standalone "
        "verifier takes. Hand it to auditors by a channel the log does not control."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--verifier-key", action="store_true", help="print the verifier key alone"
        )

    def handle(self, *args, **options) -> None:
        if options["verifier_key"]:
            self.stdout.write(signing.verifier_key())
            return
        self.stdout.write(f"origin        {settings.LEDGER_LOG_ORIGIN}")
        self.stdout.write(f"key id        {signing.key_id()}  (SHA-256 of the raw public key)")
        self.stdout.write(f"verifier key  {signing.verifier_key()}")
        self.stdout.write(signing.public_key_pem().decode(), ending="")
