"""Reviews without substance are gaps, not coverage: the world of conftest with both validators
signing the same one-line sentences, citing nothing and benchmarking nothing (the demo before
#17), read back from the validation report's PDF."""

from __future__ import annotations

import pytest

from modelcards.documents import build, render
from modelcards.models import DocumentKind
from tests.modelcards.conftest import GOVERNED, REVIEW, build_world, flat, rolled_back

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, artifacts):
    with django_db_blocker.unblock(), rolled_back():
        yield build_world(artifacts, lambda version: [REVIEW, REVIEW])


@pytest.fixture(scope="module")
def report(world):
    built = build(DocumentKind.VALIDATION, world.model, GOVERNED)
    return built, flat(render(built).content)


def test_one_line_conclusions_citing_nothing_are_a_gap_not_full_coverage(report):
    built, text = report
    missing = {item.key for item in built.coverage.items if not item.present}
    assert {"workflow.substance", "workflow.benchmark"} <= missing
    assert built.coverage.present < built.coverage.required
    assert "GAP The validators' conclusions are not substantiated" in text
    assert "victor's outcomes analysis (cycle 1) is 11 words, under the 20" in text
    assert "victor's outcomes analysis (cycle 1) cites no evidence it rests on" in text
    assert "GAP No validator benchmarked version 1.0.0 against a challenger" in text


def test_two_validators_signing_the_same_text_are_flagged(report):
    _, text = report
    assert "valerie's conceptual soundness (cycle 1) repeats the text of victor" in text
    assert "victor's conceptual soundness (cycle 1) repeats the text of valerie" in text
