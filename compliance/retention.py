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
import logging
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from audit import sequencer
from audit.ledger import iso, record_event
from audit.models import (
    Checkpoint,
    GovernanceEvent,
    LedgerEntry,
    OutcomeRecord,
    PredictionRecord,
    SensitiveAttributes,
    SubjectKey,
)
from audit.personal import destroy, subject_digest
from audit.purging import SealTimes, add_months, refusal

from .models import AIModel, LegalHold

log = logging.getLogger(__name__)

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
    refused: list[str] = field(default_factory=list)  # why the database refused a purge


class PurgeRefused(Exception):
    """The database refused to execute a purge event; the message names the rule broken."""


def _ranges(indexes: list[int]) -> list[list[int]]:
    """[[first, last], ...] (inclusive) of sorted leaf indexes: what an auditor reads."""
    ranges: list[list[int]] = []
    for index in indexes:
        if ranges and ranges[-1][1] == index - 1:
            ranges[-1][1] = index
        else:
            ranges.append([index, index])
    return ranges


def purge_expired(*, actor=None, timeout: float = 60.0) -> Purged:
    """Purge the payloads past every model's retention: write one ``ledger.purged`` event per
    model and batch (``plan_purges``), wait until the sequencer has sealed them, then have the
    database execute each (``apply_purge``), which judges it again by the signed checkpoints.
    A purge the database refuses drops nothing and is reported; the next run plans it anew."""
    result, events = plan_purges(actor=actor)
    if events:
        sequencer.await_sealed(events[-1].entry_id, timeout=timeout)
    for event in events:
        try:
            apply_purge(event)
        except PurgeRefused as refused:
            result.refused.append(str(refused))
            log.warning("Purge %s refused: %s", event.entry_id, refused)
            continue
        result.events += 1
        result.predictions += event.after["predictions"]
        result.outcomes += event.after["outcomes"]
    return result


def plan_purges(*, actor=None) -> tuple[Purged, list[GovernanceEvent]]:
    """Write the ``ledger.purged`` events for what is past retention now, unapplied.

    An entry is past retention once a checkpoint issued at least ``retention_months`` ago
    covers it: the same clock the database and the verifier judge by."""
    now = timezone.now()
    held_subjects = LegalHold.objects.active().filter(subject__isnull=False).values("subject")
    held_models = set(
        LegalHold.objects.active().filter(model__isnull=False).values_list("model", flat=True)
    )
    result, events = Purged(), []
    for model in AIModel.objects.order_by("slug"):
        if model.pk in held_models:
            result.held_models.append(model.slug)
            continue
        cutoff = add_months(now, -model.retention_months)
        sealed_before = (
            Checkpoint.objects.filter(issued_at__lte=cutoff)
            .order_by("-tree_size")
            .values_list("tree_size", flat=True)
            .first()
        )
        if not sealed_before:
            continue
        expired = Q(entry__leaf__index__lt=sealed_before, entry__purged_by__isnull=True)
        predictions = PredictionRecord.objects.filter(expired, version__model=model).exclude(
            subject__in=held_subjects
        )
        outcomes = OutcomeRecord.objects.filter(expired, prediction__version__model=model).exclude(
            prediction__subject__in=held_subjects
        )
        after = {"prediction": 0, "outcome": 0}  # keyset: each batch starts past the last
        while True:
            batch = {
                kind: list(
                    rows.filter(entry_id__gt=after[kind])
                    .order_by("entry_id")
                    .values_list("entry_id", "entry__leaf")[:PURGE_BATCH]
                )
                for kind, rows in (("prediction", predictions), ("outcome", outcomes))
            }
            if not batch["prediction"] and not batch["outcome"]:
                break
            events.append(_purge_event(model, cutoff, batch, actor))
            for kind, rows in batch.items():
                after[kind] = rows[-1][0] if rows else after[kind]
    return result, events


def _purge_event(model: AIModel, cutoff: dt.datetime, batch: dict, actor) -> GovernanceEvent:
    rows = batch["prediction"] + batch["outcome"]
    return record_event(
        "ledger.purged",
        actor=actor,
        model=model,
        after={
            "retention_months": model.retention_months,
            "sealed_before": iso(cutoff),
            "predictions": len(batch["prediction"]),
            "outcomes": len(batch["outcome"]),
            "leaf_ranges": _ranges(sorted(leaf for _, leaf in rows)),
        },
        reason=f"Payloads past the retention of {model.retention_months} months "
        "(their leaf hashes stay).",
    )


def apply_purge(event: GovernanceEvent) -> int:
    """Drop the payloads a sealed ``ledger.purged`` event lists, if the rules allow; the
    number dropped. Raises ``PurgeRefused`` naming the rule broken, and drops nothing then.

    On PostgreSQL the database judges and executes it (``public.attest_purge``: the
    application's role may not UPDATE the ledger at all); on SQLite this process does, by the
    same rule (``audit.purging``) the standalone verifier replays."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SELECT public.attest_purge(%s)", [event.entry_id])
                    dropped = cursor.fetchone()[0]
            except DatabaseError as exc:
                if getattr(exc.__cause__, "sqlstate", None) != "AT001":
                    raise
                raise PurgeRefused(exc.__cause__.diag.message_primary) from None
        else:
            dropped = _apply_here(event)
        SensitiveAttributes.objects.filter(prediction__entry__purged_by=event.entry).delete()
    return dropped


def _apply_here(event: GovernanceEvent) -> int:
    payload = event.entry.payload()
    if payload is None or payload.get("event_type") != "ledger.purged":
        raise PurgeRefused(f"entry {event.entry_id} is no ledger.purged event")
    model = AIModel.objects.filter(slug=payload["model"]).first()
    if model is None:
        raise PurgeRefused(f"the purge names no model ({payload['model']})")
    purge_sealed = sequencer.seal_time(event.entry)
    held_models = LegalHold.objects.active().filter(model=model).exists()
    held_subjects = set(
        LegalHold.objects.active().filter(subject__isnull=False).values_list("subject", flat=True)
    )
    listed = Q()
    for first, last in payload["after"]["leaf_ranges"]:
        listed |= Q(leaf__index__gte=first, leaf__index__lte=last)
    entries = (
        LedgerEntry.objects.filter(listed, purged_by__isnull=True)
        .select_related("leaf", "prediction__version", "outcome__prediction__version")
        .order_by("leaf__index")
    )
    # When each listed leaf was first sealed, from one read of the checkpoints covering them
    # (the verifier's SealTimes), not two queries per entry.
    first = min((entry.leaf.index for entry in entries), default=0)
    sealed = SealTimes(
        Checkpoint.objects.filter(tree_size__gt=first).values_list("tree_size", "issued_at")
    )
    for entry in entries:
        prediction = getattr(entry, "prediction", None) or getattr(
            getattr(entry, "outcome", None), "prediction", None
        )
        why = refusal(
            leaf=entry.leaf.index,
            entry_sealed=sealed.of(entry.leaf.index),
            purge_sealed=purge_sealed,
            retention_months=model.retention_months,
            held=held_models,
            kind=entry.kind,
        )
        if why is None and (prediction is None or prediction.version.model_id != model.pk):
            why = f"entry {entry.leaf.index} is not of model {model.slug}"
        if why is None and prediction.subject_id in held_subjects:
            why = f"entry {entry.leaf.index} is about a data subject under a legal hold"
        if why:
            raise PurgeRefused(why)
    return LedgerEntry.objects.filter(pk__in=[entry.pk for entry in entries]).purge(event)
