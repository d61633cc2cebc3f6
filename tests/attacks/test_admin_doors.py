"""Issue #16, hole 2: the admin was not held to the API's rules. A developer not on a model's
team edited that model's draft version and added a version to it through the admin, which the
API refuses. Every admin write now asks the same rule as the API
(``compliance.roles.outside_team``); tests/compliance/test_admin_permission_matrix.py walks
every admin URL."""

from __future__ import annotations

import json

from compliance.models import ModelVersion
from modelcards.models import ModelNarrative
from tests.attacks import doors_support
from tests.attacks.doors_support import change_form_data, logged_in
from tests.conftest import bundle

doors_other_developer = doors_support.doors_other_developer  # a fixture
doors_other_model = doors_support.doors_other_model  # a fixture

ADD_VERSION = "/admin/compliance/modelversion/add/"


def add_version_form(model, label: str) -> dict:
    """The admin's add form of a version, filled in as a developer would."""
    fields = bundle(label=label)
    data = {"model": model.pk}
    for name in ModelVersion.BUNDLE_FIELDS:
        value = fields[name]
        data[name] = json.dumps(value) if isinstance(value, dict) else value
    return data


def test_a_developer_of_another_team_cannot_edit_a_draft_version_in_the_admin(
    doors_other_developer, version
):
    client = logged_in(doors_other_developer)
    url = f"/admin/compliance/modelversion/{version.pk}/change/"
    data = change_form_data(client, url, version, doors_other_developer, code_commit="bad0bad")

    response = client.post(url, data)

    assert response.status_code == 403
    version.refresh_from_db()
    assert version.code_commit == "3f2c1e9"


def test_a_developer_of_another_team_cannot_add_a_version_to_a_model_in_the_admin(
    doors_other_developer, ai_model
):
    response = logged_in(doors_other_developer).post(
        ADD_VERSION, add_version_form(ai_model, "9.9.9")
    )

    assert response.status_code == 403
    assert not ModelVersion.objects.filter(label="9.9.9").exists()


def test_the_models_own_developer_still_registers_and_edits_versions_in_the_admin(
    developer, ai_model
):
    client = logged_in(developer)
    added = client.post(ADD_VERSION, add_version_form(ai_model, "9.9.9"))
    assert added.status_code == 302, added.content.decode()[-1500:]
    version = ModelVersion.objects.get(model=ai_model, label="9.9.9")
    assert version.created_by == developer

    url = f"/admin/compliance/modelversion/{version.pk}/change/"
    edited = client.post(
        url, change_form_data(client, url, version, developer, code_commit="c0ffee")
    )
    assert edited.status_code == 302, edited.content.decode()[-1500:]
    version.refresh_from_db()
    assert version.code_commit == "c0ffee"


def test_a_developer_of_another_team_cannot_edit_a_models_narrative_in_the_admin(
    doors_other_developer, ai_model
):
    narrative = ModelNarrative.objects.create(model=ai_model, methodology="Logistic regression.")
    client = logged_in(doors_other_developer)
    url = f"/admin/modelcards/modelnarrative/{narrative.pk}/change/"
    data = change_form_data(client, url, narrative, doors_other_developer, methodology="Magic.")

    response = client.post(url, data)

    assert response.status_code == 403
    narrative.refresh_from_db()
    assert narrative.methodology == "Logistic regression."


def test_a_developer_of_another_team_cannot_write_a_models_narrative_in_the_admin(
    doors_other_developer, ai_model
):
    response = logged_in(doors_other_developer).post(
        "/admin/modelcards/modelnarrative/add/", {"model": ai_model.pk, "methodology": "Magic."}
    )

    assert response.status_code == 403
    assert not ModelNarrative.objects.filter(model=ai_model).exists()
