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


@shared_task(name="attest.explain_pending", acks_late=True)
def explain_pending(max_seconds: float = 50.0) -> int:
    """Explain the sealed predictions that still need a SHAP explanation, for up to
    ``max_seconds``; returns how many explanation entries it wrote. Beat runs it every few
    seconds; two at once never write the same explanation twice."""
    from compliance.explanations import explain_all

    return explain_all(max_seconds=max_seconds).entries


@shared_task(name="attest.purge_expired")
def purge_expired() -> dict[str, int]:
    """Drop payloads past their model's retention (daily); returns what it purged."""
    from compliance.retention import purge_expired

    result = purge_expired()
    return {"events": result.events, "predictions": result.predictions, "outcomes": result.outcomes}
