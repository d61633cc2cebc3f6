"""Uploading an artifact in the admin, and reading explanations there."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import ExplanationRecord
from audit.sequencer import seal_all
from compliance.explanations import explain_all
from compliance.models import ModelArtifact
from tests.audit.conftest import committed
from tests.compliance.explain_support import applications

ADD = "/admin/compliance/modelartifact/add/"


def test_a_developer_uploads_the_artifact_with_a_sample_in_the_admin(
    client,
    developer,
    credit_version,
    skops_file,
    background_rows,
):
    client.force_login(developer)
    assert client.get(ADD).status_code == 200
    response = client.post(
        ADD,
        {
            "version": credit_version.pk,
            "file": SimpleUploadedFile("model.skops", skops_file),
            "background_file": SimpleUploadedFile(
                "sample.json", json.dumps(background_rows).encode()
            ),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    artifact = ModelArtifact.objects.get(version=credit_version)
    assert artifact.uploaded_by == developer
    assert len(artifact.background) == 100
    listing = client.get("/admin/compliance/modelartifact/").content.decode()
    assert "shap.LinearExplainer" in listing


def test_a_mismatched_file_is_refused_on_the_form(client, developer, credit_version):
    client.force_login(developer)
    response = client.post(
        ADD, {"version": credit_version.pk, "file": SimpleUploadedFile("m.skops", b"other")}
    )
    assert response.status_code == 200
    assert "the bundle pins" in response.content.decode()
    assert not ModelArtifact.objects.exists()


def test_a_stored_artifact_is_read_only_and_validators_cannot_upload(
    client,
    validator,
    uploaded,
):
    client.force_login(validator)
    assert client.get(ADD).status_code == 403
    page = client.get(f"/admin/compliance/modelartifact/{uploaded.pk}/change/")
    assert page.status_code == 200
    assert uploaded.sha256 in page.content.decode()
    assert 'name="_save"' not in page.content.decode()


@committed
def test_explanations_are_listed_read_only_for_auditors(
    client,
    api,
    service,
    auditor,
    uploaded,
    trained,
):
    api.as_(service).post("/api/v1/predictions/", applications(trained, 3), format="json")
    seal_all()
    explain_all()
    client.force_login(auditor)
    listing = client.get("/admin/audit/explanationrecord/")
    assert listing.status_code == 200
    record = ExplanationRecord.objects.first()
    page = client.get(f"/admin/audit/explanationrecord/{record.pk}/change/").content.decode()
    assert "shap.LinearExplainer" in page
    assert "contributions" in page
    assert client.get("/admin/audit/explanationrecord/add/").status_code == 403
