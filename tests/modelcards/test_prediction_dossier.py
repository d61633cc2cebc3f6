"""The prediction dossier: the trail of one decision as of a date; and generate_document's
refusals."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit import signing
from modelcards.documents import issue
from modelcards.evidence import EvidenceError
from modelcards.models import DocumentKind
from tests.modelcards.conftest import AS_OF, GOVERNED, OVERRIDE_REASON, flat, pdf_info

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def dossier(world):
    """The dossier of the latest declined decision, which rita overrode on 5 July."""
    return issue(DocumentKind.DOSSIER, world.model, as_of=GOVERNED, event_id=world.overridden)


@pytest.fixture(scope="module")
def text(dossier) -> str:
    return flat(dossier.content)


def test_a_dossier_gives_reason_codes_outcome_and_a_verified_receipt(world, dossier, text):
    assert world.overridden in text
    assert "Principal reasons against the favourable decision" in text
    assert "Receipt: inclusion proof and checkpoint" in text
    assert "Proof verified when issued yes" in text
    assert "GAP No outcome logged" not in text
    assert dossier.reference.startswith(f"DOS-credit-scoring-{world.overridden[:8]}-")


def test_a_dossier_prints_the_log_key_fingerprint_on_every_page(dossier, text):
    """The examiner compares it with the key obtained from the operator independently."""
    pages = int(pdf_info(dossier.content).split("Pages:")[1].split()[0])
    assert text.count(f"Log key fingerprint {signing.key_id()}") == pages > 0


def test_a_dossier_shows_the_oversight_of_its_decision(text):
    oversight = text.split("7 Human oversight")[-1].split("8 Receipt")[0]
    assert "override" in oversight and "rita" in oversight
    assert OVERRIDE_REASON in oversight and "0 → 1" in oversight
    assert "Checked the documents." not in oversight  # the confirmation was of another decision


def test_a_decision_taken_before_the_approval_shows_it_had_none(text):
    assert "GAP No approval of version 1.0.0 in force at the decision time" in text
    assert (
        "GAP No deployment of version 1.0.0 in that environment in force at the decision time"
        in text
    )
    assert "Served by an approved version deployed in production at the decision time: no" in text
    assert "Approved and deployed when it decided no" in text


def test_a_dossier_before_the_decision_was_logged_is_refused(world):
    with pytest.raises(EvidenceError, match="after 2026-06-09"):
        issue(DocumentKind.DOSSIER, world.model, as_of=AS_OF.replace(day=9),
              event_id=world.logged[0])  # fmt: skip


def test_generate_document_finds_the_latest_declined_decision(world, dossier, tmp_path):
    out = tmp_path / "dossier.pdf"
    output = StringIO()
    call_command("generate_document", "--kind", "dossier", "--model", "credit-scoring",
                 "--latest-declined", "--as-of", "2026-07-31", "--out", str(out),
                 stdout=output)  # fmt: skip
    assert dossier.reference in output.getvalue()  # the same decision: the dossier issued
    assert out.read_bytes() == bytes(dossier.content)
    with pytest.raises(CommandError, match="No declined decision of credit-scoring logged by"):
        call_command("generate_document", "--kind", "dossier", "--model", "credit-scoring",
                     "--latest-declined", "--as-of", "2026-06-09", "--out", str(out))  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "sr117", "--model", "nope"], "No model 'nope'"),
        (["--kind", "sr117", "--model", "credit-scoring", "--as-of", "30/06/2026"], "YYYY-MM-DD"),
        (["--kind", "dossier", "--model", "credit-scoring"], "needs --event-id"),
        (["--kind", "sr117", "--model", "credit-scoring", "--version", "9.9"], "Version 9.9"),
    ],
)
def test_generate_document_refuses_bad_input_with_a_clear_message(credit_model, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("generate_document", *args, "--out", "/dev/null", stdout=StringIO())
