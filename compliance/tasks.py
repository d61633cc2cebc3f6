"""Celery tasks: beat runs ``run_due_reports`` every minute; each due schedule becomes its own
task, so reports spread over the workers."""

from __future__ import annotations

from celery import shared_task

from compliance import scheduling


@shared_task(name="attest.run_due_reports")
def run_due_reports() -> list[int]:
    """Claim every due schedule and queue one task per schedule; returns their ids."""
    claimed = scheduling.claim_due()
    for schedule_id in claimed:
        run_schedule.delay(schedule_id)
    return claimed


@shared_task(name="attest.run_schedule", acks_late=True)
def run_schedule(schedule_id: int) -> list[int]:
    """Run one schedule's report now; returns the ids of the reports it stored."""
    return [report.pk for report in scheduling.run_schedule(schedule_id)]
