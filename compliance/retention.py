"""Retention, legal holds and erasure: what the log may forget, and how it says so.

* ``purge_expired`` drops the payloads of sealed predictions and outcomes older than their
  model's retention period (``AIModel.retention_months``, at least six months: EU AI Act
  Art. 19), except under a legal hold. Leaf hashes, the tree and every checkpoint stay, so the
  ledger still verifies; each purge is a ``ledger.purged`` event listing the leaf ranges.
* ``erase_subject`` destroys a data subject's key (crypto-shredding): the personal fields in
  their entries can no longer be read; the entries' bytes do not change.
* ``place_legal_hold`` / ``release_legal_hold`` keep a model's or a subject's data whatever
  its age.

Each action runs in one transaction with its ledger event, like every workflow step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import sequencer
from audit.ledger import iso, record_event
from audit.models import (
    LedgerEntry,
    OutcomeRecord,
    PredictionRecord,
    SensitiveAttributes,
    SubjectKey,
)
from audit.personal import destroy, subject_digest

from .models import AIModel, LegalHold, add_months

PURGE_BATCH = 10_000


class RetentionError(Exception):
    """A refused erasure or hold, with the reason in words."""


def find_subject(subject_id: str) -> SubjectKey:
    key = SubjectKey.objects.filter(subject_digest=subject_digest(subject_id)).first()
    if key is None:
        raise RetentionError(f"No data subject {subject_id!r} is recorded (or it was erased).")
    return key


# ---------------------------------------------------------------------------- retention


def set_retention(model: AIModel, months: int, *, actor=None, reason: str = "") -> AIModel:
    """Change how long the model's payloads are kept; the history makes it a ledger event."""
    model.retention_months = months
    model.full_clean()
    model._change_reason = reason
    model._history_user = actor
    model.save()
    return model


def place_legal_hold(*, reason: str, actor=None, model=None, subject=None) -> LegalHold:
    if not reason.strip():
        raise RetentionError("A legal hold needs its reason.")
    with transaction.atomic():
        hold = LegalHold(model=model, subject=subject, reason=reason, placed_by=actor)
        hold.full_clean()
        hold.save()
        record_event(
            "legal_hold.placed", actor=actor, obj=hold, model=model, after=_target(hold),
            reason=reason,
        )  # fmt: skip
    return hold


def release_legal_hold(hold: LegalHold, *, reason: str, actor=None) -> LegalHold:
    if hold.released_at is not None:
        raise RetentionError(f"{hold} was already released on {hold.released_at:%Y-%m-%d}.")
    if not reason.strip():
        raise RetentionError("Releasing a legal hold needs its reason.")
    with transaction.atomic():
        hold.released_at, hold.released_by, hold.release_reason = timezone.now(), actor, reason
        hold.save(update_fields=["released_at", "released_by", "release_reason"])
        record_event(
            "legal_hold.released", actor=actor, obj=hold, model=hold.model,
            before=_target(hold), reason=reason,
        )  # fmt: skip
    return hold


def _target(hold: LegalHold) -> dict[str, str | None]:
    return {
        "model": hold.model.slug if hold.model_id else None,
        "subject": str(hold.subject.reference) if hold.subject_id else None,
    }


# ---------------------------------------------------------------------------- erasure


def erase_subject(subject_id: str, *, actor=None, reason: str = "") -> SubjectKey:
    """Crypto-shred one data subject: destroy their key and delete their sensitive attributes.

    Refused while the subject, or a model that made predictions about them, is under a legal
    hold (GDPR Art. 17(3)(e)). The event names the subject by its pseudonymous reference only.
    """
    key = find_subject(subject_id)
    predictions = PredictionRecord.objects.filter(subject=key)
    holds = LegalHold.objects.active().filter(
        Q(subject=key) | Q(model__versions__predictions__subject=key)
    )
    if holds.exists():
        raise RetentionError(f"Data subject {key.reference} is under {holds.first()}.")
    with transaction.atomic():
        deleted, _ = SensitiveAttributes.objects.filter(prediction__subject=key).delete()
        count = predictions.count()
        destroy(key)
        record_event(
            "subject.erased",
            actor=actor,
            obj=key,
            after={
                "subject": str(key.reference),
                "predictions": count,
                "sensitive_attributes_deleted": deleted,
            },
            reason=reason or "Erasure requested by the data subject (GDPR Art. 17).",
        )
    return key


# ---------------------------------------------------------------------------- purge


@dataclass
class Purged:
    events: int = 0
    predictions: int = 0
    outcomes: int = 0
    held_models: list[str] = field(default_factory=list)


def _ranges(indexes: list[int]) -> list[list[int]]:
    """[[first, last], ...] (inclusive) of sorted leaf indexes: what an auditor reads."""
    ranges: list[list[int]] = []
    for index in indexes:
        if ranges and ranges[-1][1] == index - 1:
            ranges[-1][1] = index
        else:
            ranges.append([index, index])
    return ranges


def purge_expired(now: dt.datetime | None = None, *, actor=None) -> Purged:
    """Purge the payloads past every model's retention; one ``ledger.purged`` event per model
    and batch. Then seal, so an export taken next holds the events the purged entries name."""
    now = now or timezone.now()
    held_subjects = LegalHold.objects.active().filter(subject__isnull=False).values("subject")
    held_models = set(
        LegalHold.objects.active().filter(model__isnull=False).values_list("model", flat=True)
    )
    result = Purged()
    for model in AIModel.objects.order_by("slug"):
        if model.pk in held_models:
            result.held_models.append(model.slug)
            continue
        cutoff = add_months(now, -model.retention_months)
        kept = Q(entry__purged_by__isnull=False) | Q(entry__leaf__isnull=True)
        predictions = (
            PredictionRecord.objects.filter(version__model=model, received_at__lt=cutoff)
            .exclude(kept)
            .exclude(subject__in=held_subjects)
        )
        outcomes = (
            OutcomeRecord.objects.filter(prediction__version__model=model, received_at__lt=cutoff)
            .exclude(kept)
            .exclude(prediction__subject__in=held_subjects)
        )
        after = {"prediction": 0, "outcome": 0}  # keyset: each batch starts past the last
        while True:
            batch = {
                kind: list(
                    rows.filter(entry_id__gt=after[kind])
                    .order_by("entry_id")
                    .values_list("id", "entry_id", "entry__leaf")[:PURGE_BATCH]
                )
                for kind, rows in (("prediction", predictions), ("outcome", outcomes))
            }
            if not batch["prediction"] and not batch["outcome"]:
                break
            _purge_batch(model, cutoff, batch, actor)
            for kind, rows in batch.items():
                after[kind] = rows[-1][1] if rows else after[kind]
            result.events += 1
            result.predictions += len(batch["prediction"])
            result.outcomes += len(batch["outcome"])
    if result.events:
        sequencer.seal_all()
    return result


def _purge_batch(model: AIModel, cutoff: dt.datetime, batch: dict, actor) -> None:
    rows = batch["prediction"] + batch["outcome"]
    with transaction.atomic():
        event = record_event(
            "ledger.purged",
            actor=actor,
            model=model,
            after={
                "retention_months": model.retention_months,
                "received_before": iso(cutoff),
                "predictions": len(batch["prediction"]),
                "outcomes": len(batch["outcome"]),
                "leaf_ranges": _ranges(sorted(leaf for _, _, leaf in rows)),
            },
            reason=f"Payloads past the retention of {model.retention_months} months "
            "(their leaf hashes stay).",
        )
        LedgerEntry.objects.filter(id__in=[entry for _, entry, _ in rows]).purge(event)
        SensitiveAttributes.objects.filter(
            prediction_id__in=[pk for pk, _, _ in batch["prediction"]]
        ).delete()
