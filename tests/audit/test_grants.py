"""On PostgreSQL the application's role cannot change the ledger, even without triggers."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.ingest import ingest_predictions
from audit.ledger import record_event
from audit.models import LedgerEntry
from audit.sequencer import seal_all
from compliance.retention import purge_expired
from tests.audit.conftest import prediction

pytestmark = pytest.mark.postgres

ROLE = "attest_app_test"


@pytest.fixture
def as_app_role(db):
    if connection.vendor != "postgresql":
        pytest.skip("roles and grants exist only on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') "
            f"THEN CREATE ROLE {ROLE} NOLOGIN; END IF; END $$"
        )
    call_command("grant_app_role", ROLE, stdout=StringIO())
    record_event("test.before", reason="written by the owner")
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {ROLE}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def test_the_app_role_can_append_and_read(as_app_role):
    record_event("test.event", reason="written by the application")
    assert LedgerEntry.objects.count() == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_ledgerentry SET kind = 'x'",
        "DELETE FROM audit_ledgerentry",
        "TRUNCATE audit_ledgerentry CASCADE",
        "UPDATE audit_checkpoint SET tree_size = 0",
        "DELETE FROM audit_governanceevent",
        "UPDATE audit_treenode SET hash = hash",
    ],
)
def test_the_app_role_has_no_privilege_to_change_the_ledger(as_app_role, statement):
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)


def test_the_app_role_still_keeps_the_governance_tables(as_app_role, ai_model):
    ai_model.risk_tier = 2
    ai_model.save()


def test_the_app_role_may_purge_past_retention_and_nothing_more(version, as_app_role):
    ingest_predictions([prediction(), prediction()])
    seal_all()
    assert purge_expired(timezone.now() + dt.timedelta(days=31 * 7)).predictions == 2
    entry = LedgerEntry.objects.filter(kind="prediction").first()
    assert entry.purged and bytes(entry.canonical) == b""
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_ledgerentry SET canonical = '' WHERE kind = 'event'")
