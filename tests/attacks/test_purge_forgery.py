"""Forging a purge: dropping payloads the retention rules do not allow to drop.

The attacks of issue 16, hole 6. A purge is a ``ledger.purged`` event, sealed first, that the
database then executes (``public.attest_purge``, the only way the application's role can drop a
payload): it refuses what the event may not purge. The verifiers replay the same rules from the
export alone, so a purge forged past the database (as its superuser) is caught too.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.export import export_ledger
from audit.ledger import record_event
from audit.models import GovernanceEvent, Leaf, LedgerEntry, PredictionRecord
from audit.sequencer import seal_all
from audit.verify import verify_directory
from compliance.retention import PurgeRefused, apply_purge, place_legal_hold, purge_expired
from tests.audit.conftest import POSTGRES, committed, prediction
from tests.audit.test_tamper import sql as superuser_sql
from tests.support.roles import APP, as_role, create_roles

pytestmark = committed

POSTGRES_ONLY = pytest.mark.skipif(
    not POSTGRES,
    reason="SQLite has no database roles: whoever can write its file can drop its triggers; "
    "there the verifiers' replay (tested below on both databases) is the defence",
)


def post(client, body):
    return client.post("/api/v1/predictions/", json.dumps(body), content_type="application/json")


@pytest.fixture
def young(api, service, version) -> list[LedgerEntry]:
    """Five predictions a few minutes old, sealed, of a model that keeps them 84 months."""
    version.model.retention_months = 84
    version.model.save()
    assert post(api.as_(service), [prediction() for _ in range(5)]).status_code == 201
    seal_all()
    return list(LedgerEntry.objects.filter(kind="prediction").order_by("leaf__index"))


def leaves(entries) -> list[list[int]]:
    indexes = sorted(Leaf.objects.filter(entry__in=entries).values_list("index", flat=True))
    return [[indexes[0], indexes[-1]]]


def forged_purge(model, entries, **after) -> GovernanceEvent:
    """An ordinary ``ledger.purged`` event listing ``entries``, written and sealed."""
    event = record_event(
        "ledger.purged",
        model=model,
        after={
            "retention_months": model.retention_months,
            "predictions": len(entries),
            "outcomes": 0,
            "leaf_ranges": leaves(entries),
            **after,
        },
        reason="forged",
    )
    seal_all()
    return event


def untouched(entries) -> bool:
    return all(
        bytes(LedgerEntry.objects.get(pk=e.pk).canonical) == bytes(e.canonical) for e in entries
    )


def verifications(tmp_path) -> list[str]:
    """What ``verify_ledger`` and the standalone verifier say; both must fail."""
    with pytest.raises(CommandError) as failed:
        call_command("verify_ledger")
    export_ledger(tmp_path)
    standalone = subprocess.run(
        [sys.executable, "-m", "audit.verify", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert standalone.returncode == 1, standalone.stdout + standalone.stderr
    return [str(failed.value), standalone.stdout]


# ---------------------------------------------------------------------------- the database


@POSTGRES_ONLY
def test_the_app_role_cannot_empty_payloads_with_an_update(young):
    event = forged_purge(young[0].prediction.version.model, young)
    create_roles()
    with as_role(APP), pytest.raises(DatabaseError, match="permission denied"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE audit_ledgerentry SET canonical = '', purged_by_id = %s WHERE id = %s",
                [event.entry_id, young[0].pk],
            )
    assert untouched(young)


def test_a_forged_purge_of_predictions_within_retention_is_refused(young):
    event = forged_purge(young[0].prediction.version.model, young)
    with pytest.raises(PurgeRefused, match="retention of 84 months"):
        apply_purge(event)
    assert untouched(young)


@POSTGRES_ONLY
def test_the_app_role_cannot_execute_a_forged_purge_either(young):
    event = forged_purge(young[0].prediction.version.model, young)
    create_roles()
    with as_role(APP), pytest.raises(PurgeRefused, match="retention of 84 months"):
        apply_purge(event)
    assert untouched(young)


def test_a_purge_understating_the_retention_is_refused(young):
    model = young[0].prediction.version.model
    event = forged_purge(model, young, retention_months=6)
    with time_machine.travel(timezone.now() + dt.timedelta(days=31 * 7)):
        with pytest.raises(PurgeRefused, match="retention of 84 months"):
            apply_purge(event)
    assert untouched(young)


def test_a_purge_under_a_legal_hold_is_refused(young, risk_officer):
    model = young[0].prediction.version.model
    model.retention_months = 6
    model.save()
    place_legal_hold(reason="litigation", actor=risk_officer, model=model)
    with time_machine.travel(timezone.now() + dt.timedelta(days=31 * 7)):
        event = forged_purge(model, young)
        with pytest.raises(PurgeRefused, match="legal hold"):
            apply_purge(event)
    assert untouched(young)


def test_a_governance_event_is_never_purgeable(young):
    model = young[0].prediction.version.model
    model.retention_months = 6
    model.save()
    approval = record_event("version.approved", model=model, reason="approved")
    seal_all()
    with time_machine.travel(timezone.now() + dt.timedelta(days=31 * 7)):
        event = forged_purge(model, [approval.entry])
        with pytest.raises(PurgeRefused, match="only predictions and outcomes"):
            apply_purge(event)
    assert untouched([approval.entry])


def test_a_purge_event_not_yet_sealed_is_refused(young):
    model = young[0].prediction.version.model
    event = record_event("ledger.purged", model=model, after={"leaf_ranges": leaves(young)})
    with pytest.raises(PurgeRefused, match="not sealed"):
        apply_purge(event)
    assert untouched(young)


@POSTGRES_ONLY
def test_temporary_tables_named_like_the_ledgers_do_not_fool_the_database(young):
    """pg_temp comes first on the search path: unqualified names in trigger SQL would read the
    attacker's tables. Every name is schema-qualified, so they are never read."""
    model = young[0].prediction.version.model
    event = forged_purge(model, young)
    create_roles()
    tables = ("audit_governanceevent", "audit_leaf", "compliance_aimodel")
    with as_role(APP):
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"CREATE TEMP TABLE {table} (LIKE public.{table})")
            cursor.execute("INSERT INTO audit_leaf SELECT * FROM public.audit_leaf")
            cursor.execute("INSERT INTO compliance_aimodel SELECT * FROM public.compliance_aimodel")
            cursor.execute("UPDATE compliance_aimodel SET retention_months = 0")
        try:
            with pytest.raises(PurgeRefused, match="retention of 84 months"):
                apply_purge(event)
        finally:
            with connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"DROP TABLE pg_temp.{table}")
    assert untouched(young)


# ---------------------------------------------------------------------------- the verifiers


def forge_past_the_database(model, entries, **after) -> None:
    """As the superuser: a purge event, sealed, and the payloads emptied with the triggers off."""
    event = forged_purge(model, entries, **after)
    superuser_sql(
        "UPDATE audit_ledgerentry SET canonical = %s, purged_by_id = %s WHERE id IN ("
        + ", ".join(str(e.pk) for e in entries)
        + ")",
        [b"", event.entry_id],
    )


def test_the_verifiers_catch_a_purge_within_retention(young, tmp_path):
    forge_past_the_database(young[0].prediction.version.model, young)
    for said in verifications(tmp_path):
        assert "retention of 84 months had not expired" in said, said


def test_the_verifiers_catch_a_purge_that_understates_the_retention(young, tmp_path):
    model = young[0].prediction.version.model
    with time_machine.travel(timezone.now() + dt.timedelta(days=31 * 7)):
        forge_past_the_database(model, young, retention_months=6)
        for said in verifications(tmp_path):
            assert "retention of 84 months had not expired" in said, said


def test_the_verifiers_catch_a_purge_under_a_legal_hold(young, risk_officer, tmp_path):
    model = young[0].prediction.version.model
    model.retention_months = 6
    model.save()
    place_legal_hold(reason="litigation", actor=risk_officer, model=model)
    with time_machine.travel(timezone.now() + dt.timedelta(days=31 * 7)):
        forge_past_the_database(model, young)
        for said in verifications(tmp_path):
            assert "under a legal hold" in said, said


def test_a_genuine_purge_still_verifies(young, tmp_path):
    model = young[0].prediction.version.model
    model.retention_months = 6
    model.save()
    with time_machine.travel(timezone.now() + dt.timedelta(days=31 * 7)):
        assert purge_expired().predictions == 5
        call_command("verify_ledger")
    export_ledger(tmp_path)
    assert verify_directory(tmp_path).ok
    assert PredictionRecord.objects.filter(entry__purged_by__isnull=False).count() == 5
