from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit.grants import app_privileges, grant


class Command(BaseCommand):
    help = (
        "PostgreSQL: grant the application's database role what it needs and no more. Run as the "
        "owner of the tables (the role that runs migrations) after every migrate. On ledger "
        "tables the role gets SELECT and INSERT only, SELECT only on what the sequencer writes; "
        "a payload past retention is dropped only through the attest_purge function."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("role", help="the role the web servers and workers connect as")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Roles and grants exist only on PostgreSQL.")
        grant(options["role"], app_privileges, purge=True)
        self.stdout.write(
            f"{options['role']}: SELECT, INSERT on the ledger; SELECT on the sequencer's tables; "
            "EXECUTE on attest_purge; read and write on the others."
        )
