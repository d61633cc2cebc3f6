"""Rules of the inventory: the frozen bundle, the manifest hash, schema and constraint checks."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.canonical import canonical_sha256
from compliance.choices import VersionState
from compliance.models import AIModel, FrozenBundleError, ModelVersion


def leave_draft(version: ModelVersion) -> ModelVersion:
    ModelVersion.objects.filter(pk=version.pk).update(state=VersionState.SUBMITTED)
    version.refresh_from_db()
    return version


def test_a_version_hashes_its_manifest_and_input_schema(version):
    assert version.manifest_sha256 == canonical_sha256(version.manifest())
    assert version.input_schema_sha256 == canonical_sha256(version.input_schema)
    assert version.manifest()["model"] == "credit-scoring"
    assert version.manifest()["training_date_from"] == "2024-01-01"


def test_the_manifest_hash_is_stable_under_key_order(version):
    before = version.manifest_sha256
    version.configuration = dict(reversed(list(version.configuration.items())))
    version.input_schema = json.loads(json.dumps(version.input_schema, sort_keys=True, indent=3))
    version.save()
    assert version.manifest_sha256 == before


def test_any_bundle_change_changes_the_manifest_hash(version):
    before = version.manifest_sha256
    version.configuration = {**version.configuration, "C": 0.5}
    version.save()
    assert version.manifest_sha256 != before


def test_a_draft_can_be_edited(version):
    version.code_commit = "abc1234"
    version.save()
    version.refresh_from_db()
    assert version.code_commit == "abc1234"


def test_a_version_that_left_draft_refuses_a_bundle_change(version):
    leave_draft(version)
    version.artifact_sha256 = "c" * 64
    with pytest.raises(FrozenBundleError, match="artifact_sha256.*frozen"):
        version.save()
    version.refresh_from_db()
    assert version.artifact_sha256 == "a" * 64


def test_a_bulk_update_cannot_change_a_frozen_bundle(version):
    leave_draft(version)
    with pytest.raises(FrozenBundleError, match="frozen"):
        ModelVersion.objects.filter(pk=version.pk).update(code_commit="evil")
    assert ModelVersion.objects.get(pk=version.pk).code_commit == "3f2c1e9"


def test_an_invalid_json_schema_is_refused(version):
    version.input_schema = {"type": "objekt", "properties": {"x": {"type": 5}}}
    with pytest.raises(ValidationError) as exc:
        version.full_clean()
    assert "Not a valid JSON Schema" in str(exc.value.message_dict["input_schema"])


def test_a_malformed_sha256_is_refused(version):
    version.artifact_sha256 = "ABC"
    with pytest.raises(ValidationError) as exc:
        version.full_clean()
    assert "artifact_sha256" in exc.value.message_dict


def test_nan_in_metrics_is_refused(version):
    version.evaluation_metrics = {"accuracy": float("nan")}
    with pytest.raises(ValidationError) as exc:
        version.full_clean()
    assert "canonical JSON" in str(exc.value.message_dict["evaluation_metrics"])


def test_version_labels_are_unique_per_model(version, developer):
    duplicate = ModelVersion(model=version.model, created_by=developer, **_fields(version))
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_training_date_range_that_ends_before_it_starts_is_refused(version):
    version.training_date_to = version.training_date_from.replace(year=2023)
    with pytest.raises(ValidationError):
        version.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        version.save()


def test_a_high_risk_model_needs_its_annex_iii_area(ai_model):
    ai_model.annex_iii_area = ""
    with pytest.raises(ValidationError):
        ai_model.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        ai_model.save()


def test_sensitive_attributes_must_be_names(ai_model):
    ai_model.sensitive_attributes = ["sex", "age band"]
    with pytest.raises(ValidationError, match="age band"):
        ai_model.full_clean()


def test_the_tier_explains_itself(ai_model):
    assert "two validators" in ai_model.risk_tier_meaning
    assert str(ai_model) == "Retail credit scoring"
    assert AIModel.objects.get(slug="credit-scoring") == ai_model


def _fields(version: ModelVersion) -> dict:
    return {name: getattr(version, name) for name in ModelVersion.BUNDLE_FIELDS}
