"""POST/GET /api/v1/versions/{id}/artifact/ and GET /api/v1/versions/{id}/importance/."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import skops.io as sio
from django.core.files.uploadedfile import SimpleUploadedFile
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from audit.models import ExplanationRecord
from audit.sequencer import seal_all
from compliance.explanations import explain_all
from compliance.models import ModelArtifact
from tests.audit.conftest import committed
from tests.compliance.explain_support import FEATURES, LABELS, applications, register


def upload(client, version, data: bytes, background: bytes | None = None, name="sample.json"):
    body = {"file": SimpleUploadedFile("model.skops", data)}
    if background is not None:
        body["background"] = SimpleUploadedFile(name, background)
    return client.post(f"/api/v1/versions/{version.pk}/artifact/", body, format="multipart")


# ---------------------------------------------------------------------------- artifact


def test_a_developer_uploads_the_artifact(
    api, developer, credit_version, skops_file, background_rows
):
    sample = json.dumps(background_rows).encode()
    response = upload(api.as_(developer), credit_version, skops_file, sample)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sha256"] == credit_version.artifact_sha256
    assert body["explainer"] == "shap.LinearExplainer"
    assert body["output_space"] == "log_odds"
    assert body["features"] == FEATURES
    assert body["background_rows"] == 100
    assert body["uploaded_by"] == "devon"
    assert body["progress"]["explained"] == 0


def test_a_csv_sample_of_the_training_data_is_a_background_too(
    api,
    developer,
    credit_version,
    skops_file,
    trained,
):
    csv = trained.train.head(50).to_csv(index=False).encode()  # extra columns are ignored
    response = upload(api.as_(developer), credit_version, skops_file, csv, name="train.csv")
    assert response.status_code == 201, response.json()
    assert response.json()["background_rows"] == 50


def test_the_same_file_again_is_200_with_the_stored_artifact(api, developer, uploaded, skops_file):
    response = upload(api.as_(developer), uploaded.version, skops_file)
    assert response.status_code == 200
    assert response.json()["sha256"] == uploaded.sha256


def test_a_file_that_is_not_the_one_the_bundle_pins_is_400(api, developer, credit_version):
    response = upload(api.as_(developer), credit_version, b"PK\x03\x04 some other model")
    assert response.status_code == 400
    assert "the bundle pins" in response.json()["file"][0]
    assert not ModelArtifact.objects.exists()


def test_untrusted_types_are_400_and_named(api, ai_model, developer, trained):
    data = sio.dumps(make_pipeline(FunctionTransformer(func=eval), LogisticRegression()))
    version = register(ai_model, developer, data, trained, label="6.6.6")
    response = upload(api.as_(developer), version, data)
    assert response.status_code == 400
    assert "skops does not trust: builtins.eval" in response.json()["file"][0]


def test_a_bad_background_is_400_on_its_field(api, developer, credit_version, skops_file):
    response = upload(api.as_(developer), credit_version, skops_file, b'[{"income": 1}]')
    assert response.status_code == 400
    assert "'debt_to_income' is missing" in response.json()["background"][0]


def test_the_file_is_required(api, developer, credit_version):
    response = api.as_(developer).post(
        f"/api/v1/versions/{credit_version.pk}/artifact/", {}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()


def test_uploading_needs_credentials_and_a_developer_of_the_team(
    api,
    client,
    validator,
    credit_version,
    skops_file,
):
    from compliance.choices import Role
    from tests.conftest import make_user

    url = f"/api/v1/versions/{credit_version.pk}/artifact/"
    assert client.post(url, {"file": io.BytesIO(skops_file)}).status_code == 401
    refused = upload(api.as_(validator), credit_version, skops_file)
    assert refused.status_code == 403
    assert "Only developers of the model's team" in refused.json()["detail"]
    stranger = make_user("dana", Role.DEVELOPER)
    refused = upload(api.as_(stranger), credit_version, skops_file)
    assert refused.status_code == 403
    assert "developing team of credit-scoring" in refused.json()["file"][0]


def test_an_unknown_version_is_404(api, developer, skops_file):
    assert upload(api.as_(developer), type("V", (), {"pk": 999})(), skops_file).status_code == 404


def test_reading_the_artifact(api, auditor, service, uploaded, credit_version):
    url = f"/api/v1/versions/{uploaded.version_id}/artifact/"
    body = api.as_(auditor).get(url).json()
    assert body["estimator"] == "Pipeline(StandardScaler, LogisticRegression)"
    assert "content" not in body
    assert api.as_(service).get(url).status_code == 403
    assert api.as_(auditor).get("/api/v1/versions/999/artifact/").status_code == 404


def test_a_version_without_an_artifact_has_none_to_read(api, auditor, credit_version):
    url = f"/api/v1/versions/{credit_version.pk}/artifact/"
    assert api.as_(auditor).get(url).status_code == 404


# ---------------------------------------------------------------------------- importance


@pytest.fixture
def explained(api, service, uploaded, trained):
    """400 explained predictions, decided 10 to 19 November 2026."""
    items = applications(trained, 400)
    assert api.as_(service).post("/api/v1/predictions/", items, format="json").status_code == 201
    seal_all()
    explain_all()
    return items


def importance_url(version, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/versions/{version.pk}/importance/?{query}"


def mean_abs(start: str, end: str) -> dict[str, float]:
    rows = ExplanationRecord.objects.filter(decided_at__gte=start, decided_at__lt=end)
    values = np.array(
        [[r[f] for f in FEATURES] for r in rows.values_list("contributions", flat=True)]
    )
    return dict(zip(FEATURES, np.abs(values).mean(axis=0).tolist(), strict=True))


WINDOW = {"start": "2026-11-15T00:00:00Z", "end": "2026-11-20T00:00:00Z"}
REFERENCE = {"reference_start": "2026-11-10T00:00:00Z", "reference_end": "2026-11-15T00:00:00Z"}


@committed
def test_importance_is_mean_absolute_shap_per_feature_with_its_drift(
    api,
    risk_officer,
    explained,
    uploaded,
):
    response = api.as_(risk_officer).get(importance_url(uploaded.version, **WINDOW, **REFERENCE))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["output_space"] == "log_odds"
    assert body["window"]["explanations"] == 200
    expected = mean_abs(WINDOW["start"], WINDOW["end"])
    got = {f["feature"]: f["mean_abs_shap"] for f in body["window"]["features"]}
    assert got == pytest.approx(expected, rel=1e-9)
    ranked = [f["feature"] for f in body["window"]["features"]]
    assert ranked == sorted(expected, key=lambda f: -expected[f])
    assert {f["label"] for f in body["window"]["features"]} == set(LABELS.values())
    assert sum(f["share"] for f in body["window"]["features"]) == pytest.approx(1.0)
    # two halves of the same population: the model leans on its features alike
    assert body["reference"]["explanations"] == 200
    assert 0 <= body["drift"]["total_variation"] < 0.1
    assert body["drift"]["rank_correlation"] > 0.5
    assert body["baseline"]["source"] == "uploaded sample of 100 rows"


@committed
def test_by_default_the_reference_is_the_window_before(api, validator, explained, uploaded):
    url = importance_url(uploaded.version, **WINDOW)
    body = api.as_(validator).get(url).json()
    assert body["reference"]["start"] == "2026-11-10T00:00:00Z"
    assert body["reference"]["end"] == "2026-11-15T00:00:00Z"


@committed
def test_a_window_without_explanations_says_so(api, auditor, explained, uploaded):
    url = importance_url(uploaded.version, start="2027-01-01T00:00:00Z", end="2027-01-08T00:00:00Z")
    body = api.as_(auditor).get(url).json()
    assert body["window"]["explanations"] == 0
    assert body["drift"] is None
    assert "No computed explanations in the window." in body["notes"]


def test_importance_of_a_version_without_an_artifact(api, auditor, credit_version):
    body = api.as_(auditor).get(importance_url(credit_version)).json()
    assert body["method"] is None
    assert any("has no artifact" in note for note in body["notes"])


def test_importance_refuses_a_window_that_ends_before_it_starts(api, auditor, credit_version):
    url = importance_url(credit_version, start="2026-11-20T00:00:00Z", end="2026-11-10T00:00:00Z")
    response = api.as_(auditor).get(url)
    assert response.status_code == 400
    assert "end" in response.json()
    assert api.as_(auditor).get(importance_url(credit_version, sample=5)).status_code == 400


def test_importance_needs_credentials_a_reading_role_and_a_version(
    api,
    client,
    service,
    outsider,
    credit_version,
):
    url = importance_url(credit_version)
    assert client.get(url).status_code == 401
    assert api.as_(service).get(url).status_code == 403
    assert api.as_(outsider).get(url).status_code == 403
    developer_reads = api.as_(credit_version.created_by).get(url)
    assert developer_reads.status_code == 200
    assert client.get("/api/v1/versions/999/importance/").status_code == 401
    assert (
        api.as_(credit_version.created_by).get("/api/v1/versions/999/importance/").status_code
        == 404
    )
