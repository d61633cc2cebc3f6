"""When a payload may be purged: the rule, without Django, for the verifier and the database.

A purge is a ``ledger.purged`` event, sealed first, that lists leaf ranges of one model's
predictions and outcomes. It may drop an entry's payload only if

* the entry is a prediction or an outcome of the event's model (governance events never go);
* the model's retention had expired: the entry was first sealed at least ``retention_months``
  before the purge event was (times from the signed checkpoints, not from any clock the
  application sets); and
* no legal hold on the model was active when the purge was sealed.

The standalone verifier replays retention settings and holds from the ledger's own events and
applies :func:`refusal`; so does the embedded (SQLite) database path of
``compliance.retention.apply_purge``. PostgreSQL applies the same rule inside the database, in
``public.attest_purge`` (``audit/migrations/0008_purge_by_sealed_event.py``), which the
application's role can call but cannot bypass.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt

# The shortest retention allowed (EU AI Act Art. 19: at least six months), and what a model
# created before retention was recorded keeps.
MIN_RETENTION_MONTHS = 6


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` plus whole calendar months (31 January + 1 month is 28 or 29 February), as
    PostgreSQL's ``timestamp - make_interval(months => n)`` counts them."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


class SealTimes:
    """When each leaf was first sealed: the issue time of the first checkpoint covering it."""

    def __init__(self, checkpoints: list[tuple[int, dt.datetime]]) -> None:
        ordered = sorted(checkpoints)
        self.sizes = [size for size, _ in ordered]
        self.times = [when for _, when in ordered]

    def of(self, leaf: int) -> dt.datetime | None:
        at = bisect.bisect_right(self.sizes, leaf)
        return self.times[at] if at < len(self.times) else None


def refusal(
    *,
    leaf: int,
    entry_sealed: dt.datetime | None,
    purge_sealed: dt.datetime | None,
    retention_months: int,
    held: bool,
    kind: str | None = None,
) -> str | None:
    """Why the purge may not drop the payload of ``leaf``, in words; None when it may.

    ``kind`` is the entry's kind when known (the verifier sees only a purged marker)."""
    if purge_sealed is None:
        return "the purge event is not sealed: a purge is executed only once it is"
    if kind is not None and kind not in ("prediction", "outcome"):
        return f"entry {leaf} is of kind {kind}: only predictions and outcomes may be purged"
    if held:
        return "the model was under a legal hold when the purge was sealed"
    if entry_sealed is None:
        return f"entry {leaf} is not sealed"
    until = add_months(entry_sealed, retention_months)
    if until > purge_sealed:
        return (
            f"entry {leaf} was sealed {entry_sealed.isoformat()}, so the model's retention of "
            f"{retention_months} months had not expired when the purge was sealed "
            f"({purge_sealed.isoformat()}); it runs until {until.isoformat()}"
        )
    return None
