"""Approval is judged when a decision was made, not when it is logged (#17, point 1).

Batch scoring is logged days late: a decision made before the approval, or after the model was
stopped or its approval expired, is served unapproved even if the version is approved and
deployed when it is logged. The record's flag, the ledger payload, the alert, the trail, the
dossier and the SR 11-7 count must all say the same.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine

from audit.models import Alert, PredictionRecord
from compliance import workflow
from modelcards.documents import issue
from modelcards.models import DocumentKind
from tests.audit.conftest import prediction
from tests.compliance.test_workflow_support import deployed, new_version
from tests.conftest import credit_scoring
from tests.modelcards.conftest import flat

pytestmark = pytest.mark.django_db


def at(day: int, month: int = 7, year: int = 2026, hour: int = 10):
    return time_machine.travel(dt.datetime(year, month, day, hour, tzinfo=dt.UTC), tick=False)


def decided(day: int, month: int = 7, year: int = 2026) -> str:
    return dt.datetime(year, month, day, 9, 30, tzinfo=dt.UTC).isoformat()


@pytest.fixture
def timeline(risk_officer, developer, validator, second_validator):
    """Created 1 July; approved and deployed to production 2 July."""
    with at(1):
        model = credit_scoring(risk_officer, developer)
        version = new_version(model, developer, "1.0.0")
    with at(2):
        deployed(version, developer, risk_officer, validator, second_validator, reason="go-live")
    version.refresh_from_db()
    return model, version


def log(api, service, *days) -> list[str]:
    """Log, now, one decision made on each of ``days`` (day, month, year); their event ids."""
    items = [prediction(decided_at=decided(*day)) for day in days]
    response = api.as_(service).post(
        "/api/v1/predictions/", json.dumps(items), content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    return [item["event_id"] for item in items]


def flags(event_ids) -> list[bool]:
    """The record's column and the ledger payload's field, which must agree."""
    found = []
    for event_id in event_ids:
        record = PredictionRecord.objects.select_related("entry").get(event_id=event_id)
        assert record.entry.payload()["unapproved_version"] is record.unapproved_version
        found.append(record.unapproved_version)
    return found


def occurrences(model) -> int:
    alert = Alert.objects.filter(kind=Alert.Kind.UNAPPROVED_VERSION, model=model).first()
    return alert.occurrences if alert else 0


def trail(api, auditor, event_id) -> dict:
    response = api.as_(auditor).get(f"/api/v1/predictions/{event_id}/trail/")
    assert response.status_code == 200, response.json()
    return response.json()["approval_at_decision"]


def test_decisions_are_judged_when_made(
    api, service, auditor, risk_officer, timeline, django_capture_on_commit_callbacks
):
    model, version = timeline
    with at(10), django_capture_on_commit_callbacks(execute=True):
        before, after = log(api, service, (1,), (3,))  # made 1 and 3 July, logged 10 July
    with at(12):
        workflow.record_oversight(risk_officer, "stop", model=model, reason="Drift.")
    with at(14), django_capture_on_commit_callbacks(execute=True):
        (stopped,) = log(api, service, (13,))

    assert flags([before, after, stopped]) == [True, False, True]
    assert occurrences(model) == 2  # the decisions of 1 and 13 July

    with at(15):
        early, served, late = (trail(api, auditor, e) for e in (before, after, stopped))
    assert not early["serving_approved"] and early["approval"] is None
    assert early["deployment"] is None  # deployed on 2 July
    assert served["serving_approved"] and served["environment"] == "production"
    assert served["approval"]["event_type"] == "version.approved"
    assert served["approval"]["event_id"] and served["approval"]["entry_id"]
    assert served["deployment"]["event_type"] == "deployment.deployed"
    assert served["deployment"]["event_id"] and served["deployment"]["ended_at"]  # since stopped
    assert not late["serving_approved"] and late["deployment"] is None
    assert late["approval"] is not None  # approved still, but no longer deployed

    with at(15):
        texts = {
            e: flat(issue(DocumentKind.DOSSIER, model, as_of=dt.date(2026, 7, 15),
                          event_id=e).content)
            for e in (before, after, stopped)
        }  # fmt: skip
        sr117 = flat(issue(DocumentKind.SR117, model, as_of=dt.date(2026, 7, 15)).content)
    for event_id, approved in ((before, False), (after, True), (stopped, False)):
        verdict = "yes" if approved else "no"
        assert f"Approved and deployed when it decided {verdict}" in texts[event_id]
        assert (
            f"Served by an approved version deployed in production at the decision time: "
            f"{verdict}" in texts[event_id]
        )
    assert "No approval of version 1.0.0 in force at the decision time" in texts[before]
    assert "No approval of version 1.0.0 in force" not in texts[stopped]
    assert "No deployment of version 1.0.0 in that environment in force" in texts[stopped]
    # pdftotext wraps the label of this row around its value: the count sits inside it.
    assert re.search(r"Served while not approved for its (environment )?2 ", sr117), sr117


def test_a_decision_after_the_approval_expired_is_unapproved(
    api, service, auditor, timeline, django_capture_on_commit_callbacks
):
    model, version = timeline
    expired = version.approval_expires_at + dt.timedelta(days=1)
    lapsed = (expired.day, expired.month, expired.year)
    with at(*lapsed), django_capture_on_commit_callbacks(execute=True):
        (event_id,) = log(api, service, lapsed)
        answer = trail(api, auditor, event_id)
    assert flags([event_id]) == [True]
    assert occurrences(model) == 1
    assert not answer["serving_approved"] and answer["approval"] is None
    assert answer["deployment"]["event_type"] == "deployment.deployed"  # deployed still
