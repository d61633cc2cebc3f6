"""Periodic revalidation: approvals expire by tier; an expired one is flagged "revalidation
overdue" with a ledger event and one alert; a revalidation by validators renews it."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from audit.models import Alert
from compliance import settings as attest_settings
from compliance import workflow
from compliance.choices import RiskTier
from compliance.models import ModelVersion, RuleViolation
from tests.compliance.test_workflow_support import approve, approved, events

APPROVED_AT = dt.datetime(2026, 1, 31, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def approve_at(version, developer, validator, second_validator):
    """approve_at(tier): the version approved on 31 January 2026 under that tier."""

    def approve_version(tier=RiskTier.HIGH):
        model = version.model
        model.risk_tier = tier
        model.save()
        with time_machine.travel(APPROVED_AT, tick=False):
            return approved(version, developer, validator, second_validator)

    return approve_version


def check(when: dt.datetime) -> list[ModelVersion]:
    with time_machine.travel(when, tick=False):
        return workflow.check_revalidation()


@pytest.mark.parametrize(
    ("tier", "expires"),
    [
        (RiskTier.HIGH, dt.datetime(2027, 1, 31, 12, 0, tzinfo=dt.UTC)),
        (RiskTier.MEDIUM, dt.datetime(2028, 1, 31, 12, 0, tzinfo=dt.UTC)),
        (RiskTier.LOW, dt.datetime(2029, 1, 31, 12, 0, tzinfo=dt.UTC)),
    ],
)
def test_an_approval_expires_after_the_period_of_its_tier(approve_at, tier, expires):
    version = approve_at(tier)
    assert version.approval_expires_at == expires
    assert check(expires - dt.timedelta(seconds=1)) == []
    assert check(expires) == [version]


def test_the_periods_come_from_settings(approve_at, settings):
    settings.REVALIDATION_MONTHS = {1: 1, 2: 6, 3: 12}
    version = approve_at(RiskTier.HIGH)
    assert version.approval_expires_at == dt.datetime(2026, 2, 28, 12, 0, tzinfo=dt.UTC)


def test_a_period_that_is_not_a_positive_number_stops_start_up(monkeypatch):
    monkeypatch.setenv("REVALIDATION_MONTHS_TIER_1", "0")
    with pytest.raises(ImproperlyConfigured, match="REVALIDATION_MONTHS_TIER_1=0 must be 1"):
        attest_settings.env_positive_int("REVALIDATION_MONTHS_TIER_1", 12)
    monkeypatch.setenv("REVALIDATION_MONTHS_TIER_1", "a year")
    with pytest.raises(ImproperlyConfigured, match="is not an integer"):
        attest_settings.env_positive_int("REVALIDATION_MONTHS_TIER_1", 12)


def test_an_expired_approval_is_flagged_once_with_an_event_and_one_alert(approve_at):
    version = approve_at()
    later = dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
    assert check(later) == [version]
    assert check(later + dt.timedelta(days=1)) == []  # flagged once, not every run

    version.refresh_from_db()
    assert version.revalidation_overdue_since == later
    [event] = events("version.revalidation_overdue")
    assert (event.actor_name, event.before, event.after) == (
        "system",
        {"revalidation_overdue": False},
        {"revalidation_overdue": True, "approval_expired_at": "2027-01-31T12:00:00Z"},
    )
    assert "tier 1 approvals last 12 months" in event.reason
    [alert] = Alert.objects.filter(kind=Alert.Kind.REVALIDATION_OVERDUE)
    assert (alert.version, alert.occurrences) == (version, 1)
    assert "credit-scoring 1.0.0 needs revalidation" in alert.message


def test_the_command_is_quiet_unless_it_flags_something(approve_at):
    approve_at()
    out = StringIO()
    with time_machine.travel(dt.datetime(2027, 3, 1, tzinfo=dt.UTC)):
        call_command("check_revalidations", stdout=out)
        assert out.getvalue() == (
            "Revalidation overdue: credit-scoring 1.0.0 (approval expired 2027-01-31)\n"
        )
        again = StringIO()
        call_command("check_revalidations", stdout=again)
        assert again.getvalue() == ""
        call_command("check_revalidations", stdout=again, verbosity=2)
        assert again.getvalue() == "1 version(s) overdue for revalidation in all.\n"


def test_an_overdue_version_waits_in_the_validators_queue_and_cannot_be_deployed(
    approve_at, validator, risk_officer
):
    version = approve_at()
    assert list(ModelVersion.objects.awaiting(validator)) == []
    with time_machine.travel(dt.datetime(2027, 2, 1, tzinfo=dt.UTC)):
        workflow.check_revalidation()
        assert list(ModelVersion.objects.awaiting(validator)) == [version]
        with pytest.raises(RuleViolation, match="Revalidation overdue: the approval of"):
            workflow.deploy_version(version, risk_officer, reason="go-live")


def test_a_revalidation_by_two_validators_renews_the_approval(
    approve_at, validator, second_validator
):
    version = approve_at()
    revalidated_at = dt.datetime(2027, 2, 10, tzinfo=dt.UTC)
    with time_machine.travel(revalidated_at, tick=False):
        workflow.check_revalidation()
        version = approve(ModelVersion.objects.get(pk=version.pk), validator)
        assert version.revalidation_overdue_since is not None  # one of two
        version = approve(version, second_validator)
    assert version.revalidation_overdue_since is None
    assert version.approved_at == revalidated_at
    assert version.approval_expires_at == dt.datetime(2028, 2, 10, tzinfo=dt.UTC)
    assert version.reviews.filter(cycle=2).count() == 2
    assert events("version.approved")[-1].after["cycle"] == 2
