"""Retention: at least six months (EU AI Act Art. 19), legal holds, and purging payloads past
retention while the ledger still verifies against checkpoints exported before the purge."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import GovernanceEvent, LedgerEntry, PredictionRecord, SensitiveAttributes
from audit.sequencer import seal_all
from compliance import retention
from compliance.models import AIModel, LegalHold
from compliance.retention import purge_expired
from tests.audit.conftest import committed, outcome, personal_prediction, prediction
from tests.compliance.test_admin import logged_in, model_form

pytestmark = committed


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


# ---------------------------------------------------------------------------- the period


def test_a_retention_under_six_months_is_refused_by_the_model(ai_model):
    ai_model.retention_months = 5
    with pytest.raises(ValidationError, match="at least 6 months"):
        ai_model.full_clean()


def test_the_database_refuses_a_retention_under_six_months(ai_model):
    with pytest.raises(IntegrityError), transaction.atomic():
        AIModel.objects.filter(pk=ai_model.pk).update(retention_months=5)


def test_the_api_refuses_a_retention_under_six_months(api, risk_officer, ai_model):
    client = api.as_(risk_officer)
    url = f"/api/v1/models/{ai_model.slug}/"
    response = client.patch(url, {"retention_months": 5}, content_type="application/json")
    assert response.status_code == 400
    assert "at least 6 months" in response.json()["retention_months"][0]
    response = client.patch(url, {"retention_months": 24}, content_type="application/json")
    assert response.status_code == 200 and response.json()["retention_months"] == 24


def test_the_admin_refuses_a_retention_under_six_months(risk_officer, ai_model):
    client = logged_in(risk_officer)
    page = client.post(
        f"/admin/compliance/aimodel/{ai_model.pk}/change/",
        model_form(ai_model, retention_months=3),
    )
    assert page.status_code == 200 and "at least 6 months" in page.content.decode()
    ai_model.refresh_from_db()
    assert ai_model.retention_months == 6


def test_set_retention_changes_it_with_a_ledger_event_and_refuses_too_short(ai_model, risk_officer):
    with pytest.raises(CommandError, match="at least 6 months"):
        run("set_retention", ai_model.slug, "5")
    assert "kept 18 months" in run(
        "set_retention", ai_model.slug, "18", "--by", risk_officer.username, "--reason", "policy"
    )
    event = GovernanceEvent.objects.filter(event_type="aimodel.changed").latest("occurred_at")
    assert event.before == {"retention_months": 6} and event.after == {"retention_months": 18}
    assert event.actor == risk_officer and event.reason == "policy"


# ---------------------------------------------------------------------------- legal holds


def test_legal_holds_are_placed_and_released_with_reasons_as_ledger_events(ai_model, risk_officer):
    user = risk_officer.username
    out = run("legal_hold", "place", "--model", ai_model.slug, "--reason", "lawsuit", "--by", user)
    hold = LegalHold.objects.get()
    assert f"id {hold.pk}" in out and "lawsuit" in run("legal_hold", "list")
    run("legal_hold", "release", str(hold.pk), "--reason", "settled", "--by", user)
    with pytest.raises(CommandError, match="already released"):
        run("legal_hold", "release", str(hold.pk), "--reason", "again", "--by", user)
    events = GovernanceEvent.objects.filter(event_type__startswith="legal_hold.").order_by("pk")
    assert [(e.event_type, e.reason, e.actor) for e in events] == [
        ("legal_hold.placed", "lawsuit", risk_officer),
        ("legal_hold.released", "settled", risk_officer),
    ]
    assert run("legal_hold", "list") == ""


def test_risk_officers_and_auditors_see_the_holds_in_the_admin_read_only(
    ai_model, risk_officer, auditor, developer
):
    user = risk_officer.username
    run("legal_hold", "place", "--model", ai_model.slug, "--reason", "lawsuit 17", "--by", user)
    for person in (risk_officer, auditor):
        page = logged_in(person).get("/admin/compliance/legalhold/")
        assert page.status_code == 200 and "lawsuit 17" in page.content.decode()
        assert logged_in(person).get("/admin/compliance/legalhold/add/").status_code == 403
    assert logged_in(developer).get("/admin/compliance/legalhold/").status_code == 403


def test_a_legal_hold_needs_a_known_target(db, risk_officer):
    with pytest.raises(CommandError, match="No data subject"):
        run("legal_hold", "place", "--subject", "x", "--reason", "r", "--by", risk_officer.username)
    with pytest.raises(CommandError, match="No model"):
        run("legal_hold", "place", "--model", "x", "--reason", "r", "--by", risk_officer.username)


# ---------------------------------------------------------------------------- purging


@pytest.fixture
def logged(api, service, version, personal_version) -> list[dict]:
    """Three predictions (one about a data subject) and an outcome, sealed."""
    items = [prediction(), prediction(), personal_prediction()]
    client = api.as_(service)
    assert post(client, "/api/v1/predictions/", items).status_code == 201
    assert post(client, "/api/v1/outcomes/", [outcome(items[0]["event_id"])]).status_code == 201
    seal_all()
    return items


def later(months: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=31 * months)


def purge_at(moment: dt.datetime):
    """Purge as it would run at ``moment``: the sequencer's checkpoints are issued then too."""
    with time_machine.travel(moment):
        return purge_expired()


def verify_standalone(directory, kept) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "audit.verify", str(directory), "--checkpoint", str(kept)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_purge_drops_payloads_keeps_hashes_and_the_ledger_still_verifies(logged, tmp_path):
    kept = tmp_path / "kept.json"
    kept.write_text(run("export_checkpoint"))
    hashes = {e.pk: bytes(e.leaf_hash) for e in LedgerEntry.objects.all()}
    result = purge_at(later(7))
    assert (result.predictions, result.outcomes, result.events) == (3, 1, 1)
    purged = LedgerEntry.objects.filter(purged_by__isnull=False)
    assert purged.count() == 4 and all(bytes(e.canonical) == b"" for e in purged)
    assert {e.pk: bytes(e.leaf_hash) for e in LedgerEntry.objects.filter(pk__in=hashes)} == hashes
    assert not SensitiveAttributes.objects.exists()
    assert "verified" in run("verify_ledger", "--checkpoint", str(kept))
    run("export_ledger", str(tmp_path / "export"))
    checked = verify_standalone(tmp_path / "export", kept)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "purged: 4 payloads" in checked.stdout


def test_the_purge_is_a_ledger_event_listing_what_it_purged(logged):
    purge_at(later(7))
    event = GovernanceEvent.objects.get(event_type="ledger.purged")
    leaves = sorted(e.leaf.index for e in LedgerEntry.objects.filter(purged_by=event.entry))
    assert event.after["predictions"] == 3 and event.after["outcomes"] == 1
    assert event.after["retention_months"] == 6
    covered = [i for first, last in event.after["leaf_ranges"] for i in range(first, last + 1)]
    assert covered == leaves
    assert event.entry.leaf is not None  # sealed at once, so the next export holds it


def test_a_large_purge_goes_in_batches_each_its_own_event(logged, monkeypatch, tmp_path):
    monkeypatch.setattr(retention, "PURGE_BATCH", 2)
    result = purge_at(later(7))
    assert (result.events, result.predictions, result.outcomes) == (2, 3, 1)
    events = GovernanceEvent.objects.filter(event_type="ledger.purged").order_by("pk")
    assert [(e.after["predictions"], e.after["outcomes"]) for e in events] == [(2, 1), (1, 0)]
    assert "purged: 4 payloads" in run("verify_ledger")


def test_payloads_within_retention_are_kept(logged, ai_model):
    ai_model.retention_months = 12
    ai_model.save()
    assert purge_at(later(7)).events == 0
    assert not LedgerEntry.objects.filter(purged_by__isnull=False).exists()


def test_a_model_under_legal_hold_is_never_purged(logged, ai_model, risk_officer):
    user = risk_officer.username
    run("legal_hold", "place", "--model", ai_model.slug, "--reason", "lawsuit", "--by", user)
    result = purge_at(later(120))
    assert result.events == 0 and result.held_models == [ai_model.slug]
    assert not LedgerEntry.objects.filter(purged_by__isnull=False).exists()


def test_a_subject_under_legal_hold_keeps_their_payloads(logged, risk_officer):
    user = risk_officer.username
    run("legal_hold", "place", "--subject", "customer-4711", "--reason", "claim", "--by", user)
    assert purge_at(later(120)).predictions == 2
    held = PredictionRecord.objects.get(subject__isnull=False)
    assert held.entry.purged_by_id is None and held.entry.payload()["personal"] is not None


def test_unsealed_entries_wait_for_their_leaf_before_a_purge(api, service, version):
    assert post(api.as_(service), "/api/v1/predictions/", [prediction()]).status_code == 201
    assert purge_at(later(7)).events == 0


def test_the_trail_of_a_purged_prediction_names_its_purge(api, auditor, logged):
    purge_at(later(7))
    body = api.as_(auditor).get(f"/api/v1/predictions/{logged[0]['event_id']}/trail/").json()
    event = GovernanceEvent.objects.get(event_type="ledger.purged")
    assert body["record"] is None and body["personal"] is None
    assert body["purged"]["event_id"] == event.entry.payload()["event_id"]
    assert (
        body["receipt"]["leaf_index"]
        == PredictionRecord.objects.get(event_id=logged[0]["event_id"]).entry.leaf.index
    )


def test_the_admin_pages_of_a_purged_entry_name_its_purge(auditor, logged):
    purge_at(later(7))
    record = PredictionRecord.objects.get(event_id=logged[0]["event_id"])
    client = logged_in(auditor)
    for url in (
        f"/admin/audit/predictionrecord/{record.pk}/change/",
        f"/admin/audit/ledgerentry/{record.entry_id}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert f"purged past retention by ledger entry {record.entry.purged_by_id}" in (
            response.content.decode()
        )


def test_purge_expired_runs_from_the_command_the_scheduler_and_beat(logged):
    with time_machine.travel(later(7)):
        assert "Purged 3 prediction and 1 outcome payloads in 1 purge" in run("purge_expired")
    assert settings.CELERY_BEAT_SCHEDULE["purge-expired"]["task"] == "attest.purge_expired"


def test_the_single_process_scheduler_purges_too(logged):
    with time_machine.travel(later(7)):
        run("run_scheduler", "--interval", "0.01", "--stop-after", "0.05")
    assert LedgerEntry.objects.filter(purged_by__isnull=False).count() == 4
