"""The standard-library Ed25519 check the standalone verifier falls back on, against RFC 8032's
test vectors and against ``cryptography`` (OpenSSL), an implementation the project did not write."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import ed25519

# RFC 8032 section 7.1, TEST 1 and TEST 2.
VECTORS = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
        "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e"
        "458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


def test_the_rfc_8032_vectors_verify_and_any_change_is_refused():
    for key, message, signature in VECTORS:
        key, message, signature = map(bytes.fromhex, (key, message, signature))
        assert ed25519.verify_pure(key, signature, message)
        assert not ed25519.verify_pure(key, signature, message + b"\0")
        bad = bytearray(signature)
        bad[5] ^= 1
        assert not ed25519.verify_pure(key, bytes(bad), message)


def test_the_pure_check_agrees_with_openssl_on_good_altered_and_malleated_signatures():
    for _ in range(20):
        private = Ed25519PrivateKey.generate()
        key = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        message = os.urandom(40)
        signature = private.sign(message)
        # s + L is the same point equation, but RFC 8032 asks s < L: both must refuse it.
        s = int.from_bytes(signature[32:], "little") + ed25519._L
        malleated = signature[:32] + s.to_bytes(32, "little")
        flipped = signature[:-1] + bytes([signature[-1] ^ 0x40])
        for candidate in (signature, malleated, flipped, signature[:63], bytes(64)):
            assert ed25519.verify_pure(key, candidate, message) == ed25519.verify(
                key, candidate, message
            )
        assert ed25519.verify_pure(key, signature, message)


def test_a_pem_public_key_gives_its_raw_key_and_another_kind_of_key_is_refused():
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert ed25519.public_key_from_pem(pem) == raw
    assert ed25519.public_key_from_pem(pem.decode()) == raw
    for bad in (b"not a key", pem.replace(b"MCow", b"MCox")):
        try:
            ed25519.public_key_from_pem(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was taken as a key")
