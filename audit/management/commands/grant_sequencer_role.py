from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit.grants import grant, sequencer_privileges


class Command(BaseCommand):
    help = (
        "PostgreSQL: grant the sequencer's database role (run_sequencer connects as it) what it "
        "needs and no more: it reads the ledger and writes only its state, the leaves, the tree, "
        "the checkpoints and the per-day prediction volumes. Run as the tables' owner after "
        "every migrate."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("role", help="the role run_sequencer connects as")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Roles and grants exist only on PostgreSQL.")
        grant(options["role"], sequencer_privileges, purge=False)
        self.stdout.write(
            f"{options['role']}: SELECT on the ledger; writes the sequencer's state, leaves, "
            "tree nodes, checkpoints and prediction volumes; nothing else."
        )
