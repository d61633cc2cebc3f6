"""create_user, create_api_key and seed_demo."""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import GovernanceEvent
from compliance.choices import Role
from compliance.keys import revoke_key
from compliance.models import AIModel, UserAPIKey
from compliance.roles import has_role


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_user_gives_the_role_and_prints_a_generated_password(db):
    output = run("create_user", "vera", "--role", "validator", "--email", "vera@example.org")
    user = get_user_model().objects.get(username="vera")
    password = output.split("Password (shown once): ")[1].strip()
    assert has_role(user, Role.VALIDATOR)
    assert user.is_staff and user.check_password(password)


def test_a_service_account_has_no_password_and_no_admin(db):
    run("create_user", "svc", "--role", "service")
    user = get_user_model().objects.get(username="svc")
    assert not user.has_usable_password() and not user.is_staff


def test_create_user_refuses_a_weak_password_and_a_taken_name(db):
    with pytest.raises(CommandError, match="too short"):
        run("create_user", "weak", "--role", "auditor", "--password", "abc")
    run("create_user", "taken", "--role", "auditor")
    with pytest.raises(CommandError, match="already exists"):
        run("create_user", "taken", "--role", "auditor")


def test_create_api_key_prints_a_key_that_works_once_and_stores_only_its_hash(validator, ai_model):
    key = run("create_api_key", "--user", "victor", "--all-models", "--action", "read_inventory")
    key = key.strip()
    stored = UserAPIKey.objects.get(user=validator)
    assert key not in stored.hashed_key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get("/api/v1/models/").status_code == 200

    revoke_key(stored, reason="test")
    response = client.get("/api/v1/models/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_an_expired_key_is_refused(validator, ai_model):
    key = run(
        "create_api_key",
        "--user",
        "victor",
        "--all-models",
        "--all-actions",
        "--expires-in-days",
        "30",
    ).strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get("/api/v1/models/").status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        response = client.get("/api/v1/models/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_create_api_key_needs_a_known_user(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run("create_api_key", "--user", "ghost")


def test_create_api_key_scopes_the_key_and_records_its_issue_in_the_ledger(service, ai_model):
    key = run(
        "create_api_key",
        "--user",
        "scoring-service",
        "--model",
        "credit-scoring",
        "--action",
        "log_predictions",
        "--reason",
        "production scoring",
    ).strip()
    stored = UserAPIKey.objects.get(user=service)
    assert (stored.model_slugs, stored.actions) == ({"credit-scoring"}, ["log_predictions"])
    event = GovernanceEvent.objects.get(event_type="api_key.issued")
    assert event.object_id == stored.prefix and event.reason == "production scoring"
    assert event.after["models"] == ["credit-scoring"]
    assert key.partition(".")[2] not in bytes(event.entry.canonical).decode()


def test_create_api_key_takes_an_expiry_day(service, ai_model):
    run(
        "create_api_key",
        "--user",
        "scoring-service",
        "--all-models",
        "--all-actions",
        "--expires",
        "2099-01-31",
    )
    stored = UserAPIKey.objects.get(user=service)
    assert stored.expiry_date == dt.datetime(2099, 1, 31, tzinfo=dt.UTC)
    with pytest.raises(CommandError, match="in the future"):
        run(
            "create_api_key",
            "--user",
            "scoring-service",
            "--all-models",
            "--all-actions",
            "--expires",
            "2000-01-01",
        )


def test_create_api_key_needs_a_scope(service, ai_model):
    with pytest.raises(CommandError, match="needs a model"):
        run("create_api_key", "--user", "scoring-service", "--action", "log_predictions")
    with pytest.raises(CommandError, match="at least one action"):
        run("create_api_key", "--user", "scoring-service", "--model", "credit-scoring")
    with pytest.raises(CommandError, match="No model ghost"):
        run("create_api_key", "--user", "scoring-service", "--model", "ghost", "--all-actions")
    assert not UserAPIKey.objects.exists()


def test_seed_demo_registers_the_trained_model_and_is_rerunnable(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.DEBUG = True
    output = run("seed_demo", "--rows", "2000")
    assert "API key of scoring-service:" in output
    model = AIModel.objects.get(slug="credit-scoring")
    version = model.versions.get(label="1.0.0")
    artifact = tmp_path / "artifacts" / "credit-scoring-1.0.0.skops"
    assert version.artifact_sha256 == hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert version.evaluation_metrics["roc_auc"] > 0.7
    assert set(version.baselines["features"]) == set(version.input_schema["properties"])
    assert {"rita", "victor", "valerie", "audrey", "devon"} <= set(
        get_user_model().objects.values_list("username", flat=True)
    )

    run("seed_demo", "--rows", "2000")
    assert model.versions.count() == 2  # 1.0.0 and its retrain 1.1.0
    assert UserAPIKey.objects.filter(revoked=False, user__username="scoring-service").count() == 1


def test_seed_demo_refuses_to_run_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        run("seed_demo")
