"""Any model or version can be shown as it stood on a past date."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from compliance.models import AIModel, ModelVersion

UTC = dt.UTC


def test_a_model_is_shown_as_it_stood_on_a_past_date(risk_officer):
    with time_machine.travel(dt.datetime(2026, 1, 10, tzinfo=UTC), tick=False):
        model = AIModel.objects.create(
            name="Fraud screen", slug="fraud", eu_ai_act_category="minimal", risk_tier=3
        )
    with time_machine.travel(dt.datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        model.risk_tier = 1
        model.name = "Card fraud screen"
        model.save()

    then = model.as_of(dt.datetime(2026, 2, 1, tzinfo=UTC))
    now = model.as_of(dt.datetime(2026, 3, 2, tzinfo=UTC))

    assert (then.name, then.risk_tier) == ("Fraud screen", 3)
    assert (now.name, now.risk_tier) == ("Card fraud screen", 1)
    assert (
        AIModel.history.as_of(dt.datetime(2026, 2, 1, tzinfo=UTC)).get(slug="fraud").risk_tier == 3
    )


def test_a_model_did_not_exist_before_it_was_registered(risk_officer):
    with time_machine.travel(dt.datetime(2026, 1, 10, tzinfo=UTC), tick=False):
        model = AIModel.objects.create(name="X", slug="x", eu_ai_act_category="minimal")
    with pytest.raises(AIModel.DoesNotExist):
        model.as_of(dt.datetime(2025, 12, 31, tzinfo=UTC))


def test_a_version_is_shown_as_it_stood_while_it_was_a_draft(version):
    registered = version.created_at
    with time_machine.travel(registered + dt.timedelta(days=3), tick=False):
        version.code_commit = "fedcba9"
        version.save()

    old = version.as_of(registered + dt.timedelta(days=1))
    assert old.code_commit == "3f2c1e9"
    assert old.manifest_sha256 != version.manifest_sha256
    assert ModelVersion.history.filter(id=version.pk).count() == 2
