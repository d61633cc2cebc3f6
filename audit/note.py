"""Checkpoints as C2SP signed notes (c2sp.org/tlog-checkpoint, c2sp.org/signed-note).

The JSON checkpoint is Attest's own format; this one is the transparency logs' common one, so
standard tools check it: Go's ``golang.org/x/mod/sumdb/note``, the transparency-dev witnesses.
A checkpoint note is::

    <origin>\\n<tree size, decimal>\\n<base64 root hash>\\n
    \\n
    — <key name> <base64(key hash ‖ Ed25519 signature over the three lines above)>\\n

The key name is the origin, a URL-like name of the log (``attest.example/log``). The key hash
is the first four bytes of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key), 0x01 naming Ed25519: it
tells a verifier holding several keys which one signed. A verifier is handed the key as one
string, ``<name>+<hex key hash>+<base64(0x01 ‖ public key)>``.

Pure (stdlib and ``cryptography``), so the standalone verifier can use it as is.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from audit import ed25519

ED25519 = b"\x01"  # the signed-note algorithm byte of Ed25519
DASH = "\u2014"  # a signature line starts with an em dash and a space
# A key name (and so an origin) is non-empty and has no space and no "+" (signed-note).
KEY_NAME = re.compile(r"[^\s+]+")
SIZE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note that is malformed, or whose signature by the expected key does not verify."""


def check_key_name(name: str) -> str:
    """Return ``name`` if a signed note may carry it, else raise NoteError saying why."""
    if not KEY_NAME.fullmatch(name):
        raise NoteError(f"{name!r} is no key name: it must be non-empty, without spaces or '+'")
    return name


def key_hash(name: str, public_key: bytes) -> bytes:
    """The four bytes that identify the key ``(name, public_key)`` in a signature line."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The key in the form ``note.NewVerifier`` (Go) and witnesses are configured with."""
    encoded = base64.b64encode(ED25519 + public_key).decode()
    return f"{check_key_name(name)}+{key_hash(name, public_key).hex()}+{encoded}"


def checkpoint_body(origin: str, tree_size: int, root_hash: bytes) -> bytes:
    """The text the signature covers: origin, tree size and root hash, a line each."""
    root = base64.b64encode(root_hash).decode()
    return f"{check_key_name(origin)}\n{tree_size}\n{root}\n".encode()


def sign_note(body: bytes, name: str, public_key: bytes, sign: Callable[[bytes], bytes]) -> str:
    """The signed note: ``body``, a blank line and the signature line of key ``name``."""
    signature = base64.b64encode(key_hash(name, public_key) + sign(body)).decode()
    return f"{body.decode()}\n{DASH} {check_key_name(name)} {signature}\n"


@dataclass(frozen=True)
class CheckpointNote:
    """What a verified checkpoint note states."""

    origin: str
    tree_size: int
    root_hash: bytes


def open_checkpoint(note: str, name: str, public_key: bytes) -> CheckpointNote:
    """Verify ``note`` was signed by key ``(name, public_key)`` and return what it states.

    Other keys' signatures (a witness's cosignature) are ignored, as the signed-note rules ask.
    The origin must be the key's name. Raise NoteError otherwise.
    """
    body, blank, signatures = note.rpartition("\n\n")
    if not blank or not signatures.endswith("\n"):
        raise NoteError("not a signed note: no blank line before newline-ended signature lines")
    body += "\n"
    wanted = key_hash(name, public_key)
    signed = False
    for line in signatures[:-1].split("\n"):
        prefix, _, rest = line.partition(" ")
        signer, _, encoded = rest.partition(" ")
        if prefix != DASH or not signer or not encoded:
            raise NoteError(f"not a signature line: {line!r}")
        if signer != name:
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise NoteError(f"the signature of {name} is not base64") from None
        if raw[:4] != wanted:
            continue
        if not ed25519.verify(public_key, raw[4:], body.encode()):
            raise NoteError(f"the signature of {name} does not verify: the note was altered")
        signed = True
    if not signed:
        raise NoteError(f"the note carries no signature by the key {name}+{wanted.hex()}")
    lines = body.split("\n")
    if len(lines) < 4 or lines[0] != name:
        raise NoteError(f"not a checkpoint of the log {name}: its origin is {lines[0]!r}")
    if not SIZE.fullmatch(lines[1]):
        raise NoteError(f"the tree size {lines[1]!r} is not a decimal number")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except ValueError:
        root = b""
    if len(root) != 32:
        raise NoteError(f"the root hash {lines[2]!r} is not 32 bytes in base64")
    return CheckpointNote(lines[0], int(lines[1]), root)
