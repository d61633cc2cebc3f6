"""The trail carries the explanation and its reason codes; ``reason_codes()`` for documents."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import PredictionRecord
from audit.sequencer import seal_all
from compliance.explanations import explain_all, logged_explanation, reason_codes
from modelcards.documents import issue
from modelcards.models import DocumentKind
from tests.audit.conftest import committed
from tests.compliance.explain_support import LABELS, applications, by_hand
from tests.modelcards.conftest import flat

pytestmark = committed


@pytest.fixture
def declined(api, service, uploaded, trained):
    """A sealed, explained decline (decision 0) and the item the service logged for it."""
    items = applications(trained, 200)
    response = api.as_(service).post("/api/v1/predictions/", items, format="json")
    assert response.status_code == 201
    seal_all()
    explain_all()
    seal_all()
    return next(i for i in items if i["output"]["decision"] == 0)


def trail(api, user, event_id) -> dict:
    response = api.as_(user).get(f"/api/v1/predictions/{event_id}/trail/")
    assert response.status_code == 200
    return response.json()


def test_the_trail_has_the_computed_explanation_and_its_receipt(
    api,
    auditor,
    declined,
    trained,
    background_rows,
):
    body = trail(api, auditor, declined["event_id"])
    explanation = body["explanation"]
    expected, base = by_hand(trained, background_rows, declined["inputs"])
    assert explanation["source"] == "computed"
    assert explanation["status"] == "computed"
    assert explanation["method"] == "shap.LinearExplainer"
    assert explanation["output_space"] == "log_odds"
    assert explanation["contributions"] == pytest.approx(expected, abs=1e-9)
    assert explanation["base_value"] == pytest.approx(base, abs=1e-9)
    assert explanation["additive"] is True
    assert explanation["receipt"]["leaf_hash"] == explanation["leaf_hash"]
    assert explanation["receipt"]["checkpoint"]["statement"]["tree_size"] >= 1
    assert body["record"]["explanation"] is None  # what the service sent is kept as sent


def test_reason_codes_are_the_largest_unfavourable_contributions_with_values(
    api,
    auditor,
    declined,
    trained,
    background_rows,
):
    expected, _ = by_hand(trained, background_rows, declined["inputs"])
    against = sorted((v, k) for k, v in expected.items() if v < 0)[:4]
    codes = trail(api, auditor, declined["event_id"])["reason_codes"]
    assert [c["feature"] for c in codes] == [k for _, k in against]
    assert [c["contribution"] for c in codes] == pytest.approx([v for v, _ in against])
    assert [c["rank"] for c in codes] == list(range(1, len(against) + 1))
    for code in codes:
        assert code["label"] == LABELS[code["feature"]]
        assert code["value"] == declined["inputs"][code["feature"]]
        assert code["text"].startswith(f"{LABELS[code['feature']]}: ")


def test_reason_codes_for_documents_match_the_trail(api, auditor, declined):
    record = PredictionRecord.objects.select_related("entry", "version").get(
        event_id=declined["event_id"]
    )
    codes = trail(api, auditor, declined["event_id"])["reason_codes"]
    assert [r.to_dict() for r in reason_codes(record)] == codes
    assert [r.feature for r in reason_codes(record, k=2)] == [c["feature"] for c in codes[:2]]


def test_the_dossier_prints_the_computed_explanation_and_its_reason_codes(
    api, auditor, declined, ai_model
):
    body = trail(api, auditor, declined["event_id"])
    codes, entry_id = body["reason_codes"], body["explanation"]["entry_id"]
    dossier = issue(
        DocumentKind.DOSSIER, ai_model, as_of=timezone.localdate(), event_id=declined["event_id"]
    )
    text = flat(dossier.content).split("3 Explanation and reason codes")[-1]
    text = text.split("4 The version")[0]
    source = (
        "Computed by Attest (shap.LinearExplainer, log_odds) after the decision and appended "
        f"to the ledger as entry {entry_id}; it adds up to the model's output."
    )
    assert source in text
    assert codes
    assert "Principal reasons against the favourable decision" in text
    for code in codes:
        assert f"{code['text']} ({code['feature']}, contribution" in text


def test_reason_codes_as_of_a_date_before_the_explanation_are_empty(declined):
    record = PredictionRecord.objects.get(event_id=declined["event_id"])
    before = timezone.now() - dt.timedelta(days=1)
    assert reason_codes(record, as_of=before) == []
    assert reason_codes(record, as_of=timezone.now())


def test_a_logged_explanation_gives_the_reason_codes(api, auditor, service, uploaded, trained):
    item = applications(
        trained, 1, explanation={"income": 0.3, "delinquencies": -1.4, "loan_amount": -0.2}
    )[0]
    api.as_(service).post("/api/v1/predictions/", [item], format="json")
    body = trail(api, auditor, item["event_id"])
    assert body["explanation"]["source"] == "logged"
    assert body["explanation"]["contributions"] == item["explanation"]
    assert [c["feature"] for c in body["reason_codes"]] == ["delinquencies", "loan_amount"]
    assert body["reason_codes"][0]["label"] == "Number of past delinquencies"


def test_until_the_explainer_reaches_it_the_explanation_is_pending(
    api,
    auditor,
    service,
    uploaded,
    trained,
):
    item = applications(trained, 1)[0]
    api.as_(service).post("/api/v1/predictions/", [item], format="json")
    body = trail(api, auditor, item["event_id"])
    assert body["explanation"] == {"source": "computed", "status": "pending"}
    assert body["reason_codes"] == []


def test_without_an_artifact_or_a_logged_explanation_there_is_none(
    api,
    auditor,
    service,
    credit_version,
    trained,
):
    item = applications(trained, 1)[0]
    api.as_(service).post("/api/v1/predictions/", [item], format="json")
    body = trail(api, auditor, item["event_id"])
    assert body["explanation"] is None
    assert body["reason_codes"] == []


def test_the_explanation_adds_a_few_indexed_queries_to_the_trail(
    api, auditor, declined, django_assert_max_num_queries
):
    client = api.as_(auditor)
    # 10 for the trail without it (of them, the approval and deployment in force at the decision:
    # the version's history and its deployments, compliance.serving); the explanation with its
    # entry (1) and the receipt of that entry (leaf, checkpoint, proof nodes: 3); the model the
    # URL names, for the key's scope (1)
    with django_assert_max_num_queries(15):
        client.get(f"/api/v1/predictions/{declined['event_id']}/trail/")


def test_a_logged_explanation_is_read_flat_or_with_its_contributions_nested():
    flat = logged_explanation({"income": 0.2, "delinquencies": -1, "note": "x", "flag": True})
    assert flat.contributions == {"income": 0.2, "delinquencies": -1.0}
    nested = logged_explanation(
        {"contributions": {"income": 0.2}, "base_value": -0.4, "output_space": "log_odds"}
    )
    assert (nested.contributions, nested.base_value, nested.output_space) == (
        {"income": 0.2},
        -0.4,
        "log_odds",
    )
    odd = logged_explanation({"method": "lime", "weights": [0.1, 0.2]})
    assert odd.contributions == {}
    assert odd.note == "The explanation logged is not in a recognised form."
    assert logged_explanation(None) is None
