"""On PostgreSQL the application's role cannot change the ledger, even without triggers."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.ingest import ingest_predictions
from audit.ledger import record_event
from audit.models import LedgerEntry
from audit.sequencer import seal_all
from compliance.retention import apply_purge, plan_purges
from tests.audit.conftest import prediction
from tests.support.roles import APP, SEQUENCER, as_role, create_roles

pytestmark = pytest.mark.postgres


@pytest.fixture
def as_app_role(db):
    if connection.vendor != "postgresql":
        pytest.skip("roles and grants exist only on PostgreSQL")
    create_roles()
    record_event("test.before", reason="written by the owner")
    with as_role(APP):
        yield


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
    with as_role(SEQUENCER):
        seal_all()
    with time_machine.travel(timezone.now() + dt.timedelta(days=31 * 7)):
        _, events = plan_purges()
        with as_role(SEQUENCER):  # run_sequencer, in production
            seal_all()
        assert apply_purge(events[0]) == 2
    entry = LedgerEntry.objects.filter(kind="prediction").first()
    assert entry.purged and bytes(entry.canonical) == b""
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_ledgerentry SET canonical = '' WHERE kind = 'event'")
