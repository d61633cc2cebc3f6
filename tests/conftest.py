"""Personas and shared objects for the whole suite."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections
from pytest_django.plugin import blocking_manager_key
from rest_framework.test import APIClient

from compliance.choices import EUAIActCategory, KeyAction, RiskTier, Role
from compliance.keys import issue_key
from compliance.models import AIModel, ModelVersion
from compliance.roles import GROUP_NAMES, STAFF_ROLES


def _move_the_clock() -> None:
    """``ATTEST_TEST_CLOCK=YYYY-MM-DD``: run this process and every one it starts on that date
    (``tests/support/clock/sitecustomize.py``)."""
    folder = Path(__file__).parent / "support" / "clock"
    spec = importlib.util.spec_from_file_location("attest_test_clock", folder / "sitecustomize.py")
    clock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clock)  # moves this process's clock, when asked
    if os.environ.get(clock.OFFSET):
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(folder), os.environ.get("PYTHONPATH")) if p
        )


_move_the_clock()

# One signing key for the whole run, as production would set it (tests run with DEBUG off).
os.environ.setdefault(
    "LEDGER_SIGNING_KEY",
    Ed25519PrivateKey.generate()
    .private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    .decode(),
)


def make_user(username: str, role: Role | None):
    user = get_user_model().objects.create_user(
        username=username,
        password="correct horse battery staple",
        email=f"{username}@example.org",
        is_staff=role in STAFF_ROLES,
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
    return user


@pytest.fixture
def risk_officer(db):
    return make_user("rita", Role.RISK_OFFICER)


@pytest.fixture
def validator(db):
    return make_user("victor", Role.VALIDATOR)


@pytest.fixture
def second_validator(db):
    return make_user("valerie", Role.VALIDATOR)


@pytest.fixture
def auditor(db):
    return make_user("audrey", Role.AUDITOR)


@pytest.fixture
def developer(db):
    return make_user("devon", Role.DEVELOPER)


@pytest.fixture
def service(db):
    return make_user("scoring-service", Role.SERVICE)


@pytest.fixture
def outsider(db):
    return make_user("otto", None)


@pytest.fixture
def api():
    """An API client; ``api.as_(user)`` logs in with a fresh API key of that user, scoped to
    every model and action (so the user's role decides)."""

    client = APIClient()

    def as_(user):
        _, key = issue_key(user=user, all_models=True, actions=KeyAction.values, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client

    client.as_ = as_
    return client


def input_schema() -> dict:
    return {
        "type": "object",
        "properties": {
            "income": {"type": "number", "title": "Annual income"},
            "age": {"type": "integer", "minimum": 18},
        },
        "required": ["income"],
    }


def bundle(**overrides) -> dict:
    """Bundle fields of a valid version, as the API takes them."""
    fields = {
        "label": "1.0.0",
        "artifact_uri": "s3://models/credit/1.0.0/model.skops",
        "artifact_sha256": "a" * 64,
        "training_data_uri": "s3://data/credit/train-2025.parquet",
        "training_data_sha256": "b" * 64,
        "training_row_count": 15000,
        "training_date_from": "2024-01-01",
        "training_date_to": "2025-12-31",
        "feature_pipeline_version": "features-2025.12",
        "input_schema": input_schema(),
        "code_commit": "3f2c1e9",
        "configuration": {"C": 1.0, "max_iter": 500},
        "score_of": "favourable",
        "evaluation_metrics": {"accuracy": 0.81, "roc_auc": 0.87},
        "baselines": {},
    }
    fields.update(overrides)
    return fields


def credit_scoring(owner, developer, **fields) -> AIModel:
    """The suite's model: high-risk credit scoring owned by ``owner``, ``developer``'s team."""
    model = AIModel.objects.create(
        name="Retail credit scoring",
        slug="credit-scoring",
        risk_tier=RiskTier.HIGH,
        eu_ai_act_category=EUAIActCategory.HIGH_RISK,
        annex_iii_area="essential_services",
        sensitive_attributes=["sex", "age_band"],
        business_owner=owner,
        **fields,
    )
    model.developing_team.add(developer)
    return model


@pytest.fixture
def ai_model(db, risk_officer, developer):
    return credit_scoring(risk_officer, developer)


@pytest.fixture
def version(ai_model, developer):
    fields = bundle()
    fields["training_date_from"] = dt.date(2024, 1, 1)
    fields["training_date_to"] = dt.date(2025, 12, 31)
    return ModelVersion.objects.create(model=ai_model, created_by=developer, **fields)


def personal_schema() -> dict:
    """An input schema with two personal fields, encrypted per data subject at ingest."""
    return {
        "type": "object",
        "properties": {
            "income": {"type": "number"},
            "email": {"type": "string", "x-personal": True},
            "name": {"type": "string", "x-personal": True},
        },
        "required": ["income"],
    }


@pytest.fixture
def personal_version(ai_model, developer):
    fields = bundle(label="2.0.0", input_schema=personal_schema())
    fields["training_date_from"] = dt.date(2024, 1, 1)
    fields["training_date_to"] = dt.date(2025, 12, 31)
    return ModelVersion.objects.create(model=ai_model, created_by=developer, **fields)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    names = getattr(item, "fixturenames", ())
    return (
        "transactional_db" in names
        or "live_server" in names
        or bool(marker and marker.kwargs.get("transaction"))
    )


def _browser_test(item) -> bool:
    """A live-server test case (tests/e2e): it empties the tables itself (see its base)."""
    from django.test import TestCase, TransactionTestCase

    cls = getattr(item, "cls", None)
    return (
        cls is not None and issubclass(cls, TransactionTestCase) and not issubclass(cls, TestCase)
    )


_dropped_triggers: list[str] = []


def _append_only_triggers(create: bool) -> None:
    """SQLite: drop every append-only trigger (keeping its SQL), or put them all back."""
    with connections["default"].cursor() as cursor:
        if create:
            while _dropped_triggers:
                cursor.execute(_dropped_triggers.pop())
            return
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND (name LIKE '%_no_update' OR name LIKE '%_no_delete')"
        )
        for name, sql in cursor.fetchall():
            _dropped_triggers.append(sql)
            cursor.execute(f"DROP TRIGGER {name}")


@pytest.fixture(autouse=True)
def _ledger_reset_after_transactional_tests(request):
    """A transactional test ends by emptying every table, which the ledger's triggers refuse.

    As the database superuser they are switched off for that clean-up only (PostgreSQL: replica
    mode for the session, which Django closes afterwards; SQLite: dropped, then recreated by
    ``pytest_runtest_teardown`` below).
    """
    if not _transactional(request.node):
        yield
        return
    request.getfixturevalue("_django_db_helper")  # its teardown (the flush) then runs after ours
    yield
    connection = connections["default"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    else:
        _append_only_triggers(create=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    if nextitem is None or not (_transactional(item) or _browser_test(item)):
        return  # nothing was emptied, or the session is over and the test database gone
    # Put back what the migrations created (triggers, roles), as the next test expects.
    with item.config.stash[blocking_manager_key].unblock():
        connection = connections["default"]
        if connection.vendor == "sqlite":
            _append_only_triggers(create=True)
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents:
            connection.creation.deserialize_db_from_string(contents)
