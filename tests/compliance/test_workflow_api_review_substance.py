"""A review's substance over the API: its references, benchmark table, recommendations and
sensitivity go in and come back; a bad rating or a badly shaped table is a 400 naming the field."""

from __future__ import annotations

import pytest

from compliance.models import ValidationReview
from tests.compliance.test_workflow_support import SATISFACTORY, in_validation

BENCHMARK = {
    "against": "a majority-class baseline",
    "hold_out": "the bundle's hold-out of 1,000 applicants",
    "rows": [
        {"metric": "roc_auc", "model": 0.81, "benchmark": 0.5},
        {"metric": "accuracy", "model": 0.77, "benchmark": 0.69},
    ],
}
SUBSTANCE = {
    **SATISFACTORY,
    "references": {"outcomes_analysis": ["monitoring report 12", "artifact sha256:ab12"]},
    "benchmark": BENCHMARK,
    "recommendations": "Revalidate after the first quarter of outcomes.",
    "sensitivity": "Five bootstrap refits: ROC AUC moved by under 0.01.",
}


@pytest.fixture
def validating(version, developer, validator):
    return in_validation(version, developer, validator)


def url(version) -> str:
    return f"/api/v1/versions/{version.pk}/reviews/"


def test_a_review_with_its_benchmark_and_references_round_trips(api, validator, validating):
    client = api.as_(validator)
    response = client.post(url(validating), SUBSTANCE, format="json")
    assert response.status_code == 201, response.json()
    listed = client.get(url(validating)).json()["results"][0]
    for name in ("references", "benchmark", "recommendations", "sensitivity"):
        assert listed[name] == SUBSTANCE[name]
    stored = ValidationReview.objects.get(pk=listed["id"])
    assert stored.benchmark["rows"][0] == {"metric": "roc_auc", "model": 0.81, "benchmark": 0.5}


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"conceptual_soundness_conclusion": "excellent"}, "conceptual_soundness_conclusion", ""),
        ({"references": {"data": ["x"]}}, "references", "elements of validation"),
        ({"references": {"outcomes_analysis": "report 12"}}, "references", "list"),
        ({"benchmark": {**BENCHMARK, "rows": []}}, "benchmark", "non-empty list"),
        ({"benchmark": {**BENCHMARK, "against": ""}}, "benchmark", "challenger"),
        ({"benchmark": {**BENCHMARK, "rows": [{"metric": "auc", "model": 0.8}]}}, "benchmark",
         'exactly "metric", "model" and "benchmark"'),
        ({"benchmark": {**BENCHMARK, "rows": [{"metric": "auc", "model": "high",
                                               "benchmark": 0.5}]}}, "benchmark", "a number"),
        ({"benchmark": [1, 2]}, "benchmark", '"against", "hold_out" and "rows"'),
    ],
)  # fmt: skip
def test_a_bad_rating_or_benchmark_table_is_a_400_naming_the_field(
    api, validator, validating, change, field, words
):
    response = api.as_(validator).post(url(validating), {**SUBSTANCE, **change}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert words in str(response.json()[field])
    assert not ValidationReview.objects.exists()
