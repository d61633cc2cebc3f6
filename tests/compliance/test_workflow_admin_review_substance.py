"""The review form in the admin takes the evidence references, the benchmark table,
recommendations and sensitivity; a badly shaped table is shown as the field's error."""

from __future__ import annotations

import json

from django.test import Client

from tests.compliance.test_workflow_api_review_substance import BENCHMARK
from tests.compliance.test_workflow_support import SATISFACTORY, in_validation


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_validator_records_the_benchmark_and_references_in_the_admin(
    version, developer, validator
):
    in_validation(version, developer, validator)
    url = f"/admin/compliance/modelversion/{version.pk}/act/review/"
    client = logged_in(validator)
    form = client.get(url).content.decode()
    assert 'name="benchmark"' in form and 'name="references"' in form
    data = {
        **SATISFACTORY,
        "references": json.dumps({"outcomes_analysis": ["monitoring report 12"]}),
        "benchmark": json.dumps(BENCHMARK),
        "recommendations": "Revalidate after a quarter.",
        "sensitivity": "",
        "reason": "",
    }
    bad = client.post(url, {**data, "benchmark": json.dumps({**BENCHMARK, "rows": []})})
    assert "&quot;rows&quot; is a non-empty list" in bad.content.decode()
    assert not version.reviews.exists()

    client.post(url, data, follow=True)
    review = version.reviews.get(validator=validator)
    assert review.benchmark == BENCHMARK
    assert review.references == {"outcomes_analysis": ["monitoring report 12"]}
    page = client.get(f"/admin/compliance/validationreview/{review.pk}/change/").content.decode()
    assert "majority-class baseline" in page and "Revalidate after a quarter." in page


def test_empty_json_boxes_in_the_admin_mean_none_yet(version, developer, validator):
    in_validation(version, developer, validator)
    url = f"/admin/compliance/modelversion/{version.pk}/act/review/"
    data = {**SATISFACTORY, "references": "", "benchmark": "", "reason": ""}
    logged_in(validator).post(url, data, follow=True)
    review = version.reviews.get(validator=validator)
    assert (review.references, review.benchmark) == ({}, {})
