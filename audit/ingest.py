"""Ingest of predictions and outcomes: validate a batch, store it once, return receipts.

A batch is all or nothing: one malformed item refuses the whole batch (400) and every bad item
is named. A retry of an already stored event id with the same content returns the original
receipt; the same id with other content is a conflict (409). Inputs that break the version's
input schema and predictions of a version not approved for its environment are still recorded
(the prediction happened), flagged, and raise alerts.

This path runs at production rates, so it validates with plain Python, not serializers, walks
each request once to canonicalise it, reads and writes with hand-written SQL (``audit.rawsql``:
COPY on PostgreSQL), and looks event ids up only when the unique index refuses one.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import jsonschema_rs
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.canonical import canonical_json, path_text, prepare, refusals, sha256_hex
from audit.projections import outcome_columns, prediction_columns, sensitive_digest
from compliance.models import AIModel, ModelVersion
from compliance.serving import ServingHistory

from . import rawsql
from .ledger import entry_bytes, iso, new_entry, raise_alert
from .models import (
    Alert,
    EntryKind,
    Environment,
    LedgerEntry,
    OutcomeRecord,
    PredictionRecord,
    SensitiveAttributes,
    SubjectKey,
    hold_ledger_write_lock,
)
from .personal import content_digest, encrypt, personal_fields_of, subject_keys

PREDICTION_FIELDS = {
    "event_id",
    "model",
    "version",
    "decided_at",
    "inputs",
    "output",
    "explanation",
    "sensitive",
    "context",
    "subject_id",
}
ENVIRONMENTS = frozenset(Environment.values)
OUTCOME_FIELDS = {"outcome_id", "event_id", "outcome", "observed_at", "corrects"}


@dataclass
class BatchRefused(Exception):
    """The batch was refused as a whole; ``errors`` names each bad item."""

    status: int
    detail: str
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Receipt:
    event_id: str
    entry_id: int
    leaf_hash: str
    duplicate: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "entry_id": self.entry_id,
            "leaf_hash": self.leaf_hash,
            "duplicate": self.duplicate,
        }


_validators: dict[str, tuple[Any, Any]] = {}


def schema_errors(version: ModelVersion, inputs: Any) -> list[str]:
    """What is wrong with ``inputs`` under the version's input schema (at most five
    :func:`violation` messages, which never quote a value).

    The Rust validator answers "valid?" in about a microsecond; only invalid inputs pay for
    the reference implementation's errors, which say where and which rule. Validators are
    kept per schema hash.
    """
    pair = _validators.get(version.input_schema_sha256)
    if pair is None:
        schema = version.input_schema
        pair = (
            jsonschema_rs.validator_for(schema),
            jsonschema.validators.validator_for(schema)(schema),
        )
        if len(_validators) > 256:
            _validators.clear()
        _validators[version.input_schema_sha256] = pair
    fast, readable = pair
    if fast.is_valid(inputs):
        return []
    return sorted({violation(error) for error in readable.iter_errors(inputs)})[:5]


def violation(error: jsonschema.ValidationError) -> str:
    """``error`` as the ledger records it: the field's path and the rule it breaks (the
    schema's keyword and limit), never the value.

    jsonschema's own message quotes the value ("'Jane Q. Public' is too long"), and the
    entry is signed and kept for years: a personal field's plaintext would outlive the
    subject's erasure there. The path names only keys the schema declares (under
    ``properties``) and array indexes; any other key is shown as ``*``, since a key the
    sender made up may be data too.

    >>> schema = {"properties": {"name": {"type": "string", "maxLength": 5}}}
    >>> error = next(jsonschema.Draft202012Validator(schema).iter_errors({"name": "Jane Doe"}))
    >>> violation(error)
    'inputs.name: breaks maxLength 5'
    """
    steps = list(error.absolute_schema_path)
    declared = {part for before, part in itertools.pairwise(steps) if before == "properties"}
    path = path_text(
        (
            "inputs",
            *(p if isinstance(p, int) or p in declared else "*" for p in error.absolute_path),
        )
    )
    if error.validator is None:  # the schema ``false``: nothing is allowed there
        return f"{path}: not allowed by the schema"
    limit = canonical_json(error.validator_value).decode()
    if len(limit) > 80:
        limit = limit[:77] + "..."
    return f"{path}: breaks {error.validator} {limit}"


def uuid_text(value: Any) -> str | None:
    """``value`` as a UUID's canonical text, or None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _timestamp(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(dt.UTC)


def _refused(item: Any, errors: dict[str, str]) -> None:
    """Name in ``errors`` each place of ``item`` that canonical JSON refuses (the API's parser
    refuses them first; Python callers might not)."""
    for path, reason in refusals(item):
        errors.setdefault(path_text(path), f"Refused: {reason}.")


# ---------------------------------------------------------------------------- predictions


@dataclass
class _Prediction:
    index: int
    item: dict[str, Any]
    event_id: str
    version: ModelVersion
    decided_at: dt.datetime
    environment: str
    content_sha256: str


def _version_key(item: Any) -> tuple[str, str] | None:
    """(model slug, version label) of a prediction, if both are non-empty strings; else None
    (a list or an object there is no key to look a version up by)."""
    if not isinstance(item, dict):
        return None
    model, label = item.get("model"), item.get("version")
    return (
        (model, label)
        if isinstance(model, str) and isinstance(label, str) and model and label
        else None
    )


def _check_prediction(index: int, item: Any, versions: dict) -> tuple[_Prediction | None, dict]:
    errors: dict[str, str] = {}
    if not isinstance(item, dict):
        return None, {"item": "Each prediction must be a JSON object."}
    unknown = set(item) - PREDICTION_FIELDS
    if unknown:
        errors["item"] = f"Unknown fields: {', '.join(sorted(unknown))}."
    event_id = uuid_text(item.get("event_id"))
    if event_id is None:
        errors["event_id"] = "Required: a UUID that identifies this prediction."
    for name in ("model", "version"):
        if not isinstance(item.get(name), str) or not item.get(name):
            errors[name] = "Required: the model slug and version label that made the prediction."
    key = _version_key(item)
    version = versions.get(key) if key is not None else None
    if version is None and key is not None:
        errors["version"] = f"Unknown model version {item['model']} {item['version']}."
    decided_at = _timestamp(item.get("decided_at"))
    if decided_at is None:
        errors["decided_at"] = "Required: an ISO 8601 timestamp with a time zone."
    if not isinstance(item.get("inputs"), dict):
        errors["inputs"] = "Required: a JSON object of the model's inputs."
    output = item.get("output")
    if not isinstance(output, dict) or "decision" not in output:
        errors["output"] = 'Required: a JSON object with a "decision" (and usually a "score").'
    elif "score" in output and not isinstance(output["score"], int | float):
        errors["output"] = "The score must be a number."
    for name in ("explanation", "sensitive", "context"):
        if item.get(name) is not None and not isinstance(item[name], dict):
            errors[name] = "Must be a JSON object."
    context = item.get("context") or {}
    environment = context.get("environment", "production") if isinstance(context, dict) else None
    if environment not in ENVIRONMENTS:
        errors["context"] = f"environment must be one of {', '.join(Environment.values)}."
    ready = prepare(item)  # walked once here; the entry's payload reuses its parts
    if ready is None:
        _refused(item, errors)
    subject_id = item.get("subject_id")
    if subject_id is not None and (not isinstance(subject_id, str) or not subject_id):
        errors["subject_id"] = "Must be a non-empty string: the data subject's id."
    elif subject_id is None and version is not None and isinstance(item.get("inputs"), dict):
        carried = [name for name in personal_fields_of(version) if name in item["inputs"]]
        if carried:
            errors["subject_id"] = (
                f"Required: the inputs carry personal fields ({', '.join(carried)}), so the "
                "prediction must name its data subject."
            )
    if errors:
        return None, errors
    if ready is not None:
        item = ready
    return (
        _Prediction(
            index=index,
            item=item,
            event_id=event_id,
            version=version,
            decided_at=decided_at,
            environment=environment,
            content_sha256=content_digest(item),
        ),
        {},
    )


def ingest_predictions(items: Sequence[Any]) -> list[Receipt]:
    """Store a batch of predictions once; return a receipt per item, in order.

    Nearly every event id is new, so the batch is first written without looking its ids up:
    the unique event id refuses a retry (IntegrityError, and the transaction rolls back), and
    then the batch is taken again with the lookup, which answers retries and conflicts.
    """
    try:
        return _ingest_predictions(items, look_up=False)
    except IntegrityError:
        pass
    try:
        return _ingest_predictions(items, look_up=True)
    except IntegrityError:
        # A concurrent request stored one of these event ids after the lookup: look again.
        return _ingest_predictions(items, look_up=True)


def _ingest_predictions(items: Sequence[Any], look_up: bool) -> list[Receipt]:
    keys = {key for item in items if (key := _version_key(item)) is not None}
    versions = _versions(keys)
    checked: list[_Prediction] = []
    errors = []
    for index, item in enumerate(items):
        prediction, problems = _check_prediction(index, item, versions)
        if problems:
            errors.append({"index": index, "event_id": _event_id_of(item), "errors": problems})
        else:
            checked.append(prediction)
    if errors:
        raise BatchRefused(400, f"{len(errors)} of {len(items)} items are invalid.", errors)

    existing = _stored(p.event_id for p in checked) if look_up else {}
    first_in_batch: dict[str, _Prediction] = {}
    conflicts, new = [], []
    for p in checked:
        stored = existing.get(p.event_id)
        earlier = first_in_batch.get(p.event_id)
        if stored is not None and stored.content_sha256 != p.content_sha256:
            conflicts.append(p)
        elif earlier is not None and earlier.content_sha256 != p.content_sha256:
            conflicts.append(p)
        elif stored is None and earlier is None:
            first_in_batch[p.event_id] = p
            new.append(p)
    if conflicts:
        raise BatchRefused(
            409,
            "An event id was already used for a different prediction.",
            [
                {
                    "index": p.index,
                    "event_id": p.event_id,
                    "errors": {"event_id": "Already recorded with different content."},
                }
                for p in conflicts
            ],
        )

    stored_now = _store_predictions(new) if new else {}
    receipts = []
    for p in checked:
        if p.event_id in existing:
            record = existing[p.event_id]
            receipts.append(_receipt(p.event_id, record.entry, duplicate=True))
        else:
            entry_id, leaf_hash, first = stored_now[p.event_id]
            receipts.append(Receipt(p.event_id, entry_id, leaf_hash.hex(), first is not p))
    return receipts


def _stored(event_ids) -> dict[str, PredictionRecord]:
    records = PredictionRecord.objects.filter(event_id__in=list(event_ids)).select_related("entry")
    return {str(record.event_id): record for record in records}


def _versions(keys: set) -> dict:
    """The versions named by (model slug, label) pairs, with their model: one hand-written
    query, read once per request."""
    slugs = sorted({slug for slug, _ in keys})
    labels = sorted({label for _, label in keys if isinstance(label, str)})
    if not slugs or not labels:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_versions_sql(connection.vendor, len(slugs), len(labels)), slugs + labels)
        rows = cursor.fetchall()
    found = {}
    model_starts = len(VERSION_COLUMNS)
    for row in rows:
        version = rawsql.instance(ModelVersion, VERSION_COLUMNS, row[:model_starts])
        version.model = rawsql.instance(AIModel, MODEL_COLUMNS, row[model_starts:])
        if (version.model.slug, version.label) in keys:
            found[version.model.slug, version.label] = version
    return found


# What ingest reads of a version and its model (the bundle's JSON only if a cache misses).
VERSION_COLUMNS = (
    "id",
    "model_id",
    "label",
    "state",
    "approval_expires_at",
    "manifest_sha256",
    "input_schema_sha256",
)
MODEL_COLUMNS = ("id", "slug", "favourable_value")


@functools.lru_cache(maxsize=64)  # keyed by how many slugs and labels a batch names
def _versions_sql(vendor: str, slugs: int, labels: int) -> str:
    q = connection.ops.quote_name

    def columns(model, alias: str, names) -> list[str]:
        return [f"{alias}.{q(model._meta.get_field(name).column)}" for name in names]

    return (
        f"SELECT {', '.join(columns(ModelVersion, 'v', VERSION_COLUMNS))}, "
        f"{', '.join(columns(AIModel, 'm', MODEL_COLUMNS))} "
        f"FROM {q(ModelVersion._meta.db_table)} v "
        f"JOIN {q(AIModel._meta.db_table)} m ON m.{q('id')} = v.{q('model_id')} "
        f"WHERE m.{q('slug')} IN ({', '.join(['%s'] * slugs)}) "
        f"AND v.{q('label')} IN ({', '.join(['%s'] * labels)})"
    )


def _event_id_of(item: Any) -> Any:
    return item.get("event_id") if isinstance(item, dict) else None


def _receipt(event_id: str, entry: LedgerEntry, duplicate: bool) -> Receipt:
    return Receipt(event_id, entry.pk, bytes(entry.leaf_hash).hex(), duplicate)


def _personal_apart(p: _Prediction, keys: dict[str, SubjectKey]) -> dict[str, Any]:
    """The ``inputs`` and ``personal`` of the payload: personal fields leave the inputs and
    come back as ciphertext under the subject's key."""
    inputs, subject_id = p.item["inputs"], p.item.get("subject_id")
    if subject_id is None:
        return {"inputs": inputs, "personal": None}
    key = keys[subject_id]
    names = [name for name in personal_fields_of(p.version) if name in inputs]
    return {
        "inputs": {name: value for name, value in inputs.items() if name not in names},
        "personal": {
            "subject": str(key.reference),
            "fields": {name: encrypt(key.key, p.event_id, name, inputs[name]) for name in names},
        },
    }


def _store_predictions(new: list[_Prediction]) -> dict[str, tuple[int, bytes, _Prediction]]:
    """Write the entries, records and sensitive attributes of ``new`` in one transaction; the
    entry id and leaf hash of each, by event id."""
    now = timezone.now()
    received = iso(now)
    entries, records, sensitive = [], [], []
    violations: dict[ModelVersion, int] = {}
    unapproved: dict[ModelVersion, int] = {}
    histories: dict[tuple[int, str], ServingHistory] = {}
    keys = subject_keys(p.item["subject_id"] for p in new if p.item.get("subject_id"))
    for p in new:
        item, version = p.item, p.version
        problems = schema_errors(version, item["inputs"])
        history = histories.get((version.pk, p.environment))
        if history is None:  # loaded once per version and environment of a batch
            history = histories[version.pk, p.environment] = ServingHistory(
                version.pk, p.environment
            )
        approved = history.approved(p.decided_at)  # when it decided, not when it is logged
        values = item.get("sensitive")
        salt = os.urandom(16) if values else b""
        payload = {
            "event_id": p.event_id,
            "model": version.model.slug,
            "version": version.label,
            "version_manifest_sha256": version.manifest_sha256,
            "decided_at": iso(p.decided_at),
            "received_at": received,
            **_personal_apart(p, keys),
            "output": item["output"],
            "explanation": item.get("explanation"),
            "context": item.get("context") or {},
            "sensitive_sha256": sensitive_digest(salt, values) if values else None,
            "schema_violations": problems,
            "unapproved_version": not approved,
            "content_hmac": p.content_sha256,
        }
        kind = EntryKind.PREDICTION.value
        entries.append((kind, now, *entry_bytes(kind, payload)))
        if problems:
            violations[version] = violations.get(version, 0) + 1
        if not approved:
            unapproved[version] = unapproved.get(version, 0) + 1
        columns = prediction_columns(payload, version.pk, version.model.favourable_value)
        subject = keys.get(item.get("subject_id"))
        records.append(
            [
                None,  # entry_id, once drawn
                columns["event_id"],
                version.pk,
                p.decided_at,  # the moments the payload's times were written from
                now,
                columns["environment"],
                columns["score"],
                columns["favourable"],
                columns["schema_violation"],
                columns["unapproved_version"],
                columns["content_sha256"],
                subject.pk if subject is not None else None,
            ]
        )
        sensitive.append((values, salt))

    with transaction.atomic():
        hold_ledger_write_lock()
        entry_ids = rawsql.insert(LedgerEntry, ENTRY_COLUMNS, entries, ids=True)
        for record, entry_id in zip(records, entry_ids, strict=True):
            record[0] = entry_id
        record_ids = rawsql.insert(PredictionRecord, RECORD_COLUMNS, records, ids=True)
        rawsql.insert(
            SensitiveAttributes,
            ("prediction_id", "values", "salt"),
            [
                (record_id, values, salt)
                for record_id, (values, salt) in zip(record_ids, sensitive, strict=True)
                if values
            ],
        )
        for version, count in violations.items():
            raise_alert(
                Alert.Kind.SCHEMA_VIOLATION,
                model=version.model,
                version=version,
                message=f"Inputs of {version} do not match its input schema "
                "(training-serving skew).",
                occurrences=count,
            )
        for version, count in unapproved.items():
            raise_alert(
                Alert.Kind.UNAPPROVED_VERSION,
                model=version.model,
                version=version,
                message=f"{version} made decisions when it was not the approved, deployed "
                "version for their environment.",
                occurrences=count,
            )
    return {
        p.event_id: (entry_id, entry[3], p)
        for p, entry_id, entry in zip(new, entry_ids, entries, strict=True)
    }


ENTRY_COLUMNS = ("kind", "received_at", "canonical", "leaf_hash")
RECORD_COLUMNS = (
    "entry_id",
    "event_id",
    "version_id",
    "decided_at",
    "received_at",
    "environment",
    "score",
    "favourable",
    "schema_violation",
    "unapproved_version",
    "content_sha256",
    "subject_id",
)


# ---------------------------------------------------------------------------- outcomes


def ingest_outcomes(items: Sequence[Any]) -> list[Receipt]:
    """Store a batch of outcomes once; return a receipt per item (keyed by outcome id)."""
    try:
        return _ingest_outcomes(items)
    except IntegrityError:
        return _ingest_outcomes(items)


def _check_outcome(item: Any) -> dict[str, str]:
    if not isinstance(item, dict):
        return {"item": "Each outcome must be a JSON object."}
    errors = {}
    unknown = set(item) - OUTCOME_FIELDS
    if unknown:
        errors["item"] = f"Unknown fields: {', '.join(sorted(unknown))}."
    if uuid_text(item.get("outcome_id")) is None:
        errors["outcome_id"] = "Required: a UUID that identifies this outcome."
    if uuid_text(item.get("event_id")) is None:
        errors["event_id"] = "Required: the event id of the prediction this is the outcome of."
    if not isinstance(item.get("outcome"), dict):
        errors["outcome"] = 'Required: a JSON object, e.g. {"label": 1}.'
    if _timestamp(item.get("observed_at")) is None:
        errors["observed_at"] = "Required: an ISO 8601 timestamp with a time zone."
    if item.get("corrects") is not None and uuid_text(item["corrects"]) is None:
        errors["corrects"] = "Must be the outcome id of the outcome this one corrects."
    _refused(item, errors)
    return errors


def _same_prediction(item: dict, target: str, corrected: dict, items, predictions) -> bool:
    """Whether the outcome ``item`` corrects is of the same prediction: a correction never
    reaches another prediction's outcome (nor, so, another model's, outside a key's scope)."""
    prediction = predictions.get(uuid_text(item["event_id"])) or predictions.get(item["event_id"])
    if target in corrected:
        return prediction is not None and corrected[target].prediction_id == prediction.pk
    return any(
        uuid_text(other["outcome_id"]) == uuid_text(target)
        and uuid_text(other["event_id"]) == uuid_text(item["event_id"])
        for other in items
    )


def _ingest_outcomes(items: Sequence[Any]) -> list[Receipt]:
    errors = []
    for index, item in enumerate(items):
        problems = _check_outcome(item)
        if problems:
            errors.append({"index": index, "event_id": _event_id_of(item), "errors": problems})
    if errors:
        raise BatchRefused(400, f"{len(errors)} of {len(items)} items are invalid.", errors)

    ids = [str(uuid.UUID(item["outcome_id"])) for item in items]
    predictions = {
        str(p.event_id): p
        for p in PredictionRecord.objects.filter(
            event_id__in={item["event_id"] for item in items}
        ).only("id", "event_id")
    }
    existing = {
        str(o.outcome_id): o
        for o in OutcomeRecord.objects.filter(outcome_id__in=ids).select_related("entry")
    }
    corrected_ids = {item["corrects"] for item in items if item.get("corrects")}
    corrected = {
        str(o.outcome_id): o for o in OutcomeRecord.objects.filter(outcome_id__in=corrected_ids)
    }
    hashes = [sha256_hex(canonical_json(item)) for item in items]
    batch_ids = set(ids)
    for index, item in enumerate(items):
        problems = {}
        if (
            item["event_id"] not in predictions
            and str(uuid.UUID(item["event_id"])) not in predictions
        ):
            problems["event_id"] = f"No prediction with event id {item['event_id']} is recorded."
        target = item.get("corrects")
        if target and target not in corrected and target not in batch_ids:
            problems["corrects"] = f"No outcome {target} is recorded."
        elif target and not _same_prediction(item, target, corrected, items, predictions):
            problems["corrects"] = (
                f"Outcome {target} is not an outcome of prediction {item['event_id']}."
            )
        if problems:
            errors.append({"index": index, "event_id": item["event_id"], "errors": problems})
    if errors:
        raise BatchRefused(400, f"{len(errors)} of {len(items)} items are invalid.", errors)
    conflicts = [
        {
            "index": i,
            "event_id": items[i]["event_id"],
            "errors": {"outcome_id": "Already recorded with different content."},
        }
        for i, oid in enumerate(ids)
        if oid in existing and existing[oid].content_sha256 != hashes[i]
    ]
    if conflicts:
        raise BatchRefused(
            409, "An outcome id was already used for a different outcome.", conflicts
        )

    now = timezone.now()
    receipts: list[Receipt | None] = [None] * len(items)
    stored: dict[str, OutcomeRecord] = {}
    pending = []
    for i, oid in enumerate(ids):
        if oid in existing:
            receipts[i] = _receipt(oid, existing[oid].entry, duplicate=True)
        else:
            pending.append(i)
    with transaction.atomic():
        # In generations: an outcome correcting one of this batch waits for it to be stored.
        while pending:
            ready = [
                i
                for i in pending
                if not items[i].get("corrects")
                or items[i]["corrects"] not in batch_ids
                or items[i]["corrects"] in stored
            ]
            if not ready:
                raise BatchRefused(
                    400,
                    "These outcomes correct each other in a cycle.",
                    [
                        {
                            "index": i,
                            "event_id": items[i]["event_id"],
                            "errors": {"corrects": "Part of a cycle of corrections."},
                        }
                        for i in pending
                    ],
                )
            fresh = {ids[i]: i for i in ready if ids[i] not in stored}
            entries, records = [], []
            for oid, i in fresh.items():
                item = items[i]
                prediction = predictions[str(uuid.UUID(item["event_id"]))]
                observed = _timestamp(item["observed_at"])
                target = item.get("corrects")
                payload = {
                    "outcome_id": oid,
                    "event_id": str(prediction.event_id),
                    "outcome": item["outcome"],
                    "observed_at": iso(observed),
                    "received_at": iso(now),
                    "corrects": target,
                    "content_sha256": hashes[i],
                }
                entries.append(new_entry(EntryKind.OUTCOME, payload, now))
                columns = outcome_columns(payload)
                records.append(
                    OutcomeRecord(
                        outcome_id=columns["outcome_id"],
                        prediction=prediction,
                        label=columns["label"],
                        observed_at=observed,
                        received_at=now,
                        corrects=(stored.get(target) or corrected.get(target)) if target else None,
                        content_sha256=columns["content_sha256"],
                    )
                )
            LedgerEntry.objects.bulk_create(entries)
            for entry, record in zip(entries, records, strict=True):
                record.entry = entry
            OutcomeRecord.objects.bulk_create(records)
            stored.update(
                (r.outcome_id if isinstance(r.outcome_id, str) else str(r.outcome_id), r)
                for r in records
            )
            for i in ready:
                record = stored[ids[i]]
                receipts[i] = _receipt(ids[i], record.entry, duplicate=i != fresh.get(ids[i]))
            pending = [i for i in pending if i not in set(ready)]
    return receipts
