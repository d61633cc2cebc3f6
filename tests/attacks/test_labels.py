"""Attack family: names that climb out of paths (issue #16, hole 12).

A version label like ``../../../../tmp/zipslip`` names files inside documents and evidence
packs. Labels and slugs follow one pattern (``compliance.names``), checked by the API, the
admin, the model and the database; file names are built only from checked names.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from compliance.models import AIModel, ModelVersion
from modelcards.pack import issue_pack
from tests.conftest import bundle

ZIPSLIP = "../../../../tmp/zipslip"
VERSIONS = "/api/v1/models/credit-scoring/versions/"


def register(api, developer, label: str):
    return api.as_(developer).post(VERSIONS, bundle(label=label), format="json")


def test_the_api_refuses_a_version_label_that_climbs_out_of_a_path(api, developer, ai_model):
    response = register(api, developer, ZIPSLIP)
    assert response.status_code == 400, response.json()
    assert "label" in response.json()
    assert not ModelVersion.objects.filter(label=ZIPSLIP).exists()


@pytest.mark.parametrize(
    "label", ["..", ".hidden", "a/b", "a\\b", "1.0 beta", "-rf", "a\x00b", "", "1.0;rm"]
)
def test_the_api_refuses_labels_with_separators_or_only_dots(api, developer, ai_model, label):
    response = register(api, developer, label)
    assert response.status_code == 400, response.json()
    assert "label" in response.json()


@pytest.mark.parametrize("label", ["1.0.0", "2.1.0-rc.1", "1.0.0+build.7", "v3_final"])
def test_the_api_accepts_ordinary_labels(api, developer, ai_model, label):
    assert register(api, developer, label).status_code == 201


def test_the_api_refuses_a_model_slug_that_climbs_out_of_a_path(api, risk_officer):
    response = api.as_(risk_officer).post(
        "/api/v1/models/",
        {"slug": "../evil", "name": "Evil", "eu_ai_act_category": "minimal"},
        format="json",
    )
    assert response.status_code == 400
    assert "slug" in response.json()


def test_the_admin_refuses_a_version_label_that_climbs_out_of_a_path(admin_client, ai_model):
    fields = bundle(label=ZIPSLIP)
    form = {
        name: json.dumps(value) if isinstance(value, dict) else value
        for name, value in fields.items()
    }
    response = admin_client.post(
        "/admin/compliance/modelversion/add/", {**form, "model": ai_model.pk}
    )
    assert response.status_code == 200, response.get("Location")
    assert "label" in response.context["adminform"].form.errors
    assert not ModelVersion.objects.exists()


def test_the_database_refuses_a_label_that_climbs_out_of_a_path(version):
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=version.pk).update(label=ZIPSLIP)
    table = AIModel._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET slug = %s WHERE id = %s", ["../evil", version.model_id])
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=version.pk).update(label="1.0.0\n")


def test_an_evidence_pack_names_no_member_outside_itself(api, developer, ai_model, auditor):
    """Whatever the API let in, no member of the model's evidence pack climbs out of it."""
    register(api, developer, ZIPSLIP)
    pack = issue_pack(ai_model, as_of=timezone.now().date(), user=auditor)
    with zipfile.ZipFile(io.BytesIO(bytes(pack.content))) as archive:
        names = archive.namelist()
    assert names
    for name in names:
        assert not name.startswith("/") and "\\" not in name, name
        assert ".." not in name.split("/"), name
        assert "/.." not in name, name
