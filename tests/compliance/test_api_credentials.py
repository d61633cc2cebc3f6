"""A call without credentials, or with wrong ones, is told what to send."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from compliance.choices import KeyAction
from compliance.keys import issue_key, revoke_key

SEND = 'Send "Authorization: Api-Key <key>".'


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [None, "Bearer abc", "Api-Key nonsense", "Api-Key abcdefgh.wrongsecret"],
    ids=["none", "other-scheme", "malformed", "unknown"],
)
def test_missing_or_wrong_credentials_say_how_to_authenticate(header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/models/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response.json()["detail"].endswith(SEND)


@pytest.mark.django_db
def test_a_revoked_key_says_so_and_how_to_authenticate(risk_officer):
    api_key, key = issue_key(
        user=risk_officer,
        actions=[KeyAction.READ_LEDGER],
        all_models=True,
        name="laptop",
        actor=risk_officer,
    )
    revoke_key(api_key, actor=risk_officer, reason="Laptop lost")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    detail = client.get("/api/v1/models/").json()["detail"]
    assert detail == f"This API key has been revoked. {SEND}"
