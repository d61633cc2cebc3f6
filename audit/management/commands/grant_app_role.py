from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

from audit.models import LEDGER_MODELS


class Command(BaseCommand):
    help = (
        "PostgreSQL: grant the application's database role what it needs and no more. Run as the "
        "owner of the tables (the role that runs migrations) after every migrate. On ledger "
        "tables the role gets SELECT and INSERT only: no UPDATE, DELETE or TRUNCATE."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("role", help="the role the web servers and workers connect as")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Roles and grants exist only on PostgreSQL.")
        role = sql.Identifier(options["role"])
        ledger = {model._meta.db_table for model in LEDGER_MODELS}
        tables = connection.introspection.table_names()
        known = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
            cursor.execute(
                sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role)
            )
            for table in tables:
                name = sql.Identifier(table)
                cursor.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(name, role))
                if table in ledger:
                    privileges = sql.SQL("SELECT, INSERT")
                elif table in known or table == "django_migrations":
                    privileges = sql.SQL("SELECT, INSERT, UPDATE, DELETE")
                else:
                    continue
                cursor.execute(sql.SQL("GRANT {} ON {} TO {}").format(privileges, name, role))
            # The one change allowed on the ledger: a purge past retention drops a payload
            # (the triggers check that it is exactly that, with its purge event).
            cursor.execute(
                sql.SQL("GRANT UPDATE (canonical, purged_by_id) ON audit_ledgerentry TO {}").format(
                    role
                )
            )
        self.stdout.write(
            f"{options['role']}: SELECT, INSERT on {len(ledger)} ledger tables; "
            "read and write on the others."
        )
