"""Storing a version's skops artifact: the hash, the trusted types, the background, the event."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
import skops.io as sio
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from audit.appendonly import AppendOnlyError
from audit.models import ExplainerProgress, GovernanceEvent
from compliance import artifacts, demo
from compliance.artifacts import ArtifactRefused, store_artifact
from compliance.models import ModelArtifact, ModelVersion
from tests.compliance.explain_support import FEATURES, register


class LoudScaler(StandardScaler):
    """A subclass skops has never heard of: its module could run anything on import."""


def test_the_artifact_is_stored_with_its_explainer_and_an_event(
    credit_version,
    developer,
    skops_file,
    background_rows,
):
    artifact, created = store_artifact(
        credit_version, skops_file, actor=developer, background=background_rows
    )
    assert created
    stored = ModelArtifact.objects.get(version=credit_version)
    assert bytes(stored.content) == skops_file
    assert stored.sha256 == credit_version.artifact_sha256
    assert stored.size == len(skops_file)
    assert stored.estimator == "Pipeline(StandardScaler, LogisticRegression)"
    assert stored.features == FEATURES
    assert len(stored.background) == 100
    assert (stored.explainer, stored.output_space) == ("shap.LinearExplainer", "log_odds")
    assert stored.background_source == "uploaded sample of 100 rows"
    event = GovernanceEvent.objects.get(event_type="artifact.uploaded")
    assert event.actor == developer
    assert event.after["artifact_sha256"] == credit_version.artifact_sha256
    assert event.after["background_sha256"] == stored.background_sha256
    assert event.after["explainer"]["output_space"] == "log_odds"
    assert ExplainerProgress.objects.get(version=credit_version).watermark_id == 0


def test_a_file_whose_hash_is_not_the_bundles_is_refused(credit_version, developer, trained):
    other = sio.dumps(make_pipeline(StandardScaler(), LogisticRegression()))
    with pytest.raises(ArtifactRefused, match="the bundle pins") as refused:
        store_artifact(credit_version, other, actor=developer)
    assert hashlib.sha256(other).hexdigest() in str(refused.value)
    assert not ModelArtifact.objects.exists()
    assert not GovernanceEvent.objects.filter(event_type="artifact.uploaded").exists()


def test_a_model_that_would_call_eval_is_refused_before_it_is_loaded(
    ai_model,
    developer,
    trained,
    monkeypatch,
):
    evil = make_pipeline(FunctionTransformer(func=eval), LogisticRegression())
    data = sio.dumps(evil)
    version = register(ai_model, developer, data, trained, label="6.6.6")
    loads = []
    monkeypatch.setattr(artifacts.sio, "loads", lambda *a, **k: loads.append(a))
    with pytest.raises(ArtifactRefused, match="does not trust: builtins.eval"):
        store_artifact(version, data, actor=developer)
    assert loads == []  # never deserialised
    assert not ModelArtifact.objects.exists()


def test_a_class_skops_does_not_know_is_refused_with_its_name(ai_model, developer, trained):
    model = make_pipeline(LoudScaler(), LogisticRegression())
    model.fit(trained.train[FEATURES], trained.train["repaid"])
    data = sio.dumps(model)
    version = register(ai_model, developer, data, trained, label="6.6.7")
    with pytest.raises(ArtifactRefused) as refused:
        store_artifact(version, data, actor=developer)
    assert "test_explain_artifacts.LoudScaler" in str(refused.value)
    assert "Only scikit-learn, NumPy and SciPy types are loaded" in str(refused.value)


def test_a_file_that_is_not_skops_is_refused(ai_model, developer, trained):
    data = b"\x80\x04\x95not a skops zip at all"
    version = register(ai_model, developer, data, trained, label="0.0.1")
    with pytest.raises(ArtifactRefused, match="is not a skops file"):
        store_artifact(version, data, actor=developer)


def test_the_same_file_again_returns_the_stored_artifact(uploaded, developer, skops_file):
    again, created = store_artifact(uploaded.version, skops_file, actor=developer)
    assert not created
    assert again.pk == uploaded.pk
    assert GovernanceEvent.objects.filter(event_type="artifact.uploaded").count() == 1


def test_without_a_sample_the_background_comes_from_the_training_baselines(
    credit_version,
    developer,
    skops_file,
):
    artifact, _ = store_artifact(credit_version, skops_file, actor=developer)
    assert len(artifact.background) == 10
    assert artifact.background_source == "10 training quantiles from the version's drift baselines"


def test_without_a_sample_or_baselines_the_upload_asks_for_a_background(
    ai_model,
    developer,
    skops_file,
    trained,
):
    version = register(ai_model, developer, skops_file, trained, label="2.0.0")
    version.baselines = {}
    version.save()
    with pytest.raises(ArtifactRefused, match="Send background rows") as refused:
        store_artifact(version, skops_file, actor=developer)
    assert refused.value.field == "background"


@pytest.mark.parametrize(
    "rows, message",
    [
        ([{"income": 40.0}], "'debt_to_income' is missing"),
        ([{f: "n/a" for f in FEATURES}], "'income' is not a number"),
        ([{f: 1.0 for f in FEATURES}] * 1001, "Send 1 to 1,000 background rows"),
        ([[1, 2, 3, 4, 5, 6]], "must be an object of feature values"),
    ],
)
def test_a_bad_background_is_refused_with_what_is_wrong(
    credit_version,
    developer,
    skops_file,
    rows,
    message,
):
    with pytest.raises(ArtifactRefused, match=message):
        store_artifact(credit_version, skops_file, actor=developer, background=rows)


def test_a_developer_outside_the_team_cannot_upload(credit_version, skops_file):
    from compliance.choices import Role
    from tests.conftest import make_user

    stranger = make_user("dana", Role.DEVELOPER)
    with pytest.raises(ArtifactRefused, match="developing team") as refused:
        store_artifact(credit_version, skops_file, actor=stranger)
    assert refused.value.status == 403


def test_a_stored_artifact_never_changes(uploaded):
    with pytest.raises(AppendOnlyError):
        ModelArtifact.objects.filter(pk=uploaded.pk).update(size=1)
    with pytest.raises(AppendOnlyError):
        uploaded.delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_modelartifact SET size = 1")


def test_loading_checks_the_stored_file_against_the_bundle_and_the_trusted_types(uploaded):
    model = artifacts.load_model(uploaded.version)
    assert type(model).__name__ == "Pipeline"
    with pytest.raises(ArtifactRefused, match="the bundle pins"):
        artifacts.read_skops(bytes(uploaded.content) + b"\x00", uploaded.sha256)


def test_background_files_are_read_as_csv_or_json():
    csv = b"income,debt_to_income\n40.5,0.3\n52,0.25\n"
    assert artifacts.read_background("sample.csv", csv) == [
        {"income": 40.5, "debt_to_income": 0.3},
        {"income": 52.0, "debt_to_income": 0.25},
    ]
    assert artifacts.read_background("sample.json", b'[{"income": 40.5}]') == [{"income": 40.5}]
    with pytest.raises(ArtifactRefused, match="neither CSV nor JSON"):
        artifacts.read_background("sample.json", b"income;debt")


def test_upload_artifact_takes_the_local_files_the_bundle_names(
    ai_model, developer, trained, tmp_path
):
    fields = demo.save_artifacts(trained, tmp_path, "3.0.0")
    version = register(ai_model, developer, (tmp_path / "credit-scoring-3.0.0.skops").read_bytes(),
                       trained, label="3.0.0")  # fmt: skip
    ModelVersion.objects.filter(pk=version.pk).update(**fields)
    out = StringIO()
    call_command("upload_artifact", "credit-scoring", "3.0.0", stdout=out)
    artifact = ModelArtifact.objects.get(version=version)
    assert artifact.uploaded_by == developer
    assert artifact.background_source == "uploaded sample of 100 rows"
    assert "explained by shap.LinearExplainer in log_odds" in out.getvalue()
    call_command("upload_artifact", "credit-scoring", "3.0.0", stdout=out)
    assert "already has this artifact" in out.getvalue()


def test_upload_artifact_reports_a_refusal(credit_version, tmp_path):
    other = tmp_path / "other.skops"
    other.write_bytes(sio.dumps(make_pipeline(StandardScaler(), LogisticRegression())))
    with pytest.raises(CommandError, match="the bundle pins"):
        call_command("upload_artifact", "credit-scoring", "1.0.0", str(other))
    with pytest.raises(CommandError, match="is not a local file"):
        call_command("upload_artifact", "credit-scoring", "1.0.0")
