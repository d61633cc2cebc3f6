"""Tampering with what reports read: projections changed without a ledger event.

The attacks of issue 16, hole 7. Every table a report, document, trail, dashboard or workflow
decision reads is a projection of the ledger: ``verify_ledger`` (against a checkpoint kept
elsewhere) and ``python -m audit.verify`` on an export rebuild each row from the entries, or
replay the governance events of a mutable table, and name each row that differs. As the
database superuser (triggers off) nothing stops the change, so detection is the defence; as
the application's role (PostgreSQL) the append-only projections refuse it, and the mutable
governance tables take it but the verifiers name it.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.export import export_ledger
from audit.ingest import ingest_outcomes, ingest_predictions
from audit.models import (
    ExplanationRecord,
    GovernanceEvent,
    OutcomeRecord,
    PredictionRecord,
    SensitiveAttributes,
)
from audit.sequencer import seal_all
from compliance.models import LegalHold, ModelVersion
from compliance.retention import place_legal_hold
from tests.audit.conftest import POSTGRES, committed, outcome, prediction
from tests.audit.test_tamper import sql as superuser_sql
from tests.compliance.explain_support import (  # noqa: F401 - fixtures
    applications,
    background_rows,
    credit_version,
    skops_file,
    trained,
    uploaded,
)
from tests.compliance.test_workflow_support import deployed
from tests.support.roles import APP, as_role, create_roles

pytestmark = committed

POSTGRES_ONLY = pytest.mark.skipif(
    not POSTGRES, reason="SQLite has no database roles: whoever can write its file is superuser"
)


@pytest.fixture
def served(version, developer, risk_officer, validator, second_validator):
    """1.0.0 approved by two validators and deployed; 1,000 predictions (with sensitive
    attributes) and an outcome each for ten, all sealed."""
    deployed(version, developer, risk_officer, validator, second_validator)
    items = [prediction(output={"score": 0.8, "decision": 1}) for _ in range(1000)]
    ingest_predictions(items)
    ingest_outcomes([outcome(item["event_id"]) for item in items[:10]])
    seal_all()
    return ModelVersion.objects.get(pk=version.pk)


def kept_checkpoint(tmp_path) -> str:
    kept = tmp_path / "kept.json"
    call_command("export_checkpoint", "--out", str(kept), stdout=StringIO())
    return str(kept)


def verifications(tmp_path, kept: str) -> list[str]:
    """What ``verify_ledger --checkpoint kept`` and the standalone verifier say; both fail."""
    with pytest.raises(CommandError) as failed:
        call_command("verify_ledger", "--checkpoint", kept, stdout=StringIO(), stderr=StringIO())
    export = tmp_path / "export"
    export_ledger(export)
    return [str(failed.value), standalone(export, "--checkpoint", kept)]


def standalone(export, *options: str) -> str:
    """What ``python -m audit.verify`` says of ``export``, which must fail."""
    said = subprocess.run(
        [sys.executable, "-m", "audit.verify", str(export), *options],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert said.returncode == 1, said.stdout + said.stderr
    return said.stdout


def approval() -> GovernanceEvent:
    return GovernanceEvent.objects.filter(event_type="version.approved").latest("pk")


# ---------------------------------------------------------------------------- as the superuser


def test_an_untouched_ledger_verifies_with_its_projections(served, tmp_path):
    out = StringIO()
    call_command("verify_ledger", "--checkpoint", kept_checkpoint(tmp_path), stdout=out)
    assert "no row differs" in out.getvalue()


def test_an_approval_reattributed_to_another_validator_is_named(served, tmp_path):
    kept = kept_checkpoint(tmp_path)
    event = approval()
    other = "victor" if event.actor_name == "valerie" else "valerie"
    superuser_sql(
        "UPDATE audit_governanceevent SET actor_name = %s WHERE id = %s", [other, event.pk]
    )
    for said in verifications(tmp_path, kept):
        assert f"audit_governanceevent {event.pk}: actor_name is '{other}'" in said, said


def test_an_approval_events_after_rewritten_is_named(served, tmp_path):
    kept = kept_checkpoint(tmp_path)
    event = approval()
    superuser_sql(
        "UPDATE audit_governanceevent SET after = %s WHERE id = %s",
        ['{"state": "approved", "open_conditions": 0}', event.pk],
    )
    for said in verifications(tmp_path, kept):
        assert f"audit_governanceevent {event.pk}: after is" in said, said


def test_favourable_flipped_on_972_predictions_is_named(served, tmp_path):
    kept = kept_checkpoint(tmp_path)
    flipped = list(PredictionRecord.objects.order_by("pk").values_list("pk", flat=True)[:972])
    superuser_sql(
        "UPDATE audit_predictionrecord SET favourable = NOT favourable WHERE id IN ("
        + ", ".join(map(str, flipped))
        + ")"
    )
    for said in verifications(tmp_path, kept):
        assert "972 projection values differ" in said, said
        assert (
            f"audit_predictionrecord {flipped[0]}: favourable is False, the ledger says True"
            in said
        )


def test_an_outcome_label_rewritten_is_named(served, tmp_path):
    kept = kept_checkpoint(tmp_path)
    record = OutcomeRecord.objects.order_by("pk").first()
    superuser_sql("UPDATE audit_outcomerecord SET label = '0' WHERE id = %s", [record.pk])
    for said in verifications(tmp_path, kept):
        assert f"audit_outcomerecord {record.pk}: label is 0, the ledger says 1" in said, said


def test_sensitive_attributes_rewritten_are_named(served, tmp_path):
    kept = kept_checkpoint(tmp_path)
    row = SensitiveAttributes.objects.order_by("pk").first()
    superuser_sql(
        'UPDATE audit_sensitiveattributes SET "values" = %s WHERE prediction_id = %s',
        ['{"sex": "M", "age_band": "40-59"}', row.pk],
    )
    for said in verifications(tmp_path, kept):
        assert f"audit_sensitiveattributes {row.pk}: values is" in said, said


def test_sensitive_attributes_deleted_without_an_erasure_are_named(served, tmp_path):
    kept = kept_checkpoint(tmp_path)
    row = SensitiveAttributes.objects.order_by("pk").first()
    superuser_sql("DELETE FROM audit_sensitiveattributes WHERE prediction_id = %s", [row.pk])
    for said in verifications(tmp_path, kept):
        assert f"audit_sensitiveattributes {row.pk}: (row) is 'missing'" in said, said
        assert "its subject was never erased" in said, said


def test_a_governance_event_whose_entry_was_purged_is_named(served, tmp_path):
    kept = kept_checkpoint(tmp_path)
    event = approval()
    purge = GovernanceEvent.objects.order_by("-pk").first()  # any later sealed event
    superuser_sql(
        "UPDATE audit_ledgerentry SET canonical = %s, purged_by_id = %s WHERE id = %s",
        [b"", purge.entry_id, event.entry_id],
    )
    for said in verifications(tmp_path, kept):
        assert "purged" in said, said


def test_a_models_risk_tier_changed_without_an_event_is_named(served, tmp_path):
    kept = kept_checkpoint(tmp_path)
    model = served.model
    superuser_sql("UPDATE compliance_aimodel SET risk_tier = 3 WHERE id = %s", [model.pk])
    for said in verifications(tmp_path, kept):
        assert f"compliance_aimodel {model.pk}: risk_tier is 3, the ledger says 1" in said, said


def test_an_explanation_rewritten_is_named(uploaded, trained, tmp_path):  # noqa: F811
    from compliance.explanations import explain_all

    ingest_predictions(applications(trained, 5))
    seal_all()
    explain_all()
    seal_all()
    kept = kept_checkpoint(tmp_path)
    record = ExplanationRecord.objects.order_by("pk").first()
    superuser_sql(
        "UPDATE audit_explanationrecord SET base_value = base_value + 1 WHERE id = %s",
        [record.pk],
    )
    for said in verifications(tmp_path, kept):
        assert f"audit_explanationrecord {record.pk}: base_value is" in said, said


# ---------------------------------------------------------------------------- as the application


def as_app(statement: str, params=()) -> None:
    create_roles()
    with as_role(APP), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@POSTGRES_ONLY
def test_the_app_role_cannot_rewrite_sensitive_attributes(served):
    row = SensitiveAttributes.objects.order_by("pk").first()
    with pytest.raises(DatabaseError, match="permission denied"):
        as_app(
            "UPDATE audit_sensitiveattributes SET \"values\" = '{}' WHERE prediction_id = %s",
            [row.pk],
        )
    assert SensitiveAttributes.objects.get(pk=row.pk).values == row.values


@POSTGRES_ONLY
def test_the_app_role_cannot_flip_favourable(served):
    with pytest.raises(DatabaseError, match="permission denied"):
        as_app("UPDATE audit_predictionrecord SET favourable = NOT favourable")


@POSTGRES_ONLY
def test_the_app_role_extending_an_approval_by_ten_years_is_named(served, tmp_path):
    kept = kept_checkpoint(tmp_path)
    later = served.approval_expires_at + dt.timedelta(days=3652)
    as_app(
        "UPDATE compliance_modelversion SET approval_expires_at = %s WHERE id = %s",
        [later, served.pk],
    )
    for said in verifications(tmp_path, kept):
        assert f"compliance_modelversion {served.pk}: approval_expires_at is" in said, said


@POSTGRES_ONLY
def test_the_app_role_releasing_a_legal_hold_is_named(served, risk_officer, tmp_path):
    hold = place_legal_hold(reason="litigation", actor=risk_officer, model=served.model)
    seal_all()
    kept = kept_checkpoint(tmp_path)
    as_app(
        "UPDATE compliance_legalhold SET released_at = now(), release_reason = 'x' WHERE id = %s",
        [hold.pk],
    )
    assert not LegalHold.objects.active().exists()
    for said in verifications(tmp_path, kept):
        assert f"compliance_legalhold {hold.pk}: released is True, the ledger says False" in said


@POSTGRES_ONLY
def test_the_app_role_changing_a_models_risk_tier_is_named(served, tmp_path):
    kept = kept_checkpoint(tmp_path)
    as_app("UPDATE compliance_aimodel SET risk_tier = 3 WHERE id = %s", [served.model_id])
    for said in verifications(tmp_path, kept):
        assert f"compliance_aimodel {served.model_id}: risk_tier is 3" in said, said


# ---------------------------------------------------------------------------- in the export


def test_a_projection_row_moved_out_of_leaf_order_in_the_export_is_named(served, tmp_path):
    export_ledger(tmp_path)
    rows = tmp_path / "projections" / "audit_predictionrecord.jsonl"
    rule, first, second, *rest = rows.read_text().splitlines(keepends=True)
    rows.write_text("".join([rule, second, first, *rest]))
    said = standalone(tmp_path)
    assert "out of leaf order" in said and "audit_predictionrecord" in said, said


def test_a_projection_row_with_no_entry_in_the_export_is_named(served, tmp_path):
    export_ledger(tmp_path)
    rows = tmp_path / "projections" / "audit_predictionrecord.jsonl"
    *_, last = rows.read_text().splitlines()
    forged = json.loads(last) | {"leaf": 10**6, "pk": 10**6}
    rows.write_text(rows.read_text() + json.dumps(forged) + "\n")
    said = standalone(tmp_path)
    assert f"audit_predictionrecord {10**6}: entry is 'leaf {10**6}'" in said, said
    assert "no entry of the export" in said
