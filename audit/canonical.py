"""Canonical JSON (RFC 8785) and SHA-256, with no Django imports.

The ledger hashes the canonical bytes it stores, never a re-serialisation of parsed JSON,
so the standalone verifier needs only these bytes and :mod:`hashlib`.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


class NotCanonicalisable(ValueError):
    """The value cannot be written as RFC 8785 JSON (NaN, infinity, non-string keys, …)."""


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value``.

    >>> canonical_json({"b": 1, "a": [1.0, "é"]})
    b'{"a":[1,"\\xc3\\xa9"],"b":1}'
    """
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise NotCanonicalisable(str(exc)) from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_sha256(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``value``: stable under key order and spacing."""
    return sha256_hex(canonical_json(value))
