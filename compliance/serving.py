"""Whether a decision was served by an approved, deployed version: the one rule.

Batch scoring is often logged hours or days after the decisions were made, so the question is
never "is this version approved now?" but "was it approved, and deployed in this environment,
at the moment it decided?". Ingest (the record's ``unapproved_version`` flag, the ledger
payload, the alert), the trail and the documents all ask :class:`ServingHistory`, so they
cannot disagree.

    history = ServingHistory(version_id, "production")  # two queries
    history.approved(decided_at)                         # then pure Python, per decision
    history.at(decided_at).approval                      # the approval in force, or None
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .choices import APPROVED_STATES
from .models import Deployment, ModelVersion


@dataclass(frozen=True)
class Approval:
    """One approval of the version as its history held it: from ``approved_at`` until it
    expired, or until the history shows it no longer approved (retired)."""

    approved_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class Serving:
    """The answer for one instant: the approval and the deployment in force (each or None)."""

    approval: Approval | None
    deployment: Deployment | None

    @property
    def approved(self) -> bool:
        return self.approval is not None and self.deployment is not None


class ServingHistory:
    """The approval history and the deployments of one version in one environment, loaded
    once (two queries), answering for any instant in pure Python (ingest asks per decision)."""

    def __init__(self, version_id: int, environment: str) -> None:
        self.version_id = version_id
        self.environment = environment
        rows = (
            ModelVersion.history.filter(id=version_id)
            .order_by("history_date", "history_id")
            .values_list(
                "history_date", "history_type", "state", "approved_at", "approval_expires_at"
            )  # fmt: skip
        )
        # Each history row holds from its date until the next one.
        self._starts: list[dt.datetime] = []
        self._rows: list[tuple[str, str, dt.datetime | None, dt.datetime | None]] = []
        for date, *row in rows:
            self._starts.append(date)
            self._rows.append(tuple(row))  # type: ignore[arg-type]
        self._deployments = list(
            Deployment.objects.filter(version_id=version_id, environment=environment).order_by(
                "deployed_at", "pk"
            )
        )

    def approval(self, moment: dt.datetime) -> Approval | None:
        """The approval in force at ``moment``, as the version's history held it then: an
        approved state, approved at or before ``moment`` and not yet expired."""
        i = bisect.bisect_right(self._starts, moment) - 1
        if i < 0:
            return None
        history_type, state, approved_at, expires_at = self._rows[i]
        if history_type == "-" or state not in APPROVED_STATES or approved_at is None:
            return None
        if approved_at > moment or expires_at is None or moment >= expires_at:
            return None
        return Approval(approved_at, expires_at)

    def deployment(self, moment: dt.datetime) -> Deployment | None:
        """The deployment of the version in this environment in force at ``moment`` (the
        latest started, if a champion and a challenger overlap)."""
        for d in reversed(self._deployments):
            if d.deployed_at <= moment and (d.ended_at is None or moment < d.ended_at):
                return d
        return None

    def at(self, moment: dt.datetime) -> Serving:
        return Serving(self.approval(moment), self.deployment(moment))

    def approved(self, moment: dt.datetime) -> bool:
        """Served by an approved, deployed version at ``moment``."""
        return self.at(moment).approved

    # ------------------------------------------------------------ the events relied on

    @cached_property
    def _events(self) -> list:
        """The ledger events of the version's approvals and of its deployments here (read
        only when asked: the trail and the dossier name them, ingest does not)."""
        from audit.models import GovernanceEvent

        deployments = [str(d.pk) for d in self._deployments]
        approvals = GovernanceEvent.objects.filter(
            object_type=ModelVersion._meta.label,
            object_id=str(self.version_id),
            event_type="version.approved",
        )
        deployed = GovernanceEvent.objects.filter(
            object_type=Deployment._meta.label,
            object_id__in=deployments,
            event_type__in=["deployment.deployed", "deployment.rolled_back"],
        )
        return list((approvals | deployed).select_related("entry").order_by("occurred_at", "pk"))

    def evidence(self, moment: dt.datetime) -> dict[str, Any]:
        """What the answer at ``moment`` rests on, for the trail and the dossier: the verdict,
        and the approval and deployment in force with the ledger events that recorded them
        (None where there was none)."""
        serving = self.at(moment)
        approval = deployment = None
        if serving.approval is not None:
            # The approval's event is written in the transaction that set ``approved_at``.
            event = next(
                (
                    e
                    for e in self._events
                    if e.event_type == "version.approved"
                    and e.occurred_at >= serving.approval.approved_at
                ),
                None,
            )
            approval = {
                "approved_at": serving.approval.approved_at,
                "expires_at": serving.approval.expires_at,
                **_event(event),
            }
        if serving.deployment is not None:
            d = serving.deployment
            event = next(
                (e for e in self._events if e.object_type == Deployment._meta.label
                 and e.object_id == str(d.pk)),
                None,
            )  # fmt: skip
            deployment = {
                "deployment": d.pk,
                "environment": d.environment,
                "role": d.role,
                "deployed_at": d.deployed_at,
                "ended_at": d.ended_at,
                **_event(event),
            }
        return {
            "serving_approved": serving.approved,
            "environment": self.environment,
            "approval": approval,
            "deployment": deployment,
        }


def _event(event) -> dict[str, Any]:
    if event is None:
        return {"event_id": None, "event_type": None, "event_at": None, "entry_id": None}
    return {
        "event_id": (event.entry.payload() or {}).get("event_id"),
        "event_type": event.event_type,
        "event_at": event.occurred_at,
        "entry_id": event.entry_id,
    }
