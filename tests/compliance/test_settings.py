"""Settings come from the environment and fail loudly on bad values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-secret-of-sufficient-length-0123456789",
    "ALLOWED_HOSTS": "attest.example.org",
}
# Production keeps the ledger in PostgreSQL; `check` parses the URL and connects to nothing.
POSTGRES_URL = {"DATABASE_URL": "postgres://attest@db.example.org:5432/attest"}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_deploy(tmp_path, **env: str) -> subprocess.CompletedProcess:
    return manage(
        "check", "--deploy", "--fail-level", "WARNING", ATTEST_DATA_DIR=str(tmp_path), **env
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = check_deploy(tmp_path, **PRODUCTION, **POSTGRES_URL)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_without_the_ledger_signing_key(tmp_path):
    result = check_deploy(tmp_path, **PRODUCTION, **POSTGRES_URL, LEDGER_SIGNING_KEY="")
    assert result.returncode != 0
    assert "attest.E001" in result.stderr and "LEDGER_SIGNING_KEY" in result.stderr


def test_check_deploy_warns_when_production_keeps_the_ledger_in_sqlite(tmp_path):
    result = check_deploy(tmp_path, **PRODUCTION)
    assert result.returncode != 0
    assert "attest.W001" in result.stderr


HEADERS = """
import json
from django.test import Client
secure = Client().get("/api/v1/models/", secure=True, HTTP_HOST="attest.example.org")
plain = Client().get("/api/v1/models/", HTTP_HOST="attest.example.org")
print(json.dumps({"secure": dict(secure.headers), "status": secure.status_code,
                  "plain": plain.status_code, "location": plain.headers.get("Location")}))
"""


def test_production_answers_carry_the_security_headers(tmp_path):
    result = manage("shell", "-c", HEADERS, ATTEST_DATA_DIR=str(tmp_path), **PRODUCTION)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["plain"] == 301  # plain HTTP goes to HTTPS
    assert answers["location"] == "https://attest.example.org/api/v1/models/"
    assert answers["status"] == 401
    headers = answers["secure"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_check_deploy_warns_with_development_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", ATTEST_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DEBUG": "false", "ALLOWED_HOSTS": "x"}, "SECRET_KEY (or SECRET_KEY_FILE) must be set"),
        ({**PRODUCTION, "SECRET_KEY": "short"}, "SECRET_KEY is too weak"),
        ({"SECURE_HSTS_SECONDS": "a year"}, "SECURE_HSTS_SECONDS='a year' is not an integer"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must be a postgres:// URL"),
        ({"SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE='/nonexistent/secret'"),
    ],
)
def test_a_bad_setting_stops_start_up_with_a_clear_message(env, message, tmp_path):
    result = manage("check", ATTEST_DATA_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_the_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(PRODUCTION["SECRET_KEY"] + "\n")
    env = {**PRODUCTION, **POSTGRES_URL, "SECRET_KEY": "", "SECRET_KEY_FILE": str(secret)}
    result = check_deploy(tmp_path, **env)
    assert result.returncode == 0, result.stderr
