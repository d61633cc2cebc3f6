"""The full trail of one prediction, in one call: what an auditor asks for first."""

from __future__ import annotations

from typing import Any

from compliance.api.serializers import ModelVersionSerializer
from compliance.explanations import trail_explanation
from compliance.serving import ServingHistory

from . import sequencer
from .models import GovernanceEvent, LedgerEntry, PredictionRecord
from .personal import reveal


def _purge(entry: LedgerEntry) -> dict[str, Any] | None:
    """Past retention the payload is gone (``record`` is None): which event purged it."""
    if not entry.purged:
        return None
    event = GovernanceEvent.objects.get(entry_id=entry.purged_by_id)
    return {"event_id": event.entry.payload()["event_id"], "at": event.occurred_at}


def prediction_trail(record: PredictionRecord, include_sensitive: bool) -> dict[str, Any]:
    """Record, version bundle, approval state at decision time, outcomes, receipt, and the
    explanation (as logged, or computed in the background) with its reason codes.

    Personal fields are decrypted for readers of sensitive data (``include_sensitive``) and
    shown as erased once their subject's key is destroyed."""
    entry = record.entry
    payload = entry.payload()
    version = record.version
    events = GovernanceEvent.objects.filter(
        object_type="compliance.ModelVersion",
        object_id=str(version.pk),
        occurred_at__lte=record.decided_at,
    ).order_by("occurred_at")
    outcomes = [
        {
            "outcome_id": str(o.outcome_id),
            "outcome": (o.entry.payload() or {}).get("outcome"),
            "observed_at": o.observed_at,
            "corrects": str(o.corrects.outcome_id) if o.corrects else None,
            "entry_id": o.entry_id,
        }
        for o in record.outcomes.select_related("entry", "corrects").order_by("received_at")
    ]
    corrected = {o["corrects"] for o in outcomes if o["corrects"]}
    current = [o for o in outcomes if o["outcome_id"] not in corrected]
    explanation, reasons = trail_explanation(record, payload or {})
    trail = {
        "event_id": str(record.event_id),
        "entry_id": entry.pk,
        "record": payload,
        "purged": _purge(entry),
        "personal": reveal(payload, allowed=include_sensitive) if payload else None,
        "flags": {
            "schema_violation": record.schema_violation,
            "unapproved_version": record.unapproved_version,
        },
        "version": ModelVersionSerializer(version).data,
        # Judged at ``decided_at`` by the rule ingest flagged the record with; the approval
        # and the deployment in force then are named with the events that recorded them.
        "approval_at_decision": {
            **ServingHistory(version.pk, record.environment).evidence(record.decided_at),
            "events": [
                {"type": e.event_type, "at": e.occurred_at, "actor": e.actor_name} for e in events
            ],
        },
        "outcome": current[-1] if current else None,
        "outcomes": outcomes,
        "receipt": sequencer.receipt(entry) or {"status": "pending"},
        "explanation": explanation,
        "reason_codes": reasons,
    }
    if include_sensitive:
        sensitive = getattr(record, "sensitive", None)
        trail["sensitive"] = sensitive.values if sensitive is not None else None
    return trail
