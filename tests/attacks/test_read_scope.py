"""Issue #16, hole 3: reads were not scoped; a developer read another team's prediction trail.

Developers and service accounts read only their own models' predictions, outcomes,
explanations and trails, in the API and the admin alike; risk officers, validators and
auditors read all. An object outside the reader's scope does not exist for them: 404 in the
API, "does not exist" in the admin."""

from __future__ import annotations

from rest_framework.test import APIClient

from audit.ingest import ingest_outcomes, ingest_predictions
from audit.models import ExplanationRecord, OutcomeRecord, PredictionRecord
from audit.sequencer import seal_all
from compliance.choices import KeyAction
from compliance.explanations import explain_all
from compliance.keys import issue_key
from tests.attacks import doors_support
from tests.attacks.doors_support import logged_in
from tests.audit.conftest import committed, outcome, prediction
from tests.compliance import explain_support
from tests.compliance.explain_support import applications

doors_other_developer = doors_support.doors_other_developer  # fixtures
doors_other_model = doors_support.doors_other_model
trained = explain_support.trained
skops_file = explain_support.skops_file
background_rows = explain_support.background_rows
credit_version = explain_support.credit_version
uploaded = explain_support.uploaded


def logged(version) -> tuple[str, str]:
    """A prediction of ``version`` (credit scoring) and its outcome: their ids."""
    item = prediction()
    ingest_predictions([item])
    result = outcome(item["event_id"])
    ingest_outcomes([result])
    return item["event_id"], result["outcome_id"]


def test_a_developer_of_another_team_cannot_read_a_prediction_trail_or_receipt(
    api, doors_other_developer, version
):
    event_id, _ = logged(version)
    client = api.as_(doors_other_developer)

    trail = client.get(f"/api/v1/predictions/{event_id}/trail/")
    receipt = client.get(f"/api/v1/predictions/{event_id}/receipt/")

    assert (trail.status_code, receipt.status_code) == (404, 404)
    assert event_id not in trail.content.decode() + receipt.content.decode()


def test_the_models_own_developer_and_the_readers_of_everything_read_the_trail(
    api, developer, validator, auditor, risk_officer, version
):
    event_id, _ = logged(version)
    for reader in (developer, validator, auditor, risk_officer):
        trail = api.as_(reader).get(f"/api/v1/predictions/{event_id}/trail/")
        assert trail.status_code == 200, reader
        assert trail.json()["event_id"] == event_id


def test_a_service_account_reads_only_the_trails_its_key_covers(
    service, version, doors_other_model
):
    event_id, _ = logged(version)
    url = f"/api/v1/predictions/{event_id}/trail/"
    in_scope = APIClient()
    _, key = issue_key(user=service, models=[version.model], actions=[KeyAction.READ_TRAIL])
    in_scope.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    by_session = APIClient()  # no key: no scope, and the service is on no model's team
    by_session.force_login(service)

    assert in_scope.get(url).status_code == 200
    assert by_session.get(url).status_code == 404


def test_a_developer_of_another_team_cannot_list_or_open_predictions_and_outcomes_in_the_admin(
    doors_other_developer, version
):
    event_id, outcome_id = logged(version)
    record = PredictionRecord.objects.get(event_id=event_id)
    result = OutcomeRecord.objects.get(outcome_id=outcome_id)
    client = logged_in(doors_other_developer)

    predictions = client.get("/admin/audit/predictionrecord/")
    outcomes = client.get("/admin/audit/outcomerecord/")
    opened = client.get(f"/admin/audit/predictionrecord/{record.pk}/change/")
    opened_outcome = client.get(f"/admin/audit/outcomerecord/{result.pk}/change/")

    assert (predictions.status_code, outcomes.status_code) == (200, 200)
    assert event_id not in predictions.content.decode()
    assert outcome_id not in outcomes.content.decode()
    assert (opened.status_code, opened["Location"]) == (302, "/admin/")
    assert (opened_outcome.status_code, opened_outcome["Location"]) == (302, "/admin/")


def test_the_models_own_developer_lists_and_opens_its_predictions_in_the_admin(developer, version):
    event_id, outcome_id = logged(version)
    record = PredictionRecord.objects.get(event_id=event_id)
    client = logged_in(developer)

    assert event_id in client.get("/admin/audit/predictionrecord/").content.decode()
    assert outcome_id in client.get("/admin/audit/outcomerecord/").content.decode()
    assert client.get(f"/admin/audit/predictionrecord/{record.pk}/change/").status_code == 200


@committed
def test_a_developer_of_another_team_cannot_read_explanations_in_the_admin(
    api, service, developer, doors_other_developer, uploaded, trained
):
    api.as_(service).post("/api/v1/predictions/", applications(trained, 2), format="json")
    seal_all()
    explain_all()
    record = ExplanationRecord.objects.first()
    url = f"/admin/audit/explanationrecord/{record.pk}/change/"

    outsider = logged_in(doors_other_developer)
    listing = outsider.get("/admin/audit/explanationrecord/").content.decode()
    opened = outsider.get(url)

    assert str(record.prediction.event_id) not in listing
    assert (opened.status_code, opened["Location"]) == (302, "/admin/")
    assert logged_in(developer).get(url).status_code == 200


def test_a_developer_of_another_team_cannot_download_a_prediction_dossier(
    api, risk_officer, developer, doors_other_developer, version
):
    """A prediction dossier is the trail of one prediction as a PDF: scoped like the trail."""
    event_id, _ = logged(version)
    issued = api.as_(risk_officer).post(
        "/api/v1/models/credit-scoring/documents/",
        {"kind": "dossier", "event_id": event_id},
        format="json",
    )
    assert issued.status_code == 201, issued.content
    reference = issued.json()["document"]["reference"]
    download = f"/api/v1/documents/{reference}/download/"
    in_admin = f"/admin/modelcards/issueddocument/{reference}/download/"

    outsider = logged_in(doors_other_developer)
    assert api.as_(doors_other_developer).get(download).status_code == 404
    assert outsider.get(in_admin).status_code == 404
    assert reference not in outsider.get("/admin/modelcards/issueddocument/").content.decode()
    assert api.as_(developer).get(download).status_code == 200
    assert logged_in(developer).get(in_admin).status_code == 200
