"""The sequencer seals entries into signed checkpoints; receipts and proofs verify."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import serialization

from audit import merkle, signing
from audit.canonical import canonical_json
from audit.ledger import record_event
from audit.models import Checkpoint, Leaf, LedgerEntry
from audit.sequencer import seal_all, seal_pending
from tests.audit.conftest import committed, prediction

pytestmark = committed


def verify_signature(signed: dict) -> None:
    key = serialization.load_pem_public_key(signing.public_key_pem())
    key.verify(base64.b64decode(signed["signature"]), canonical_json(signed["statement"]))


def test_sealing_numbers_every_entry_once_and_signs_the_root(db):
    for n in range(7):
        record_event("test.event", reason=f"event {n}")
    sealed = seal_pending()
    assert sealed.sequenced == 7
    leaves = list(Leaf.objects.order_by("index").values_list("index", "entry_id"))
    assert [i for i, _ in leaves] == list(range(7))
    hashes = [bytes(LedgerEntry.objects.get(pk=e).leaf_hash) for _, e in leaves]
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.tree_size == 7
    assert bytes(checkpoint.root_hash) == merkle.root_from_leaf_hashes(hashes)
    verify_signature(checkpoint.signed())
    assert seal_pending().sequenced == 0
    assert Checkpoint.objects.count() == 1


def test_each_round_extends_the_tree_consistently(api, auditor, db):
    record_event("test.one")
    seal_all()
    for _ in range(4):
        record_event("test.more")
    seal_all()
    old, new = Checkpoint.objects.order_by("tree_size")
    body = api.as_(auditor).get(f"/api/v1/checkpoints/{old.tree_size}/consistency/5/").json()
    proof = [bytes.fromhex(h) for h in body["proof"]]
    assert merkle.verify_consistency(1, 5, bytes(old.root_hash), bytes(new.root_hash), proof)
    assert not merkle.verify_consistency(1, 5, bytes(new.root_hash), bytes(old.root_hash), proof)


def test_a_receipt_is_pending_until_sealed_then_proves_inclusion(logging_client):
    items = [prediction() for _ in range(5)]
    logging_client.post("/api/v1/predictions/", items, format="json")
    url = f"/api/v1/predictions/{items[3]['event_id']}/receipt/"
    assert logging_client.get(url).status_code == 202
    seal_all()
    receipt = logging_client.get(url).json()
    statement = receipt["checkpoint"]["statement"]
    verify_signature(receipt["checkpoint"])
    leaf = merkle.leaf_hash(base64.b64decode(receipt["canonical"]))
    assert leaf.hex() == receipt["leaf_hash"]
    assert json.loads(base64.b64decode(receipt["canonical"]))["event_id"] == items[3]["event_id"]
    assert merkle.verify_inclusion(
        leaf,
        receipt["leaf_index"],
        statement["tree_size"],
        [bytes.fromhex(h) for h in receipt["inclusion_proof"]],
        bytes.fromhex(statement["root_hash"]),
    )


def test_the_latest_checkpoint_is_published(api, auditor, db):
    client = api.as_(auditor)  # issuing the key is the ledger's first entry
    assert client.get("/api/v1/checkpoints/latest/").status_code == 404
    record_event("test.event")
    seal_all()
    body = client.get("/api/v1/checkpoints/latest/").json()
    assert body["statement"]["tree_size"] == 2
    verify_signature(body)


def test_checkpoints_need_credentials_and_unknown_ones_are_404(api, client, auditor, db):
    assert client.get("/api/v1/checkpoints/latest/").status_code == 401
    assert api.as_(auditor).get("/api/v1/checkpoints/1/consistency/2/").status_code == 404


def test_unknown_predictions_have_no_receipt(logging_client):
    url = "/api/v1/predictions/00000000-0000-4000-8000-000000000000/receipt/"
    assert logging_client.get(url).status_code == 404
