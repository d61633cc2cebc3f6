"""Personal fields: encrypted per data subject, so erasing a subject is destroying one key.

A version's input schema marks a field personal with ``"x-personal": true`` on its property.
Ingest takes those values out of the inputs the ledger commits to and writes, in their place,
their AES-256-GCM ciphertext under the subject's key (``SubjectKey``), bound to the event id
and field name. Destroying the key (crypto-shredding) leaves ciphertext that nobody can read,
while the entry's bytes, leaf hash and every checkpoint stay as they were.

Digests that must not reveal personal data (the retry digest, the subject's id) are keyed
HMACs: a plain SHA-256 of a low-entropy value is reversed by trying every value.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import os
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils import timezone

from audit.canonical import canonical_json

from .models import SubjectKey

ERASED = "[erased]"
WITHHELD = "[withheld]"


_personal_by_schema: dict[str, list[str]] = {}


def personal_fields_of(version) -> list[str]:
    """``personal_fields`` of a version's input schema, kept per schema hash (ingest's path)."""
    names = _personal_by_schema.get(version.input_schema_sha256)
    if names is None:
        if len(_personal_by_schema) > 256:
            _personal_by_schema.clear()
        names = _personal_by_schema[version.input_schema_sha256] = personal_fields(
            version.input_schema
        )
    return names


def personal_fields(input_schema: dict[str, Any]) -> list[str]:
    """Names of the top-level properties the schema marks ``"x-personal": true``."""
    properties = input_schema.get("properties") if isinstance(input_schema, dict) else None
    if not isinstance(properties, dict):
        return []
    return sorted(
        name
        for name, spec in properties.items()
        if isinstance(spec, dict) and spec.get("x-personal") is True
    )


@functools.lru_cache(maxsize=8)
def _derived_key(secret: str, purpose: str) -> bytes:
    return hmac.digest(secret.encode(), f"attest {purpose}".encode(), "sha256")


def keyed_digest(purpose: str, data: bytes) -> str:
    """HMAC-SHA256 (hex) of ``data`` under a key derived from ``LEDGER_DIGEST_KEY`` for
    ``purpose``."""
    return hmac.new(_derived_key(settings.LEDGER_DIGEST_KEY, purpose), data, "sha256").hexdigest()


def content_digest(item: dict[str, Any]) -> str:
    """The retry digest of a submitted prediction: equal content, equal digest; no leak."""
    return keyed_digest("retry digest", canonical_json(item))


def subject_digest(subject_id: str) -> str:
    return keyed_digest("subject id", subject_id.encode())


def subject_keys(subject_ids: Iterable[str]) -> dict[str, SubjectKey]:
    """The key of each subject id, created for subjects seen for the first time."""
    digests = {subject_id: subject_digest(subject_id) for subject_id in set(subject_ids)}
    if not digests:
        return {}
    found = {
        k.subject_digest: k for k in SubjectKey.objects.filter(subject_digest__in=digests.values())
    }
    missing = [d for d in set(digests.values()) if d not in found]
    if missing:
        SubjectKey.objects.bulk_create(
            [SubjectKey(subject_digest=d, key=AESGCM.generate_key(256)) for d in missing],
            ignore_conflicts=True,  # a concurrent batch created it first
        )
        found.update(
            (k.subject_digest, k) for k in SubjectKey.objects.filter(subject_digest__in=missing)
        )
    return {subject_id: found[digest] for subject_id, digest in digests.items()}


def _aad(event_id: str, name: str) -> bytes:
    return f"{event_id}/{name}".encode()


def encrypt(key: bytes, event_id: str, name: str, value: Any) -> str:
    """base64(nonce ‖ AES-GCM ciphertext) of the canonical JSON of ``value``."""
    nonce = os.urandom(12)
    sealed = AESGCM(bytes(key)).encrypt(nonce, canonical_json(value), _aad(event_id, name))
    return base64.b64encode(nonce + sealed).decode()


def decrypt(key: bytes, event_id: str, name: str, token: str) -> Any:
    raw = base64.b64decode(token)
    try:
        plain = AESGCM(bytes(key)).decrypt(raw[:12], raw[12:], _aad(event_id, name))
    except InvalidTag:
        raise ValueError(f"personal field {name} of {event_id} does not decrypt") from None
    return json.loads(plain)


def reveal(payload: dict[str, Any], allowed: bool) -> dict[str, Any] | None:
    """The personal fields of a prediction payload: decrypted if ``allowed`` and the subject's
    key still exists, ``[erased]`` once it is destroyed, ``[withheld]`` for other readers."""
    personal = payload.get("personal")
    if not personal:
        return None
    key = SubjectKey.objects.filter(reference=personal["subject"]).first()
    erased = key is None or key.key is None
    fields = {
        name: ERASED
        if erased
        else decrypt(key.key, payload["event_id"], name, token)
        if allowed
        else WITHHELD
        for name, token in personal["fields"].items()
    }
    return {
        "subject": personal["subject"],
        "status": "erased" if erased else "available" if allowed else "withheld",
        "erased_at": key.erased_at if key is not None else None,
        "fields": fields,
    }


def destroy(key: SubjectKey) -> None:
    """Crypto-shred: forget the key and the link to the subject's id, keep the reference."""
    key.key = None
    key.subject_digest = None
    key.erased_at = timezone.now()
    key.save(update_fields=["key", "subject_digest", "erased_at"])
