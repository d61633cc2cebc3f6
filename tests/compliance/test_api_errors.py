"""Under /api/ every answer is JSON, errors included, and the schema documents them."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from compliance.api.schema import REFUSALS


def test_an_unknown_api_url_is_a_json_404(api, risk_officer):
    response = api.as_(risk_officer).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_outside_the_api_stays_html(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_method_the_endpoint_does_not_have_is_a_json_405(api, risk_officer):
    client = api.as_(risk_officer)  # on the inventory, roles refuse an unknown method: 403
    response = client.delete("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 405
    assert "DELETE" in response.json()["detail"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "slug=churn&name=Churn"),
        ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="a"'),
        ("text/plain", "churn"),
    ],
)
def test_a_body_that_is_not_json_is_a_415(api, risk_officer, content_type, body):
    response = api.as_(risk_officer).generic("POST", "/api/v1/models/", body, content_type)
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


def test_nan_is_refused_by_every_json_endpoint(api, risk_officer):
    body = '{"slug": "churn", "name": "Churn", "risk_tier": NaN}'
    response = api.as_(risk_officer).generic("POST", "/api/v1/models/", body, "application/json")
    assert response.status_code == 400
    assert "NaN is not a JSON number" in response.json()["detail"]


def test_the_schema_documents_the_error_answers_of_every_operation(db):
    schema = json.loads(Client().get("/api/schema/", HTTP_ACCEPT="application/json").content)
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert len(operations) > 40
    for operation in operations:
        expected = set(REFUSALS) | ({"400", "415"} if "requestBody" in operation else set())
        missing = expected - set(operation["responses"])
        assert not missing, (operation["operationId"], missing)
    ingest = schema["paths"]["/api/v1/predictions/"]["post"]["responses"]
    assert "Retry-After" in ingest["503"]["headers"]
    assert "Retry-After" in ingest["429"]["headers"]
