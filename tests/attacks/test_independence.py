"""Attack family: independence without memory (issue #16, hole 5).

A validator put on the developing team and taken off again is not independent of a version
registered before she left: the ledger remembers the team. And one person cannot hold a second
account under the same e-mail address in other letters.
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from compliance import workflow
from compliance.choices import VersionState
from compliance.models import ModelVersion
from modelcards import evidence
from tests.compliance.test_workflow_support import (
    SATISFACTORY,
    in_validation,
    new_version,
    review,
)

SEGREGATION = "Segregation of duties"


def team_of(api, risk_officer, *usernames: str) -> None:
    """The risk officer sets the developing team of credit-scoring through the API."""
    response = api.as_(risk_officer).patch(
        "/api/v1/models/credit-scoring/", {"developing_team": list(usernames)}, format="json"
    )
    assert response.status_code == 200, response.json()


@pytest.fixture
def valerie_was_on_the_team(api, risk_officer, version, developer, validator, second_validator):
    """Valerie joins the team of credit-scoring after 1.0.0 is registered, then leaves it;
    Victor takes the version into validation and approves it."""
    team_of(api, risk_officer, "devon", "valerie")
    team_of(api, risk_officer, "devon")
    in_validation(version, developer, validator)
    review(version, validator)
    workflow.approve_version(version, validator, "Sound.")
    return version


def test_a_validator_removed_from_the_team_cannot_approve_through_the_api(
    api, valerie_was_on_the_team, second_validator
):
    version = valerie_was_on_the_team
    client = api.as_(second_validator)
    reviewed = client.post(f"/api/v1/versions/{version.pk}/reviews/", SATISFACTORY, format="json")
    assert reviewed.status_code == 403, reviewed.json()
    response = client.post(
        f"/api/v1/versions/{version.pk}/approve/", {"reason": "I have left the team."}
    )
    assert response.status_code == 403, response.json()
    detail = response.json()["detail"]
    assert SEGREGATION in detail
    assert "valerie was on the developing team of credit-scoring" in detail
    assert ModelVersion.objects.get(pk=version.pk).state == VersionState.IN_VALIDATION


def test_a_validator_removed_from_the_team_cannot_approve_in_the_admin(
    valerie_was_on_the_team, second_validator
):
    version = valerie_was_on_the_team
    client = Client()
    client.force_login(second_validator)
    client.post(
        f"/admin/compliance/modelversion/{version.pk}/act/review/",
        {**SATISFACTORY, "reason": ""},
    )
    response = client.post(
        f"/admin/compliance/modelversion/{version.pk}/act/approve/",
        {"reason": "I have left the team."},
        follow=True,
    )
    page = response.content.decode()
    assert f"Approve refused for credit-scoring 1.0.0: {SEGREGATION}" in page
    assert "valerie was on the developing team of credit-scoring" in page
    assert ModelVersion.objects.get(pk=version.pk).state == VersionState.IN_VALIDATION


def test_a_validator_who_left_the_team_before_a_version_was_registered_may_validate_it(
    api, risk_officer, ai_model, developer, validator, second_validator
):
    team_of(api, risk_officer, "devon", "valerie")
    team_of(api, risk_officer, "devon")
    later = new_version(ai_model, developer, "2.0.0")
    in_validation(later, developer, validator)
    assert later.independence_problem(second_validator) is None


def test_a_second_account_with_the_same_email_in_other_letters_is_refused_by_the_command(
    risk_officer,
):
    with pytest.raises(CommandError, match="already has the e-mail address"):
        call_command(
            "create_user", "rita2", "--role", "validator", "--email", "RITA@Example.org",
            stdout=io.StringIO(),
        )  # fmt: skip
    assert not get_user_model().objects.filter(username="rita2").exists()


def test_a_second_account_with_the_same_email_is_refused_by_the_admin(
    risk_officer, validator, admin_client
):
    add = admin_client.post(
        "/admin/auth/user/add/",
        {
            "username": "rita2",
            "email": "Rita@EXAMPLE.org",
            "usable_password": "false",
            "password1": "",
            "password2": "",
        },
    )
    assert add.status_code == 200  # the form again, with the error
    assert "already has the e-mail address" in add.content.decode()
    assert not get_user_model().objects.filter(username="rita2").exists()

    change = admin_client.get(f"/admin/auth/user/{validator.pk}/change/")
    form = change.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("groups", "user_permissions", "password")
    }
    data.update(
        email="RITA@example.org",
        date_joined_0=validator.date_joined.date().isoformat(),
        date_joined_1="00:00:00",
    )
    changed = admin_client.post(f"/admin/auth/user/{validator.pk}/change/", data)
    assert changed.status_code == 200, changed.get("Location")
    assert "already has the e-mail address" in changed.content.decode()
    validator.refresh_from_db()
    assert validator.email == "victor@example.org"


def test_the_database_refuses_a_second_account_with_the_same_email(risk_officer):
    with pytest.raises(IntegrityError), transaction.atomic():
        get_user_model().objects.create(username="rita2", email="RITA@example.ORG")
    table = get_user_model()._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (username, email, password, first_name, last_name, "
            "is_superuser, is_staff, is_active, date_joined) "
            "VALUES ('rita3', 'rita@example.org', '', '', '', %s, %s, %s, %s)",
            [False, False, True, risk_officer.date_joined],
        )
    # Accounts without an e-mail address are not one person: several may exist.
    get_user_model().objects.create(username="no-mail-1", email="")
    get_user_model().objects.create(username="no-mail-2", email="")


def test_the_validation_report_names_a_reviewer_who_joined_the_team_afterwards(
    api, risk_officer, version, developer, validator, second_validator
):
    """The documents check independence as the workflow does, the team's memory included."""
    in_validation(version, developer, validator)
    review(version, second_validator)
    team_of(api, risk_officer, "devon", "valerie")
    team_of(api, risk_officer, "devon")
    facts = evidence.gather(version.model, timezone.now().date(), "1.0.0")
    problems = {i["validator"]: i["problems"] for i in facts["workflow"]["independence"]}
    assert problems["valerie"] == ["was on the developing team after the version was registered"]
