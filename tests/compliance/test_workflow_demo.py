"""The demo shows the workflow: 1.0.0 approved by two validators and serving in production;
1.1.0 in validation with an open finding, in the validators' queue. Re-running changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from audit.models import GovernanceEvent
from compliance.models import Deployment, Finding, ModelVersion
from compliance.serving import ServingHistory


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.DEBUG = True
    call_command("seed_demo", "--rows", "2000", stdout=StringIO())


def test_version_1_is_approved_by_both_validators_and_deployed_to_production(demo):
    version = ModelVersion.objects.get(model__slug="credit-scoring", label="1.0.0")
    assert version.state == "approved" and version.approval_is_current()
    approvers = version.reviews.filter(decision="approve").values_list("validator__username")
    assert sorted(name for (name,) in approvers) == ["valerie", "victor"]
    deployment = Deployment.objects.active().get(environment="production")
    assert (deployment.version, deployment.role, deployment.deployed_by.username) == (
        version,
        "champion",
        "rita",
    )
    assert ServingHistory(version.pk, "production").approved(timezone.now())


def test_version_2_waits_in_the_validators_queue_with_an_open_finding(demo):
    retrain = ModelVersion.objects.get(model__slug="credit-scoring", label="1.1.0")
    assert retrain.state == "in_validation"
    [finding] = Finding.objects.filter(version=retrain)
    assert (finding.status, finding.severity, finding.owner.username) == ("open", "high", "devon")
    users = get_user_model().objects
    for validator in ("victor", "valerie"):
        assert list(ModelVersion.objects.awaiting(users.get(username=validator))) == [retrain]


def test_seeding_again_changes_nothing_in_the_workflow(demo):
    events = GovernanceEvent.objects.filter(event_type__regex=r"^(version|deployment|finding)\.")
    before = events.count()
    call_command("seed_demo", "--rows", "2000", stdout=StringIO())
    assert events.count() == before
    assert Deployment.objects.count() == 1 and Finding.objects.count() == 1
