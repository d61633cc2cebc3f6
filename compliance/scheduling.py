"""When reports run: claim the schedules that are due, run them, plan the next run.

Claiming moves ``next_run_at`` forward under a row lock before the report runs, so two
schedulers (two beat processes by mistake, or a cron job beside a worker) never run the same
schedule twice; a failed run is retried at the next cadence and logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.db import transaction
from django.utils import timezone

from compliance.models import ReportSchedule
from compliance.reports import run_report
from compliance.retention import purge_expired

log = logging.getLogger(__name__)


def claim_due(now: dt.datetime | None = None) -> list[int]:
    """Ids of the active schedules due at ``now``, each moved on to its next run."""
    now = now or timezone.now()
    claimed = []
    with transaction.atomic():
        due = ReportSchedule.objects.select_for_update(skip_locked=True).filter(
            active=True, next_run_at__lte=now
        )
        for schedule in due:
            schedule.next_run_at = now + dt.timedelta(hours=schedule.cadence_hours)
            schedule.save(update_fields=["next_run_at"])
            claimed.append(schedule.pk)
    return claimed


def run_schedule(schedule_id: int, now: dt.datetime | None = None) -> list:
    schedule = ReportSchedule.objects.select_related("model").get(pk=schedule_id)
    end = now or timezone.now()
    return run_report(
        schedule.model,
        start=end - dt.timedelta(days=schedule.window_days),
        end=end,
        schedule=schedule,
    )


def run_due(now: dt.datetime | None = None) -> list:
    """Run every due schedule in this process (the embedded default's scheduler)."""
    reports = []
    for schedule_id in claim_due(now):
        try:
            reports += run_schedule(schedule_id, now)
        except Exception:
            log.exception("Report schedule %s failed; it runs again at its next time", schedule_id)
    return reports


PURGE_EVERY = 24 * 60 * 60.0  # seconds: payloads past retention go once a day


def run_forever(interval: float = 60.0, stop_after: float | None = None) -> None:
    """Run due reports every ``interval`` seconds, and purge expired payloads daily (first at
    start-up): the embedded default's beat."""
    started = time.monotonic()
    purged_at: float | None = None
    while stop_after is None or time.monotonic() - started < stop_after:
        reports = run_due()
        if reports:
            log.info("Ran %d reports", len(reports))
        if purged_at is None or time.monotonic() - purged_at >= PURGE_EVERY:
            purged_at = time.monotonic()
            log.info("Purge past retention: %s", purge_expired())
        time.sleep(interval)
