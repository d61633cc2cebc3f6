"""``manage.py erase_subject``: crypto-shredding a data subject, and the ledger still verifies."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import GovernanceEvent, PredictionRecord, SensitiveAttributes, SubjectKey
from audit.personal import ERASED, subject_digest
from audit.sequencer import seal_all
from compliance.retention import place_legal_hold, release_legal_hold
from modelcards.evidence import retention_facts
from tests.audit.conftest import EMAIL, committed, personal_prediction

pytestmark = committed


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def post(client, body):
    return client.post("/api/v1/predictions/", json.dumps(body), content_type="application/json")


@pytest.fixture
def logged(api, service, personal_version) -> dict[str, list[dict]]:
    """Two predictions about customer-4711 and one about customer-0815, sealed."""
    items = {
        "customer-4711": [personal_prediction(), personal_prediction()],
        "customer-0815": [personal_prediction("customer-0815")],
    }
    response = post(api.as_(service), [i for group in items.values() for i in group])
    assert response.status_code == 201
    seal_all()
    return items


def erase(risk_officer, subject_id="customer-4711", *extra) -> str:
    return run("erase_subject", subject_id, "--by", risk_officer.username, *extra)


def test_erasure_destroys_the_key_and_records_who_and_which_subject(logged, risk_officer):
    key = SubjectKey.objects.get(subject_digest=subject_digest("customer-4711"))
    assert "key is destroyed" in erase(risk_officer, "customer-4711", "--reason", "ticket 7")
    key.refresh_from_db()
    assert key.key is None and key.subject_digest is None and key.erased_at is not None
    event = GovernanceEvent.objects.get(event_type="subject.erased")
    assert event.actor == risk_officer and event.reason == "ticket 7"
    assert event.after == {
        "subject": str(key.reference),
        "predictions": 2,
        "sensitive_attributes_deleted": 2,
    }
    canonical = bytes(event.entry.canonical)
    assert b"customer-4711" not in canonical and EMAIL.encode() not in canonical


def test_erasure_deletes_the_subjects_sensitive_attributes_and_no_one_elses(logged, risk_officer):
    erase(risk_officer)
    remaining = SensitiveAttributes.objects.select_related("prediction")
    assert [s.prediction.event_id for s in remaining] == [
        PredictionRecord.objects.get(subject__isnull=False, subject__key__isnull=False).event_id
    ]


def test_after_erasure_the_ledger_verifies_against_a_checkpoint_kept_before(
    logged, risk_officer, tmp_path
):
    kept = tmp_path / "kept.json"
    kept.write_text(run("export_checkpoint"))
    leaf_hashes = {p.pk: bytes(p.entry.leaf_hash) for p in PredictionRecord.objects.all()}
    erase(risk_officer)
    seal_all()
    assert {p.pk: bytes(p.entry.leaf_hash) for p in PredictionRecord.objects.all()} == leaf_hashes
    assert "verified" in run("verify_ledger", "--checkpoint", str(kept))
    run("export_ledger", str(tmp_path / "export"))
    result = subprocess.run(
        [sys.executable, "-m", "audit.verify", str(tmp_path / "export"), "--checkpoint", kept],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_trail_of_an_erased_subjects_predictions_shows_the_fields_erased(
    api, auditor, logged, risk_officer
):
    erase(risk_officer)
    for item in logged["customer-4711"]:
        body = api.as_(auditor).get(f"/api/v1/predictions/{item['event_id']}/trail/").json()
        assert body["personal"]["status"] == "erased"
        assert body["personal"]["fields"] == {"email": ERASED, "name": ERASED}
        assert EMAIL not in json.dumps(body)
    other = logged["customer-0815"][0]["event_id"]
    body = api.as_(auditor).get(f"/api/v1/predictions/{other}/trail/").json()
    assert body["personal"]["fields"]["email"] == EMAIL


def test_an_unknown_or_already_erased_subject_is_refused(logged, risk_officer):
    with pytest.raises(CommandError, match="No data subject 'nobody'"):
        erase(risk_officer, "nobody")
    erase(risk_officer)
    with pytest.raises(CommandError, match="No data subject"):
        erase(risk_officer)
    assert GovernanceEvent.objects.filter(event_type="subject.erased").count() == 1


@pytest.mark.parametrize("target", [["--subject", "customer-4711"], ["--model", "credit-scoring"]])
def test_a_subject_under_legal_hold_is_not_erased(logged, risk_officer, target):
    run(
        "legal_hold",
        "place",
        *target,
        "--reason",
        "litigation 2026-17",
        "--by",
        risk_officer.username,
    )
    with pytest.raises(CommandError, match="under legal hold"):
        erase(risk_officer)
    assert SubjectKey.objects.filter(key__isnull=True).count() == 0
    assert not GovernanceEvent.objects.filter(event_type="subject.erased").exists()


def test_the_documents_count_the_erasures_of_a_models_subjects_and_their_holds(
    logged, risk_officer, ai_model
):
    """What the documents' retention table prints (``modelcards.evidence.retention_facts``):
    counts of the model's erased subjects and the holds on them, never who."""
    key = SubjectKey.objects.get(subject_digest=subject_digest("customer-0815"))
    hold = place_legal_hold(reason="Dispute 12.", actor=risk_officer, subject=key)
    release_legal_hold(hold, reason="Settled.", actor=risk_officer)
    erase(risk_officer, "customer-4711")
    facts = retention_facts(ai_model, timezone.now() + dt.timedelta(seconds=1))
    assert (facts["erasures"], facts["erased_predictions"]) == (1, 2)
    assert [(h["on"], h["reason"]) for h in facts["holds"]] == [("a data subject", "Dispute 12.")]
    assert all(h["released_at"] for h in facts["holds"])
    assert str(key.reference) not in json.dumps(facts)
