"""Helpers shared by the workflow tests (this module holds no tests of its own).

They drive versions through the workflow the way people do, so each test can start from the
state it needs in one line.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group

from audit.models import GovernanceEvent
from compliance import workflow
from compliance.choices import Conclusion, Role
from compliance.models import AIModel, ModelVersion
from compliance.roles import GROUP_NAMES
from tests.conftest import bundle, make_user

SATISFACTORY = {
    "scope": "Full validation of the bundle: data, design, performance and fairness.",
    "conceptual_soundness": "Logistic regression on bureau features; monotone, documented.",
    "conceptual_soundness_conclusion": Conclusion.SATISFACTORY,
    "ongoing_monitoring": "Monthly drift and fairness reports scheduled; thresholds set.",
    "ongoing_monitoring_conclusion": Conclusion.SATISFACTORY,
    "outcomes_analysis": "Back-tested on 2025 outcomes: AUC 0.87, stable by quarter.",
    "outcomes_analysis_conclusion": Conclusion.SATISFACTORY,
}


def new_version(model: AIModel, developer, label: str) -> ModelVersion:
    fields = bundle(label=label)
    fields["training_date_from"] = dt.date(2024, 1, 1)
    fields["training_date_to"] = dt.date(2025, 12, 31)
    return ModelVersion.objects.create(model=model, created_by=developer, **fields)


def in_validation(version: ModelVersion, developer, validator) -> ModelVersion:
    workflow.submit_version(version, developer)
    return workflow.start_validation(version, validator)


def review(version: ModelVersion, validator, **overrides):
    return workflow.record_review(version, validator, **{**SATISFACTORY, **overrides})[0]


def approve(version: ModelVersion, *validators) -> ModelVersion:
    """Each validator reviews and approves (two are needed for tier 1 or high-risk)."""
    for validator in validators:
        review(version, validator)
        version = workflow.approve_version(version, validator, "Fit for purpose.")
    return version


def approved(version: ModelVersion, developer, *validators) -> ModelVersion:
    in_validation(version, developer, validators[0])
    return approve(version, *validators)


def deployed(version: ModelVersion, developer, risk_officer, *validators, **kwargs):
    approved(version, developer, *validators)
    kwargs.setdefault("reason", f"go-live of {version.label}")
    return workflow.deploy_version(version, risk_officer, **kwargs)


def developer_validator(name: str = "dora"):
    """A person who holds both roles: the case segregation of duties is for."""
    user = make_user(name, Role.VALIDATOR)
    user.groups.add(Group.objects.get(name=GROUP_NAMES[Role.DEVELOPER]))
    return user


def events(event_type: str) -> list[GovernanceEvent]:
    return list(GovernanceEvent.objects.filter(event_type=event_type).order_by("occurred_at", "pk"))


def assert_event(event_type: str, *, actor: str, before=..., after=..., reason=..., obj=None):
    """The last ``event_type`` event names ``actor`` and has the given before/after/reason
    (``after`` may be a subset of the stored ``after``)."""
    found = events(event_type)
    assert found, f"no {event_type} event in the ledger"
    event = found[-1]
    assert event.actor_name == actor, (event.actor_name, actor)
    if before is not ...:
        assert event.before == before, event.before
    if after is not ...:
        assert event.after is not None and after.items() <= event.after.items(), event.after
    if reason is not ...:
        assert event.reason == reason, event.reason
    if obj is not None:
        assert (event.object_type, event.object_id) == (obj._meta.label, str(obj.pk))
    return event
