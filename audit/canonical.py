"""Canonical JSON (RFC 8785) and SHA-256, with no Django imports.

The ledger hashes the canonical bytes it stores, never a re-serialisation of parsed JSON,
so the standalone verifier needs only these bytes and :mod:`hashlib`.

RFC 8785 output equals Python's C JSON encoder (sorted keys, compact separators, no ASCII
escaping) for the values a model service sends: strings, booleans, null, integers within
±2**53, and floats whose shortest form is plain decimal in both languages (1e-4 <= |x| < 1e16;
ECMAScript and Python then print the same digits). Anything else — other floats, keys outside
the Basic Multilingual Plane (RFC 8785 sorts by UTF-16 code units), lone surrogates — goes
through the reference implementation, ``rfc8785``. The fast path is about twice as fast and
is checked byte for byte against the reference in the tests.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

SAFE_INTEGER = 2**53
_encode = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


class NotCanonicalisable(ValueError):
    """The value cannot be written as RFC 8785 JSON (NaN, infinity, non-string keys, …)."""


class _Fallback(Exception):
    pass


class _Ready(dict):
    """A dict ``_prepared`` made: already checked, so a later walk takes it as it is."""


def _prepared(value: Any) -> Any:
    """``value`` with integral floats as ints, ready for the C encoder; ``_Fallback`` if the
    encoder would not write it as RFC 8785 does."""
    kind = type(value)
    if kind is _Ready:
        return value
    if kind is str:
        if not value.isascii() and any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise _Fallback
        return value
    if kind is bool or value is None:
        return value
    if kind is int:
        if -SAFE_INTEGER <= value <= SAFE_INTEGER:
            return value
        raise _Fallback
    if kind is float:
        if value.is_integer():
            if -SAFE_INTEGER <= value <= SAFE_INTEGER:
                return int(value)
            raise _Fallback
        if 1e-4 <= abs(value) < 1e16:
            return value
        raise _Fallback
    if kind is dict:
        prepared = _Ready()
        for key, item in value.items():
            # RFC 8785 sorts keys by UTF-16 code units: as Python does below U+10000.
            if type(key) is not str or not (key.isascii() or _bmp_without_surrogates(key)):
                raise _Fallback
            prepared[key] = _prepared(item)
        return prepared
    if kind is list or kind is tuple:
        return [_prepared(item) for item in value]
    if isinstance(value, str):  # e.g. a Django TextChoices member: its characters, as str
        return _prepared(str.__str__(value))
    raise _Fallback


def _bmp_without_surrogates(text: str) -> bool:
    return max(text) <= "\uffff" and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def prepare(value: Any) -> Any | None:
    """``value`` checked and made ready for the fast encoder, or None if only the reference
    implementation can write it. Its dicts are taken as they are when a value holding them is
    canonicalised (``canonical_json``), so a payload built from parts of a prepared request
    is walked only once. Do not change a prepared value."""
    try:
        return _prepared(value)
    except _Fallback:
        return None


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value``.

    >>> canonical_json({"b": 1, "a": [1.5, "é"]})
    b'{"a":[1.5,"\\xc3\\xa9"],"b":1}'
    """
    try:
        return _encode(_prepared(value)).encode()
    except _Fallback:
        pass
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise NotCanonicalisable(str(exc)) from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_sha256(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``value``: stable under key order and spacing."""
    return sha256_hex(canonical_json(value))
