"""Limits: request size (413) on every API endpoint, batch size, the rate per API key (429 with
Retry-After, counted in Django's cache) and admin login attempts (django-axes)."""

from __future__ import annotations

import datetime as dt

import pytest
import redis
import time_machine
from django.core.cache import caches
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import PredictionRecord
from compliance.choices import KeyAction
from compliance.keys import issue_key
from tests.audit.conftest import prediction
from tests.compliance.test_settings import manage

ALL = KeyAction.values


def client_with(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


@pytest.mark.parametrize(
    "url", ["/api/v1/predictions/", "/api/v1/models/", "/api/v1/oversight/", "/api/v1/versions/1/"]
)
def test_an_oversized_request_is_413_with_a_json_body_before_anything_reads_it(
    client, settings, url
):
    settings.LEDGER_MAX_REQUEST_BYTES = 1000
    response = client.post(url, b"{" * 2000, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The request body is 2000 bytes; the limit is 1000. Send smaller batches.",
        "limit": 1000,
    }


def test_a_request_within_the_limit_goes_through(api, service, version, settings):
    settings.LEDGER_MAX_REQUEST_BYTES = 5000
    response = api.as_(service).post("/api/v1/predictions/", prediction(), format="json")
    assert response.status_code == 201


def test_pages_outside_the_api_keep_django_s_own_limits(client, settings, db):
    settings.LEDGER_MAX_REQUEST_BYTES = 10
    response = client.post("/admin/login/", {"username": "rita", "password": "wrong"})
    assert response.status_code == 200  # the login form again, not a 413


def test_a_batch_over_the_limit_is_413_naming_the_limit(api, service, version, settings):
    settings.LEDGER_MAX_BATCH = 2
    batch = [prediction() for _ in range(3)]
    response = api.as_(service).post("/api/v1/predictions/", batch, format="json")
    assert response.status_code == 413
    assert response.json()["detail"] == "3 items in one batch; the limit is 2."
    assert not PredictionRecord.objects.exists()


def test_a_key_over_its_rate_gets_429_with_retry_after(service, version, settings):
    settings.API_KEY_RATE_LIMIT = 2
    settings.API_KEY_RATE_WINDOW = 3600
    _, secret = issue_key(user=service, models=[version.model], actions=ALL)
    client = client_with(secret)
    for _ in range(2):
        assert client.post("/api/v1/predictions/", prediction(), format="json").status_code == 201
    response = client.post("/api/v1/predictions/", prediction(), format="json")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert "throttled" in response.json()["detail"]
    assert PredictionRecord.objects.count() == 2

    # The limit is per key: another key of the same account has its own count.
    _, other = issue_key(user=service, models=[version.model], actions=ALL)
    response = client_with(other).post("/api/v1/predictions/", prediction(), format="json")
    assert response.status_code == 201


def test_the_rate_is_counted_in_django_s_cache(service, version, settings):
    settings.API_KEY_RATE_LIMIT = 1
    key, secret = issue_key(user=service, models=[version.model], actions=ALL)
    client_with(secret).post("/api/v1/predictions/", prediction(), format="json")
    counters = [k for k in caches["default"]._cache if f"attest:rate:{key.prefix}:" in k]
    assert len(counters) == 1


def test_with_redis_the_rate_is_counted_there_for_the_window(service, version, settings):
    settings.CACHE_URL = "redis://127.0.0.1:6379/14"
    settings.API_KEY_RATE_LIMIT, settings.API_KEY_RATE_WINDOW = 2, 3600
    server = redis.Redis.from_url(settings.CACHE_URL)
    key, secret = issue_key(user=service, models=[version.model], actions=ALL)
    client = client_with(secret)
    statuses = [
        client.post("/api/v1/predictions/", prediction(), format="json").status_code
        for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
    (counter,) = server.keys(f"attest:rate:{key.prefix}:*")
    assert int(server.get(counter)) == 3 and 3500 < server.ttl(counter) <= 3601
    server.delete(counter)


def test_the_cache_is_redis_when_a_url_is_set_and_refuses_anything_else():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = manage("shell", "--no-imports", "-c", code, CACHE_URL="redis://127.0.0.1:6379/3")
    assert result.stdout.strip() == "django.core.cache.backends.redis.RedisCache", result.stderr
    result = manage("shell", "--no-imports", "-c", code, CACHE_URL="memcached://127.0.0.1")
    assert result.returncode != 0 and "CACHE_URL" in result.stderr


def login(client, password: str):
    return client.post("/admin/login/", {"username": "rita", "password": password})


def test_admin_logins_are_locked_out_after_repeated_failures(client, risk_officer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "wrong").status_code == 200  # the form again, with an error
    assert login(client, "wrong").status_code == 429
    # Locked out: even the right password is refused, and nobody is logged in.
    response = login(client, "correct horse battery staple")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_successful_login_resets_the_count(client, risk_officer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "wrong")
    assert login(client, "correct horse battery staple").status_code == 302
    client.logout()
    assert login(client, "wrong").status_code == 200


def test_the_limits_are_settings_from_the_environment():
    code = (
        "from django.conf import settings; "
        "print(settings.API_KEY_RATE_LIMIT, settings.API_KEY_RATE_WINDOW, "
        "settings.AXES_FAILURE_LIMIT)"
    )
    env = {"API_KEY_RATE_LIMIT": "50", "API_KEY_RATE_WINDOW": "10", "AXES_FAILURE_LIMIT": "3"}
    assert manage("shell", "--no-imports", "-c", code, **env).stdout.split() == ["50", "10", "3"]
    result = manage("shell", "--no-imports", "-c", code, API_KEY_RATE_LIMIT="0")
    assert "API_KEY_RATE_LIMIT=0 must be 1 or more" in result.stderr


def test_a_lockout_ends_after_the_cool_off(client, risk_officer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "wrong")
    assert login(client, "correct horse battery staple").status_code == 429
    later = timezone.now() + settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1)
    with time_machine.travel(later):
        assert login(client, "correct horse battery staple").status_code == 302
