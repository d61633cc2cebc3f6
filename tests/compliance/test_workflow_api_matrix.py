"""Every transition × every role through the API: the one role allowed succeeds; every other
role is refused with 403 and a message that says who may; nobody unauthenticated gets in (401);
and every action the state does not allow is a 409 naming the state and what it allows."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from compliance import workflow
from compliance.choices import VersionState
from compliance.models import ModelVersion
from tests.compliance.test_workflow_support import (
    approve,
    deployed,
    in_validation,
    new_version,
    review,
)

PERSONAS = ["risk_officer", "validator", "auditor", "developer", "service", "outsider"]

# action -> (the role allowed, success status, what the others are told)
TRANSITIONS = {
    "submit": ("developer", 200, "Only developers of the model's team may submit a version."),
    "start-validation": ("validator", 200, "Only validators may start a validation."),
    "approve": ("validator", 200, "Only validators may approve a version."),
    "reject": ("validator", 200, "Only validators may reject a version."),
    "deploy": ("risk_officer", 201, "Only risk officers may deploy a version."),
    "retire": ("risk_officer", 200, "Only risk officers may retire a version."),
    "rollback": ("risk_officer", 201, "Only risk officers may roll back a deployment."),
}


@pytest.fixture
def people(risk_officer, validator, second_validator, auditor, developer, service, outsider):
    return {
        "risk_officer": risk_officer,
        "validator": validator,
        "second_validator": second_validator,
        "auditor": auditor,
        "developer": developer,
        "service": service,
        "outsider": outsider,
    }


def prepare(action: str, version: ModelVersion, people: dict) -> tuple[str, dict]:
    """Bring the version to where ``action`` is allowed; return its URL and body."""
    dev, val, val2, rita = (
        people[p] for p in ("developer", "validator", "second_validator", "risk_officer")
    )
    url = f"/api/v1/versions/{version.pk}/{action}/"
    body = {"reason": "because"}
    if action == "start-validation":
        workflow.submit_version(version, dev)
    elif action in ("approve", "reject"):
        in_validation(version, dev, val)
        review(version, val)
    elif action in ("deploy", "retire"):
        in_validation(version, dev, val)
        approve(version, val, val2)
        body["environment"] = "production"
    elif action == "rollback":
        deployed(version, dev, rita, val, val2)
        deployed(new_version(version.model, dev, "1.1.0"), dev, rita, val, val2)
        url = f"/api/v1/models/{version.model.slug}/rollback/"
    return url, body


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", TRANSITIONS)
def test_each_transition_is_allowed_to_one_role_only(api, people, version, action, persona):
    allowed, success, refusal = TRANSITIONS[action]
    url, body = prepare(action, version, people)
    before = ModelVersion.objects.get(pk=version.pk).state

    response = api.as_(people[persona]).post(url, body)

    if persona == allowed:
        assert response.status_code == success, response.json()
    else:
        assert response.status_code == 403
        assert response.json() == {"detail": refusal}
        assert ModelVersion.objects.get(pk=version.pk).state == before


@pytest.mark.parametrize("action", TRANSITIONS)
def test_each_transition_needs_credentials(people, version, action):
    url, body = prepare(action, version, people)
    response = APIClient().post(url, body)
    assert response.status_code == 401


def to_state(state: str, version: ModelVersion, people: dict) -> ModelVersion:
    dev, val, val2 = people["developer"], people["validator"], people["second_validator"]
    if state == VersionState.DRAFT:
        return version
    if state == VersionState.SUBMITTED:
        return workflow.submit_version(version, dev)
    version = in_validation(version, dev, val)
    if state == VersionState.REJECTED:
        return workflow.reject_version(version, val, "Not fit.")
    if state == VersionState.IN_VALIDATION:
        return version
    version = approve(version, val, val2)
    if state == VersionState.RETIRED:
        return workflow.retire_version(version, people["risk_officer"], "Superseded.")
    return version


ALLOWED = {
    "draft": ["submit"],
    "submitted": ["start-validation"],
    "in_validation": ["review", "record-finding", "add-condition", "approve", "reject"],
    "approved": ["review", "record-finding", "add-condition", "approve", "deploy", "retire"],
    "rejected": [],
    "retired": [],
}
ILLEGAL = [
    (state, action)
    for state, allowed in ALLOWED.items()
    for action in ("submit", "start-validation", "approve", "reject", "deploy", "retire")
    if action not in allowed
]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_an_action_the_state_does_not_allow_is_a_409_naming_state_and_allowed_actions(
    api, people, version, state, action
):
    version = to_state(state, version, people)
    role = TRANSITIONS[action][0]
    response = api.as_(people[role]).post(
        f"/api/v1/versions/{version.pk}/{action}/", {"reason": "because"}
    )
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["rule"] == "lifecycle"
    assert (body["state"], body["allowed"]) == (state, ALLOWED[state])
    label = dict(VersionState.choices)[state].lower()
    assert (
        f"Cannot {action.replace('-', ' ')} credit-scoring 1.0.0: it is {label};"
        in (body["detail"])
    )
    assert ModelVersion.objects.get(pk=version.pk).state == state


@pytest.mark.parametrize("action", ["submit", "approve", "deploy", "retire"])
def test_an_unknown_version_is_a_404(api, people, action):
    role = TRANSITIONS[action][0]
    response = api.as_(people[role]).post(f"/api/v1/versions/999999/{action}/", {"reason": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("reject", {}, "reason"),
        ("reject", {"reason": ""}, "reason"),
        ("retire", {}, "reason"),
        ("deploy", {"environment": "moon", "reason": "x"}, "environment"),
        ("deploy", {"environment": "production"}, "reason"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, people, version, action, body, field):
    url, _ = prepare(action, version, people)
    response = api.as_(people[TRANSITIONS[action][0]]).post(url, body)
    assert response.status_code == 400
    assert field in response.json()


def test_the_workflow_endpoints_are_documented_in_the_openapi_schema(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for action in ("submit", "start-validation", "approve", "reject", "deploy", "retire"):
        post = schema["paths"][f"/api/v1/versions/{{id}}/{action}/"]["post"]
        assert {"200", "403", "409"} <= set(post["responses"]) or "201" in post["responses"]
        assert post["responses"]["409"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/WorkflowError"
        }
    for path in ("/api/v1/models/{slug}/rollback/", "/api/v1/oversight/"):
        assert "post" in schema["paths"][path]
    for children in ("reviews", "findings", "conditions"):
        assert {"get", "post"} <= set(schema["paths"][f"/api/v1/versions/{{id}}/{children}/"])
