"""The tables that reports, documents, trails and workflow decisions read, as projections of
the ledger: each row's columns derived from entries, one rule per table, without Django.

Two kinds:

* **Entry projections**: one row per entry of a kind (``GovernanceEvent`` per event,
  ``PredictionRecord`` per prediction, ``OutcomeRecord`` per outcome, ``ExplanationRecord`` per
  explanation) and the ``SensitiveAttributes`` a prediction commits to by a salted digest.
  Ingest and :func:`audit.ledger.record_event` build their rows with the functions below, and
  the verifiers rebuild every row with the same functions, so a rule is written once.
* **State projections**: mutable governance rows (a model's risk tier, a version's approval
  expiry, a legal hold's release …). Every change to them is a governance event; a
  :class:`StateRule` says which events set which fields of which rows, and the verifiers replay
  the events and compare each row's current fields with what the ledger last recorded. A rule
  travels in the export (the first line of its file) so the standalone verifier needs no
  knowledge of the application's tables; the application registers its rules
  (``audit.state``).

Values are compared as RFC 8785 canonical JSON (``1`` and ``1.0`` are the same number, ``1``
and ``true`` are not); lists of a state field compare as multisets (a team has no order).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from audit.canonical import canonical_json

# The table each kind of entry is projected to: every entry of the kind has exactly one row.
KIND_TABLES = {
    "event": "audit_governanceevent",
    "prediction": "audit_predictionrecord",
    "outcome": "audit_outcomerecord",
    "explanation": "audit_explanationrecord",
}
SENSITIVE_TABLE = "audit_sensitiveattributes"


def event_columns(payload: Mapping[str, Any], model_ids: Mapping[str, int]) -> dict[str, Any]:
    """A ``GovernanceEvent``'s columns from its entry; ``model_ids`` maps a model's slug to its
    primary key (the event names the model by slug)."""
    actor, obj = payload["actor"], payload["object"]
    slug = payload["model"]
    return {
        "event_type": payload["event_type"],
        "occurred_at": payload["occurred_at"],
        "actor_id": actor["id"],
        "actor_name": actor["name"],
        "model_id": model_ids.get(slug) if slug is not None else None,
        "object_type": obj["type"],
        "object_id": obj["id"],
        "object_repr": obj["repr"],
        "before": payload["before"],
        "after": payload["after"],
        "reason": payload["reason"],
    }


def prediction_columns(
    payload: Mapping[str, Any], version_id: int | None, favourable_value: Any
) -> dict[str, Any]:
    """A ``PredictionRecord``'s columns from its entry. ``favourable_value`` is the decision
    the model counts as favourable, as its record stood when the prediction was logged."""
    output = payload["output"]
    personal = payload.get("personal")
    return {
        "event_id": payload["event_id"],
        "version_id": version_id,
        "decided_at": payload["decided_at"],
        "received_at": payload["received_at"],
        "environment": payload["context"].get("environment", "production"),
        "score": output.get("score"),
        "favourable": output["decision"] == favourable_value,
        "schema_violation": bool(payload["schema_violations"]),
        "unapproved_version": payload["unapproved_version"],
        "content_sha256": payload["content_hmac"],
        "subject": personal["subject"] if personal else None,
    }


def outcome_columns(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An ``OutcomeRecord``'s columns from its entry (``prediction`` and ``corrects`` by the
    event id and the outcome id they name)."""
    return {
        "outcome_id": payload["outcome_id"],
        "prediction": payload["event_id"],
        "label": payload["outcome"].get("label"),
        "observed_at": payload["observed_at"],
        "received_at": payload["received_at"],
        "corrects": payload["corrects"],
        "content_sha256": payload["content_sha256"],
    }


def explanation_columns(payload: Mapping[str, Any], version_id: int | None) -> dict[str, Any]:
    """An ``ExplanationRecord``'s columns from its entry; ``prediction_leaf`` is the leaf of the
    prediction it explains, whose ``decided_at`` the record repeats."""
    computed = payload["status"] == "computed"
    additivity = payload.get("additivity") or {}
    return {
        "prediction": payload["event_id"],
        "prediction_leaf": payload["prediction"]["leaf_index"],
        "version_id": version_id,
        "computed_at": payload["computed_at"],
        "status": payload["status"],
        "method": payload["explainer"]["method"],
        "output_space": payload["explainer"]["output_space"],
        "base_value": payload.get("base_value") if computed else None,
        "model_output": payload.get("model_output") if computed else None,
        "contributions": payload.get("contributions") if computed else None,
        "additivity_error": additivity.get("error") if computed else None,
        "additive": additivity.get("holds") if computed else None,
        "note": "" if computed else payload.get("reason", ""),
    }


def sensitive_digest(salt: bytes, values: Any) -> str:
    """What a prediction's entry commits to of its sensitive attributes: SHA-256(salt ‖
    canonical values), hex. The salt keeps a small set of values from being guessed."""
    return hashlib.sha256(salt + canonical_json(values)).hexdigest()


_PLAIN = (str, int, bool, type(None))


def same(a: Any, b: Any, *, unordered: bool = False) -> bool:
    """Whether two JSON values are equal as RFC 8785 canonical JSON; ``unordered``: lists as
    multisets."""
    if type(a) is type(b) and type(a) in _PLAIN:  # the common case, without canonicalising
        return a == b
    if type(a) is float and type(b) is float:  # JSON has no NaN; -0.0 and 0.0 both write "0"
        return a == b
    if unordered and isinstance(a, list) and isinstance(b, list):
        return sorted(map(canonical_json, a)) == sorted(map(canonical_json, b))
    try:
        return a == b and canonical_json(a) == canonical_json(b)
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Difference:
    """One column of one row that is not what the ledger says."""

    table: str
    pk: Any
    column: str
    stored: Any
    derived: Any

    def __str__(self) -> str:
        return (
            f"{self.table} {self.pk}: {self.column} is {_short(self.stored)}, the ledger says "
            f"{_short(self.derived)}"
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def differences(table: str, pk: Any, stored: Mapping, derived: Mapping) -> list[Difference]:
    """The columns of ``derived`` that ``stored`` does not hold as derived."""
    return [
        Difference(table, pk, column, stored.get(column), value)
        for column, value in derived.items()
        if not same(stored.get(column), value)
    ]


@dataclass(frozen=True)
class StateRule:
    """How governance events set the audited fields of one mutable table.

    ``events`` maps an event type to what it does to the row named by the event's object (type
    ``object_type``, id = the row's primary key): ``"after"`` sets the fields the event's
    ``after`` holds, ``"deleted"`` removes the row, a dict sets those fields to those values.
    ``defaults`` are the fields' values before any event sets them (an empty team);
    ``aliases`` other names an event may give a field (``model_id`` for ``model``).
    """

    table: str
    object_type: str
    fields: tuple[str, ...]
    events: Mapping[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": "state",
            "table": self.table,
            "object_type": self.object_type,
            "fields": list(self.fields),
            "events": dict(self.events),
            "defaults": dict(self.defaults),
            "aliases": dict(self.aliases),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> StateRule:
        return cls(
            obj["table"], obj["object_type"], tuple(obj["fields"]), obj["events"],
            obj.get("defaults") or {}, obj.get("aliases") or {},
        )  # fmt: skip


class StateReplay:
    """The rows of one :class:`StateRule`'s table as the ledger's events, seen in leaf order,
    last set them."""

    def __init__(self, rule: StateRule) -> None:
        self.rule = rule
        self.rows: dict[str, dict[str, Any]] = {}

    def observe(self, event: Mapping[str, Any]) -> None:
        effect = self.rule.events.get(event.get("event_type"))
        obj = event.get("object") or {}
        if effect is None or obj.get("type") != self.rule.object_type:
            return
        pk = str(obj.get("id"))
        if effect == "deleted":
            self.rows.pop(pk, None)
            return
        values = event.get("after") if effect == "after" else effect
        row = self.rows.setdefault(pk, dict(self.rule.defaults))
        if isinstance(values, Mapping):
            for name, value in values.items():
                name = self.rule.aliases.get(name, name)
                if name in self.rule.fields:
                    row[name] = value

    def compare(self, current: Mapping[str, Mapping[str, Any]]) -> list[Difference]:
        """``current``: the table's rows (primary key -> fields) as stored now."""
        found = []
        table = self.rule.table
        for pk, stored in current.items():
            recorded = self.rows.get(str(pk))
            if recorded is None:
                found.append(Difference(table, pk, "(row)", "present", "no event records it"))
                continue
            for column in self.rule.fields:
                if column in recorded and not same(
                    stored.get(column), recorded[column], unordered=True
                ):
                    found.append(
                        Difference(table, pk, column, stored.get(column), recorded[column])
                    )
        for pk in self.rows.keys() - {str(pk) for pk in current}:
            found.append(Difference(table, pk, "(row)", "missing", "recorded, never deleted"))
        return found
