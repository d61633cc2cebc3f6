"""Writing to the ledger: entries, governance events and alerts.

Every governance action calls :func:`record_event` inside its own transaction, so the action
and its evidence commit together or not at all.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from audit import merkle
from audit.canonical import canonical_json
from audit.projections import event_columns

from .models import Alert, EntryKind, GovernanceEvent, LedgerEntry


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def entry_bytes(kind: str, payload: dict[str, Any]) -> tuple[bytes, bytes]:
    """The canonical bytes of an entry of ``kind`` holding ``payload``, and their leaf hash."""
    canonical = canonical_json({"kind": kind, **payload})
    return canonical, merkle.leaf_hash(canonical)


def new_entry(kind: str, payload: dict[str, Any], received_at) -> LedgerEntry:
    """An unsaved entry holding the canonical bytes of ``payload`` and their leaf hash."""
    canonical, leaf_hash = entry_bytes(kind, payload)
    return LedgerEntry(kind=kind, received_at=received_at, canonical=canonical, leaf_hash=leaf_hash)


def record_event(
    event_type: str,
    *,
    actor=None,
    obj: models.Model | None = None,
    model=None,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    object_id: str | None = None,
) -> GovernanceEvent:
    """Append a governance event (who did what to which object, and why) to the ledger.

    ``object_id`` replaces the object's primary key where that must not be published (an API
    key's primary key contains the hash of its secret).
    """
    now = timezone.now()
    actor_name = actor.get_username() if actor is not None else "system"
    object_type = obj._meta.label if obj is not None else ""
    if object_id is None:
        object_id = str(obj.pk) if obj is not None else ""
    object_repr = str(obj)[:300] if obj is not None else ""
    payload = {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "occurred_at": iso(now),
        "actor": {"id": getattr(actor, "pk", None), "name": actor_name},
        "model": model.slug if model is not None else None,
        "object": {"type": object_type, "id": object_id, "repr": object_repr},
        "before": before,
        "after": after,
        "reason": reason,
    }
    columns = event_columns(payload, {model.slug: model.pk} if model is not None else {})
    columns["occurred_at"] = now  # the moment the payload's text was written from
    with transaction.atomic():
        entry = new_entry(EntryKind.EVENT, payload, now)
        entry.save()
        return GovernanceEvent.objects.create(entry=entry, **columns)


def raise_alert(
    kind: str, *, model, message: str, version=None, subject: str = "", occurrences: int = 1
) -> Alert:
    """Raise an alert, or count one more occurrence of the same open alert.

    ``subject`` tells alerts of one kind apart (defaults to the version label): one alert per
    breach, not one per run. A new alert is also a governance event in the ledger, written in
    the caller's transaction; the returned alert's ``is_new`` tells whether this call raised it
    (so callers notify and open findings once). Repeats are counted after the caller commits,
    so busy writers (ingest) never queue on the alert's row lock.
    """
    now = timezone.now()
    subject = subject or (version.label if version is not None else "")
    open_alerts = Alert.objects.filter(
        kind=kind, model=model, subject=subject, acknowledged_at__isnull=True
    )
    alert = open_alerts.first()
    if alert is None:
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    kind=kind,
                    model=model,
                    version=version,
                    subject=subject,
                    message=message,
                    occurrences=occurrences,
                    first_seen=now,
                    last_seen=now,
                )
                record_event(
                    f"alert.{kind}",
                    obj=alert,
                    model=model,
                    after={"message": message, "subject": subject, "occurrences": occurrences},
                    reason=message,
                )
            alert.is_new = True
            return alert
        except IntegrityError:  # raised at the same moment by another writer
            alert = open_alerts.get()
    pk = alert.pk
    transaction.on_commit(
        lambda: Alert.objects.filter(pk=pk).update(
            occurrences=models.F("occurrences") + occurrences, last_seen=now
        )
    )
    alert.is_new = False
    return alert


def acknowledge_alert(alert: Alert, actor, reason: str) -> Alert:
    """A risk officer acknowledges an open alert: who, when and why, with its ledger event.

    Only holders of ``audit.change_alert`` (risk officers) may; the reason is required. Once
    acknowledged the alert leaves the dashboard, and the same breach raises a new alert.
    """
    from compliance.models import IllegalTransition, RuleViolation

    if not actor.has_perm("audit.change_alert"):
        raise RuleViolation("Only model risk officers may acknowledge alerts.", rule="role")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the alert is acknowledged."})
    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("model").get(pk=alert.pk)
        if alert.acknowledged_at is not None:
            raise IllegalTransition(
                f"Alert #{alert.pk} was acknowledged already, by "
                f"{alert.acknowledged_by.get_username()} at {iso(alert.acknowledged_at)}.",
                state="acknowledged",
            )
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor
        alert.acknowledgement = reason
        alert.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement"])
        record_event(
            "alert.acknowledged",
            actor=actor,
            obj=alert,
            model=alert.model,
            before={"kind": alert.kind, "subject": alert.subject, "open": True},
            after={"acknowledged_at": iso(alert.acknowledged_at), "open": False},
            reason=reason,
        )
    return alert
