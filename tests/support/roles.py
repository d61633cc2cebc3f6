"""PostgreSQL roles as production runs them: the application's and the sequencer's.

``as_role(APP)`` switches the test's connection to the application's role (``SET ROLE``) after
granting it what ``grant_app_role`` grants; ``as_role(SEQUENCER)`` the same for the sequencer's
role and ``grant_sequencer_role``. SQLite has no roles: callers skip there.
"""

from __future__ import annotations

import contextlib
from io import StringIO

from django.core.management import call_command
from django.db import connection

APP = "attest_app_test"
SEQUENCER = "attest_sequencer_test"
GRANTS = {APP: "grant_app_role", SEQUENCER: "grant_sequencer_role"}


def create_roles() -> None:
    with connection.cursor() as cursor:
        for role in GRANTS:
            cursor.execute(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
                f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
            )
    for role, command in GRANTS.items():
        call_command(command, role, stdout=StringIO())


@contextlib.contextmanager
def as_role(role: str):
    """Run the block as ``role`` (the role before it again afterwards)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        previous = cursor.fetchone()[0]
        cursor.execute(f"SET ROLE {role}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{previous}"')
