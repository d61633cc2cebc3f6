"""A version declares which outcome its score is the probability of: a risk model (a
probability of default) is measured, explained and registered the right way round."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest
from django.test import Client
from sklearn.metrics import roc_auc_score

from audit.canonical import canonical_sha256
from audit.ingest import ingest_predictions
from audit.models import PredictionRecord
from compliance import explain
from compliance.choices import ScoreOf, VersionState
from compliance.explanations import favourable_sign, reason_codes
from compliance.models import FrozenBundleError, ModelVersion, ReportSchedule
from compliance.reports import run_report
from tests.compliance.test_report_scenarios import END, START, log
from tests.conftest import bundle

URL = "/api/v1/models/credit-scoring/versions/"
ADD = "/admin/compliance/modelversion/add/"


def risk_rows(n: int = 3000, seed: int = 7):
    """(sex, approved, repaid, probability of default): a good, calibrated risk model."""
    rng = np.random.default_rng(seed)
    risk = rng.beta(2, 5, size=n)
    default = rng.random(n) < risk
    rows = [("F" if i % 2 else "M", bool(r < 0.4), bool(not d), float(r))
            for i, (r, d) in enumerate(zip(risk, default, strict=True))]  # fmt: skip
    return rows, risk, default.astype(int)


def direct_ece(truth: np.ndarray, prob: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error of ``prob`` against ``truth``, computed from scratch."""
    which = np.clip(np.ceil(prob * n_bins).astype(int) - 1, 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        inside = which == b
        if inside.any():
            total += inside.sum() / len(prob) * abs(truth[inside].mean() - prob[inside].mean())
    return total


@pytest.fixture
def risk_version(version):
    version.score_of = ScoreOf.UNFAVOURABLE
    version.save()
    ModelVersion.objects.filter(pk=version.pk).update(state=VersionState.APPROVED)
    version.refresh_from_db()
    return version


def test_a_risk_scores_auc_and_calibration_in_a_report_are_those_of_the_risk_against_default(
    risk_version,
):
    rows, risk, default = risk_rows()
    log(risk_version, rows)
    schedule = ReportSchedule.objects.create(
        model=risk_version.model, checks=["performance"], window_days=7
    )
    (report,) = run_report(risk_version.model, start=START, end=END, schedule=schedule)
    performance = report.results["performance"]
    assert performance["roc_auc"] == pytest.approx(roc_auc_score(default, risk), abs=1e-9)
    assert performance["roc_auc"] > 0.6
    assert performance["expected_calibration_error"] == pytest.approx(
        direct_ece(default, risk), abs=1e-9
    )
    # The reliability table reads the favourable outcome: the mirror of the risk's own.
    by_bin = {round(b["lower"], 1): b for b in performance["reliability"]}
    which = np.clip(np.ceil(risk * 10).astype(int) - 1, 0, 9)
    for b in range(10):
        mirrored = by_bin[round(0.9 - b / 10, 1)]
        assert mirrored["count"] == (which == b).sum()
        if mirrored["count"]:
            assert mirrored["observed_rate"] == pytest.approx(1 - default[which == b].mean())


def test_a_score_of_the_favourable_outcome_is_read_as_it_is(version):
    rows, risk, default = risk_rows()
    repaid = [(sex, approved, truth, 1 - score) for sex, approved, truth, score in rows]
    ModelVersion.objects.filter(pk=version.pk).update(state=VersionState.APPROVED)
    log(version, repaid)
    schedule = ReportSchedule.objects.create(
        model=version.model, checks=["performance"], window_days=7
    )
    (report,) = run_report(version.model, start=START, end=END, schedule=schedule)
    expected = roc_auc_score(1 - default, 1 - risk)
    assert report.results["performance"]["roc_auc"] == pytest.approx(expected, abs=1e-9)


def test_reason_codes_of_a_risk_model_name_the_features_that_raised_the_risk(risk_version):
    # The service explains its probability of default: age raised it, income lowered it.
    ingest_predictions(
        [
            {
                "event_id": str(uuid.uuid4()),
                "model": risk_version.model.slug,
                "version": risk_version.label,
                "decided_at": START.isoformat(),
                "inputs": {"income": 21000.0, "age": 19},
                "output": {"score": 0.8, "decision": 0},
                "explanation": {"income": -0.4, "age": 0.25},
            }
        ]
    )
    record = PredictionRecord.objects.get(version=risk_version)
    assert [r.feature for r in reason_codes(record)] == ["age"]


def test_a_computed_explanation_without_classes_follows_the_declared_direction(
    risk_version, version
):
    regressor = explain.ModelExplainer(method="shap.ExactExplainer", output_space="raw",
                                       features=("income",))  # fmt: skip
    assert favourable_sign(risk_version, regressor) == -1
    classifier = explain.ModelExplainer(method="shap.LinearExplainer", output_space="log-odds",
                                        features=("income",), positive_class=1,
                                        negative_class=0)  # fmt: skip
    # A classifier's classes decide: its positive class 1 is the favourable (repaid) one.
    assert favourable_sign(risk_version, classifier) == 1


def test_the_default_direction_leaves_every_earlier_manifest_hash_unchanged(version):
    assert "score_of" not in version.manifest()
    fields = {name: getattr(version, name) for name in ModelVersion.BUNDLE_FIELDS}
    fields.pop("score_of")
    before = {"model": version.model.slug, **fields}
    before["training_date_from"] = before["training_date_from"].isoformat()
    before["training_date_to"] = before["training_date_to"].isoformat()
    assert version.manifest_sha256 == canonical_sha256(before)


def test_a_risk_direction_enters_the_manifest(risk_version):
    assert risk_version.manifest()["score_of"] == "unfavourable"
    assert risk_version.manifest_sha256 == canonical_sha256(risk_version.manifest())


def test_the_api_registers_and_returns_the_direction(api, developer, ai_model):
    response = api.as_(developer).post(URL, bundle(score_of="unfavourable"), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["score_of"] == "unfavourable"
    version = ModelVersion.objects.get(model=ai_model, label="1.0.0")
    assert version.score_of == ScoreOf.UNFAVOURABLE
    assert response.json()["manifest_sha256"] == canonical_sha256(version.manifest())
    assert api.as_(developer).get(URL + "1.0.0/").json()["score_of"] == "unfavourable"


def test_a_version_registered_without_a_direction_scores_the_favourable_outcome(
    api, developer, ai_model
):
    fields = bundle()
    del fields["score_of"]
    response = api.as_(developer).post(URL, fields, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["score_of"] == "favourable"


def test_an_unknown_direction_is_a_400_naming_the_field(api, developer, ai_model):
    response = api.as_(developer).post(URL, bundle(score_of="risk"), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["score_of"]
    assert "not a valid choice" in response.json()["score_of"][0]
    assert not ModelVersion.objects.exists()


def test_the_direction_is_frozen_once_the_version_leaves_draft(api, developer, version):
    ModelVersion.objects.filter(pk=version.pk).update(state=VersionState.SUBMITTED)
    response = api.as_(developer).patch(URL + "1.0.0/", {"score_of": "unfavourable"})
    assert response.status_code == 409
    assert "frozen" in response.json()["detail"]
    version.refresh_from_db()
    assert version.score_of == ScoreOf.FAVOURABLE
    version.score_of = ScoreOf.UNFAVOURABLE
    with pytest.raises(FrozenBundleError, match="score_of"):
        version.save()


def test_the_openapi_schema_lists_the_directions(api, developer):
    schema = api.as_(developer).get("/api/schema/", {"format": "json"}).json()
    component = schema["components"]["schemas"]["ScoreOfEnum"]
    assert component["enum"] == ["favourable", "unfavourable"]


def test_the_admin_registration_form_sets_the_direction_and_freezes_it(developer, ai_model):
    client = Client()
    client.force_login(developer)
    form = {"model": ai_model.pk, **bundle(score_of="unfavourable")}
    form.update(input_schema=json.dumps(form["input_schema"]), configuration="{}",
                evaluation_metrics="{}", baselines="{}")  # fmt: skip
    response = client.post(ADD, form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    version = ModelVersion.objects.get(model=ai_model)
    assert version.score_of == ScoreOf.UNFAVOURABLE
    ModelVersion.objects.filter(pk=version.pk).update(state=VersionState.SUBMITTED)
    page = client.get(f"/admin/compliance/modelversion/{version.pk}/change/").content
    assert b'name="score_of"' not in page
    assert b"the unfavourable outcome (a risk)" in page
