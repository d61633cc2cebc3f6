"""Every API endpoint × every principal: who gets in, as a table.

The endpoints come from the URL resolver, so a new endpoint without a row in ``EXPECTED``
fails the suite. Write requests carry a body no endpoint accepts (a JSON list where an
object is expected), so a principal that gets past authentication, role and key scope gets
the endpoint's validation answer and nothing changes between principals.

Principals: anonymous; each role with a key for every model and action (the role decides);
and keys of a user whose role allows the endpoint: in scope, for another model, lacking the
endpoint's action, expired, revoked.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from audit.ingest import ingest_predictions
from audit.ledger import raise_alert
from audit.models import Alert
from compliance.choices import EUAIActCategory, KeyAction, RiskTier, Severity
from compliance.keys import issue_key, revoke_key
from compliance.models import AIModel, Condition, Finding, MonitoringReport
from tests.audit.conftest import prediction

R, V, A, D, S = "risk_officer", "validator", "auditor", "developer", "service"
EVERYONE = {R, V, A, D, S}
STAFF_READERS = {R, V, A, D}
K = KeyAction

# (url name, method): (the key action it needs, whether its URL names a model the key's scope
# is checked against, the roles that may, the status those get, the status the others get).
# Objects that do not exist here (a document, a job, an artifact, a checkpoint) answer 404 to
# whoever may look; lists answer with the models in the key's scope; a body's models (ingest,
# oversight, a new model) are checked once the body is valid (tests/compliance/test_api_keys.py).
EXPECTED: dict[tuple[str, str], tuple[str, bool, set[str], int, int]] = {
    ("model-list", "GET"): (K.READ_INVENTORY, False, STAFF_READERS, 200, 403),
    ("model-list", "POST"): (K.MANAGE_INVENTORY, False, {R}, 400, 403),
    ("model-detail", "GET"): (K.READ_INVENTORY, True, STAFF_READERS, 200, 403),
    ("model-detail", "PUT"): (K.MANAGE_INVENTORY, True, {R}, 400, 403),
    ("model-detail", "PATCH"): (K.MANAGE_INVENTORY, True, {R}, 400, 403),
    ("version-list", "GET"): (K.READ_INVENTORY, True, STAFF_READERS, 200, 403),
    ("version-list", "POST"): (K.MANAGE_INVENTORY, True, {D}, 400, 403),
    ("version-detail", "GET"): (K.READ_INVENTORY, True, STAFF_READERS, 200, 403),
    ("version-detail", "PUT"): (K.MANAGE_INVENTORY, True, {D}, 400, 403),
    ("version-detail", "PATCH"): (K.MANAGE_INVENTORY, True, {D}, 400, 403),
    ("version-status", "GET"): (K.READ_INVENTORY, True, STAFF_READERS, 200, 403),
    ("version-timeline", "GET"): (K.READ_INVENTORY, True, STAFF_READERS, 200, 403),
    ("version-submit", "POST"): (K.RUN_WORKFLOW, True, {D}, 400, 403),
    ("version-start-validation", "POST"): (K.RUN_WORKFLOW, True, {V}, 400, 403),
    ("version-approve", "POST"): (K.RUN_WORKFLOW, True, {V}, 400, 403),
    ("version-reject", "POST"): (K.RUN_WORKFLOW, True, {V}, 400, 403),
    ("version-deploy", "POST"): (K.RUN_WORKFLOW, True, {R}, 400, 403),
    ("version-retire", "POST"): (K.RUN_WORKFLOW, True, {R}, 400, 403),
    ("version-reviews", "GET"): (K.READ_INVENTORY, True, STAFF_READERS, 200, 403),
    ("version-reviews", "POST"): (K.RUN_WORKFLOW, True, {V}, 400, 403),
    ("version-findings", "GET"): (K.READ_INVENTORY, True, STAFF_READERS, 200, 403),
    ("version-findings", "POST"): (K.RUN_WORKFLOW, True, {V}, 400, 403),
    ("version-conditions", "GET"): (K.READ_INVENTORY, True, STAFF_READERS, 200, 403),
    ("version-conditions", "POST"): (K.RUN_WORKFLOW, True, {V}, 400, 403),
    # Which role may resolve depends on the resolution: the workflow decides once it is valid.
    ("finding-resolve", "POST"): (K.RUN_WORKFLOW, True, EVERYONE, 400, 403),
    ("condition-meet", "POST"): (K.RUN_WORKFLOW, True, {V}, 400, 403),
    ("model-rollback", "POST"): (K.RUN_WORKFLOW, True, {R}, 400, 403),
    ("model-deployments", "GET"): (K.READ_INVENTORY, True, STAFF_READERS, 200, 403),
    ("oversight", "POST"): (K.RECORD_OVERSIGHT, False, {R, S}, 400, 403),
    ("version-artifact", "GET"): (K.READ_INVENTORY, True, STAFF_READERS, 404, 403),
    # Uploads are multipart: a JSON body is refused as unsupported once the role may upload.
    ("version-artifact", "POST"): (K.MANAGE_INVENTORY, True, {D}, 415, 403),
    ("version-importance", "GET"): (K.READ_REPORTS, True, STAFF_READERS, 200, 403),
    ("report-list", "GET"): (K.READ_REPORTS, False, STAFF_READERS, 200, 403),
    ("report-detail", "GET"): (K.READ_REPORTS, True, STAFF_READERS, 200, 403),
    ("report-pdf", "GET"): (K.READ_REPORTS, True, STAFF_READERS, 200, 403),
    ("report-content", "GET"): (K.READ_REPORTS, True, STAFF_READERS, 200, 403),
    ("model-run-report", "POST"): (K.RUN_REPORTS, True, {R, V}, 400, 403),
    ("model-trends", "GET"): (K.READ_REPORTS, True, STAFF_READERS, 200, 403),
    ("prediction-ingest", "POST"): (K.LOG_PREDICTIONS, False, {S}, 400, 403),
    ("outcome-ingest", "POST"): (K.LOG_OUTCOMES, False, {S}, 400, 403),
    ("prediction-receipt", "GET"): (K.READ_LEDGER, True, EVERYONE, 202, 403),
    ("prediction-trail", "GET"): (K.READ_TRAIL, True, EVERYONE, 200, 403),
    ("checkpoint-latest", "GET"): (K.READ_LEDGER, False, EVERYONE, 404, 403),
    ("checkpoint-latest-note", "GET"): (K.READ_LEDGER, False, EVERYONE, 404, 403),
    ("checkpoint", "GET"): (K.READ_LEDGER, False, EVERYONE, 404, 403),
    ("checkpoint-note", "GET"): (K.READ_LEDGER, False, EVERYONE, 404, 403),
    ("checkpoint-consistency", "GET"): (K.READ_LEDGER, False, EVERYONE, 404, 403),
    ("documents", "GET"): (K.ISSUE_DOCUMENTS, True, STAFF_READERS, 200, 403),
    ("documents", "POST"): (K.ISSUE_DOCUMENTS, True, {R, V, A}, 400, 403),
    ("document-job", "GET"): (K.ISSUE_DOCUMENTS, False, {R, V, A}, 404, 403),
    ("document-download", "GET"): (K.ISSUE_DOCUMENTS, False, STAFF_READERS, 404, 403),
    ("alert-acknowledge", "POST"): (K.ACKNOWLEDGE_ALERTS, True, {R}, 400, 403),
}


def endpoints() -> list[tuple[str, str, str]]:
    """(url name, method, route) of every endpoint under /api/v1/."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                view = pattern.callback
                # A viewset maps its methods explicitly; HEAD and OPTIONS follow GET.
                mapped = getattr(view, "actions", None) or view.cls
                methods = [
                    m
                    for m in ("get", "post", "put", "patch", "delete")
                    if (m in mapped if isinstance(mapped, dict) else hasattr(mapped, m))
                ]
                found.extend((pattern.name, m.upper(), route) for m in methods)

    walk(get_resolver().url_patterns, "")
    return sorted(found)


def test_every_endpoint_is_in_the_table():
    missing = [(name, method) for name, method, _ in endpoints() if (name, method) not in EXPECTED]
    assert not missing, f"Add these endpoints to EXPECTED: {missing}"
    stale = set(EXPECTED) - {(name, method) for name, method, _ in endpoints()}
    assert not stale, f"No such endpoints any more: {stale}"


@pytest.fixture
def world(db, version, risk_officer, validator, auditor, developer, service):
    """A model with a version, a prediction, a finding, a condition, a report and an alert; another
    model; the five personas."""
    other = AIModel.objects.create(
        name="Fraud screening",
        slug="fraud-screening",
        risk_tier=RiskTier.LOW,
        eu_ai_act_category=EUAIActCategory.MINIMAL,
        business_owner=risk_officer,
    )
    item = prediction()
    ingest_predictions([item])
    today = timezone.localdate()
    finding = Finding.objects.create(
        version=version,
        title="Thin data",
        description="Few young applicants.",
        severity=Severity.LOW,
        owner=developer,
        due_date=today,
        raised_by=validator,
    )
    condition = Condition.objects.create(
        version=version, description="Monitor monthly.", due_date=today, created_by=validator
    )
    now = timezone.now()
    report = MonitoringReport.objects.create(
        model=version.model,
        version=version,
        window_start=now - dt.timedelta(days=7),
        window_end=now,
        checks=[],
        thresholds={},
        min_group_size=30,
        results={},
        breaches=[],
        passed=True,
        content_sha256="0" * 64,
        created_at=now,
    )
    users = {R: risk_officer, V: validator, A: auditor, D: developer, S: service}
    kwargs = {
        "slug": "credit-scoring",
        "model_slug": "credit-scoring",
        "label": "1.0.0",
        "event_id": item["event_id"],
        "old_size": 1,
        "tree_size": 1,
        "new_size": 1,
        "reference": "no-such-document",
    }
    alert = raise_alert(Alert.Kind.DRIFT_BREACH, model=version.model, message="PSI 0.3 > 0.2")
    objects = {
        "finding": finding.pk,
        "condition": condition.pk,
        "report": report.pk,
        "alert": alert.pk,
    }
    return users, other, kwargs, objects


def url_for(name: str, route: str, kwargs: dict, objects: dict, version_pk: int) -> str:
    values = dict(kwargs)
    if "<int:pk>" in route or "<uuid:pk>" in route:
        owner = name.split("-")[0]
        values["pk"] = objects.get(owner, version_pk) if "<int:pk>" in route else uuid.uuid4()
    path = route
    for key, value in values.items():
        for converter in ("slug", "str", "int", "uuid"):
            path = path.replace(f"<{converter}:{key}>", str(value))
    return "/" + path


def call(client: APIClient, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.generic(method, url, "[]", content_type="application/json")


def with_key(user, **scope) -> APIClient:
    client = APIClient()
    _, secret = issue_key(user=user, **scope)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


@pytest.mark.parametrize(("name", "method", "route"), endpoints())
def test_who_may_call_each_endpoint(world, version, name, method, route):
    users, other, kwargs, objects = world
    action, names_model, allowed, granted, refused = EXPECTED[(name, method)]
    url = url_for(name, route, kwargs, objects, version.pk)
    observed, expected = {}, {}

    observed["anonymous"], expected["anonymous"] = call(APIClient(), method, url).status_code, 401
    for role, user in users.items():
        client = with_key(user, all_models=True, actions=K.values)
        observed[role] = call(client, method, url).status_code
        expected[role] = granted if role in allowed else refused

    if allowed:
        owner = users[sorted(allowed)[0]]
        others = [a for a in K.values if a != action]
        keys = {
            "key in scope": with_key(owner, models=[version.model], actions=[action]),
            "key for another model": with_key(owner, models=[other], actions=[action]),
            "key lacking the action": with_key(owner, models=[version.model], actions=others),
            "expired key": with_key(
                owner,
                models=[version.model],
                actions=[action],
                expiry_date=timezone.now() - dt.timedelta(seconds=1),
            ),
        }
        revoked = with_key(owner, models=[version.model], actions=[action])
        revoke_key(owner.api_keys.order_by("-created").first())
        keys["revoked key"] = revoked
        wanted = {
            "key in scope": granted,
            "key for another model": 403 if names_model else granted,
            "key lacking the action": 403,
            "expired key": 401,
            "revoked key": 401,
        }
        for principal, client in keys.items():
            observed[principal] = call(client, method, url).status_code
            expected[principal] = wanted[principal]
    assert observed == expected, f"{method} {url}"
