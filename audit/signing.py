"""The log's Ed25519 signing key: from the environment or a file, or a development key.

The one key signs both forms of a checkpoint: the JSON statement and the C2SP signed note.

Production sets ``LEDGER_SIGNING_KEY`` (PEM) or ``LEDGER_SIGNING_KEY_FILE``. With DEBUG on and
neither set, a key is generated once in ``ATTEST_DATA_DIR/ledger-signing-key.pem``.
"""

from __future__ import annotations

import functools
import hashlib
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from compliance.settings import env

from . import note


@functools.cache
def signing_key() -> Ed25519PrivateKey:
    pem = env("LEDGER_SIGNING_KEY")
    if not pem:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_FILE must hold the log's Ed25519 "
                "private key (PEM) when DEBUG=false."
            )
        pem = _development_key()
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError as exc:
        raise ImproperlyConfigured(f"LEDGER_SIGNING_KEY is not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("LEDGER_SIGNING_KEY must be an Ed25519 key.")
    return key


def _development_key() -> str:
    path = settings.DATA_DIR / "ledger-signing-key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    return path.read_text()


def public_key_pem() -> bytes:
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def public_key_raw() -> bytes:
    """The raw 32-byte Ed25519 public key."""
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def key_id() -> str:
    """SHA-256 (hex) of the raw 32-byte public key."""
    return hashlib.sha256(public_key_raw()).hexdigest()


def verifier_key() -> str:
    """The public key as a signed-note verifier key, named by the log's origin."""
    return note.verifier_key(settings.LEDGER_LOG_ORIGIN, public_key_raw())


def sign(message: bytes) -> bytes:
    return signing_key().sign(message)


def sign_checkpoint_note(tree_size: int, root_hash: bytes) -> str:
    """The checkpoint as a C2SP signed note of the log's origin, signed by the log's key."""
    origin = settings.LEDGER_LOG_ORIGIN
    body = note.checkpoint_body(origin, tree_size, root_hash)
    return note.sign_note(body, origin, public_key_raw(), sign)
