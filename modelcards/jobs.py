"""Running a document job: in a Celery worker in production, in the request by default.

``DOCUMENTS_RUN_IN=celery`` hands the job to the ``modelcards.run_document_job`` task (a
worker of the project's Celery app runs it); the default, ``request``, runs it before the
response. Either way the job row carries the status and progress that the admin and the API
poll, and the issued document once done.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .documents import issue
from .models import DocumentJob, DocumentKind
from .pack import issue_pack

log = logging.getLogger(__name__)


def run(job: DocumentJob) -> DocumentJob:
    """Generate the job's document now, recording progress, the result or the error."""
    DocumentJob.objects.filter(pk=job.pk).update(status=DocumentJob.Status.RUNNING)
    try:
        if job.kind == DocumentKind.EVIDENCE_PACK:
            document = issue_pack(
                job.model, as_of=job.as_of, user=job.requested_by, progress=job.report
            )
        else:
            document = issue(
                job.kind,
                job.model,
                as_of=job.as_of,
                version_label=job.version.label if job.version else None,
                event_id=str(job.prediction_event_id) if job.prediction_event_id else None,
                user=job.requested_by,
                progress=job.report,
            )
    except Exception as exc:
        log.exception("Document job %s failed", job.pk)
        DocumentJob.objects.filter(pk=job.pk).update(
            status=DocumentJob.Status.FAILED, error=str(exc), finished_at=timezone.now()
        )
    else:
        DocumentJob.objects.filter(pk=job.pk).update(
            status=DocumentJob.Status.DONE,
            progress=100,
            stage="Issued",
            document=document,
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


@shared_task(name="modelcards.run_document_job")
def run_document_job(job_id: str) -> str:
    return run(DocumentJob.objects.get(pk=job_id)).status


def start(job: DocumentJob) -> DocumentJob:
    if settings.DOCUMENTS_RUN_IN == "celery":
        run_document_job.delay(str(job.pk))
        return job
    return run(job)
