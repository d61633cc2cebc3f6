"""The C2SP signed-note form of a checkpoint (``audit.note``): pure, no database."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import note

# The fixed key and signed text of golang.org/x/mod/sumdb/note's note_test.go (TestSign,
# TestNewVerifier), the reference implementation of signed notes: its private key is
# "PRIVATE+KEY+PeterNeumann+c74f20a3+" + base64(0x01 ‖ the 32-byte Ed25519 seed).
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgK"
    "vqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

ORIGIN = "ledger.bank.example/attest"
ROOT = hashlib.sha256(b"a root").digest()


def go_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_SIGNER.split("+", 4)[4])[1:]
    return Ed25519PrivateKey.from_private_bytes(seed)


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def checkpoint_note(key: Ed25519PrivateKey, size: int = 7, origin: str = ORIGIN) -> str:
    body = note.checkpoint_body(origin, size, ROOT)
    return note.sign_note(body, origin, raw(key), key.sign)


def test_the_key_hash_and_verifier_key_match_the_go_reference():
    key = go_key()
    assert note.key_hash("PeterNeumann", raw(key)).hex() == "c74f20a3"
    assert note.verifier_key("PeterNeumann", raw(key)) == GO_VERIFIER


def test_a_signed_note_has_the_bytes_of_the_go_reference():
    key = go_key()
    signed = note.sign_note(GO_TEXT.encode(), "PeterNeumann", raw(key), key.sign)
    assert signed == GO_NOTE


def test_a_checkpoint_body_is_origin_size_and_base64_root_a_line_each():
    body = note.checkpoint_body(ORIGIN, 1234, ROOT)
    assert body == f"{ORIGIN}\n1234\n{base64.b64encode(ROOT).decode()}\n".encode()


def test_a_checkpoint_note_opens_to_what_it_states():
    key = go_key()
    opened = note.open_checkpoint(checkpoint_note(key), ORIGIN, raw(key))
    assert opened == note.CheckpointNote(ORIGIN, 7, ROOT)


def test_a_changed_tree_size_is_refused():
    key = go_key()
    forged = checkpoint_note(key).replace("\n7\n", "\n8\n", 1)
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_checkpoint(forged, ORIGIN, raw(key))


def test_a_note_signed_by_another_key_of_the_same_name_is_refused():
    key, other = go_key(), Ed25519PrivateKey.generate()
    with pytest.raises(note.NoteError, match="no signature by the key"):
        note.open_checkpoint(checkpoint_note(other), ORIGIN, raw(key))


def test_a_witness_cosignature_beside_the_logs_is_ignored():
    key, witness = go_key(), Ed25519PrivateKey.generate()
    signed = checkpoint_note(key)
    body = signed.split("\n\n")[0].encode() + b"\n"
    cosigned = note.sign_note(body, "witness.example", raw(witness), witness.sign)
    both = signed + cosigned.split("\n\n")[1]
    assert note.open_checkpoint(both, ORIGIN, raw(key)).tree_size == 7


def test_a_note_of_another_origin_is_refused_even_if_signed():
    key = go_key()
    body = note.checkpoint_body("other.example/log", 7, ROOT)
    signed = note.sign_note(body, ORIGIN, raw(key), key.sign)
    with pytest.raises(note.NoteError, match="its origin is 'other.example/log'"):
        note.open_checkpoint(signed, ORIGIN, raw(key))


@pytest.mark.parametrize(
    "text",
    ["", "no blank line\n— a b\n", f"{ORIGIN}\n7\nAAAA\n\nnot a signature line\n"],
)
def test_malformed_notes_are_refused(text):
    with pytest.raises(note.NoteError):
        note.open_checkpoint(text, ORIGIN, raw(go_key()))


@pytest.mark.parametrize("name", ["", "a+b", "a b", "tab\there"])
def test_a_key_name_has_no_space_and_no_plus(name):
    with pytest.raises(note.NoteError, match="no key name"):
        note.check_key_name(name)
