"""Each issued document is stored with its SHA-256 and is a ledger event; it never changes."""

from __future__ import annotations

import hashlib

import pytest

from audit.models import AppendOnlyError, GovernanceEvent
from modelcards.documents import issue
from modelcards.models import DocumentKind, IssuedDocument
from tests.modelcards.conftest import AS_OF

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def document(world) -> IssuedDocument:
    """A model card issued once for the module by rita."""
    return issue(DocumentKind.MODELCARD, world.model, as_of=AS_OF, user=world.users["rita"])


def test_an_issued_document_is_a_ledger_event_with_its_hash(document, risk_officer):
    event = document.event
    assert event.event_type == "document.issued"
    assert event.object_type == "modelcards.IssuedDocument"
    assert event.object_id == document.reference
    assert event.actor_name == risk_officer.username
    assert event.after["sha256"] == document.sha256 == hashlib.sha256(document.content).hexdigest()
    assert event.after["as_of"] == "2026-06-30"
    assert event.after["coverage"][0]["framework"] == "Model card"


def test_the_reference_names_kind_model_version_and_date(document):
    assert document.reference.startswith("CARD-credit-scoring-1.0.0-20260630-")
    assert document.version.label == "1.0.0"
    assert document.pages >= 3


def test_issuing_the_same_document_again_returns_the_one_issued(document, credit_model):
    again = issue(DocumentKind.MODELCARD, credit_model, as_of=AS_OF)
    assert again.pk == document.pk
    assert GovernanceEvent.objects.filter(event_type="document.issued").count() == 1


def test_an_issued_document_cannot_change_or_go(document):
    document = IssuedDocument.objects.get(pk=document.pk)  # the module's copy stays as issued
    document.sha256 = "0" * 64
    with pytest.raises(AppendOnlyError):
        document.save()
    with pytest.raises(AppendOnlyError):
        document.delete()
    with pytest.raises(AppendOnlyError):
        IssuedDocument.objects.filter(pk=document.pk).update(sha256="0" * 64)


def test_documents_issued_are_not_listed_in_later_documents(document, credit_model):
    from modelcards.documents import build

    events = build(DocumentKind.SR117, credit_model, AS_OF).evidence["events"]["listed"]
    assert all(not e["type"].startswith("document.") for e in events)
