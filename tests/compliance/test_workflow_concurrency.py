"""Concurrent workflow actions on PostgreSQL take turns on the row they change: two validators
approving at once complete the four-eyes approval; two deployments at once leave one champion."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from compliance import workflow
from compliance.choices import VersionState
from compliance.models import Deployment, ModelVersion
from tests.audit.conftest import POSTGRES
from tests.compliance.test_workflow_support import approved, events, in_validation, new_version
from tests.compliance.test_workflow_support import review as write_review

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not POSTGRES, reason="concurrent transactions need PostgreSQL"),
]


def at_once(*calls) -> list[BaseException]:
    """Run each call in its own thread and connection, released together; return the errors."""
    start, errors = threading.Barrier(len(calls)), []

    def run(call):
        try:
            start.wait(10)
            call()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return errors


def test_two_validators_approving_at_once_complete_the_approval(
    version, developer, validator, second_validator
):
    in_validation(version, developer, validator)
    write_review(version, validator)
    write_review(version, second_validator)

    errors = at_once(
        lambda: workflow.approve_version(version, validator),
        lambda: workflow.approve_version(version, second_validator),
    )

    assert errors == []
    assert ModelVersion.objects.get(pk=version.pk).state == VersionState.APPROVED
    assert len(events("version.approved")) == 1
    assert len(events("version.approval_recorded")) == 1


def test_two_deployments_at_once_leave_one_champion_and_a_rollback_path(
    version, ai_model, developer, validator, second_validator, risk_officer
):
    approved(version, developer, validator, second_validator)
    other = approved(
        new_version(ai_model, developer, "1.1.0"), developer, validator, second_validator
    )

    errors = at_once(
        lambda: workflow.deploy_version(version, risk_officer, reason="first"),
        lambda: workflow.deploy_version(other, risk_officer, reason="second"),
    )

    assert errors == []
    champion = Deployment.objects.active().get(environment="production")
    assert champion.previous is not None and champion.previous.version != champion.version
    assert Deployment.objects.count() == 2
