"""The ledger in the admin: visible to the roles that read it, changeable by nobody."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from audit.models import GovernanceEvent, PredictionRecord
from audit.sequencer import seal_all
from tests.audit.conftest import committed, prediction

pytestmark = committed


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def logged(logging_client):
    items = [prediction() for _ in range(3)]
    logging_client.post("/api/v1/predictions/", json.dumps(items), content_type="application/json")
    seal_all()
    call_command("verify_ledger", stdout=StringIO())
    return items


def test_an_auditor_finds_a_prediction_by_event_id_and_sees_the_seal(auditor, logged):
    page = logged_in(auditor).get(f"/admin/audit/predictionrecord/?q={logged[1]['event_id']}")
    assert page.status_code == 200
    content = page.content.decode()
    assert logged[1]["event_id"] in content and logged[0]["event_id"] not in content
    assert "Latest signed checkpoint:" in content and "tree size" in content
    assert "Last verification:" in content and "passed" in content


def test_the_record_page_shows_what_was_logged(auditor, logged):
    record = PredictionRecord.objects.get(event_id=logged[0]["event_id"])
    page = logged_in(auditor).get(f"/admin/audit/predictionrecord/{record.pk}/change/")
    assert page.status_code == 200
    assert record.entry.leaf_hash_hex in page.content.decode()
    assert b'name="_save"' not in page.content


def test_the_risk_officer_filters_predictions_by_model_and_time(risk_officer, logged):
    url = "/admin/audit/predictionrecord/?version__model__id__exact={}&decided_at__year=2026"
    record = PredictionRecord.objects.first()
    page = logged_in(risk_officer).get(url.format(record.version.model_id))
    assert page.status_code == 200
    assert logged[2]["event_id"] in page.content.decode()


@pytest.mark.parametrize("persona", ["risk_officer", "auditor"])
def test_nobody_can_change_or_delete_a_ledger_row_in_the_admin(persona, request, logged):
    client = logged_in(request.getfixturevalue(persona))
    record = PredictionRecord.objects.first()
    event = GovernanceEvent.objects.first()
    assert client.post(f"/admin/audit/predictionrecord/{record.pk}/change/", {}).status_code == 403
    assert client.get(f"/admin/audit/predictionrecord/{record.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/governanceevent/add/").status_code == 403
    assert client.get(f"/admin/audit/governanceevent/{event.pk}/delete/").status_code == 403


def test_a_superuser_cannot_change_the_ledger_either(django_user_model, logged):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client = logged_in(admin)
    record = PredictionRecord.objects.first()
    assert client.get(f"/admin/audit/predictionrecord/{record.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/ledgerentry/add/").status_code == 403


def test_a_developer_sees_predictions_but_not_the_raw_ledger(developer, logged):
    client = logged_in(developer)
    assert client.get("/admin/audit/predictionrecord/").status_code == 200
    assert client.get("/admin/audit/ledgerentry/").status_code == 403
