"""POST /api/v1/models/{slug}/documents/, the job and the download; the admin's buttons."""

from __future__ import annotations

import hashlib

import pytest

from modelcards.documents import issue
from modelcards.models import DocumentJob, DocumentKind, IssuedDocument
from tests.modelcards.conftest import AS_OF

pytestmark = pytest.mark.django_db
URL = "/api/v1/models/credit-scoring/documents/"


@pytest.fixture(scope="module")
def issued(world) -> IssuedDocument:
    """The model card of 30 June, issued once: the admin and the worker find it issued."""
    return issue(DocumentKind.MODELCARD, world.model, as_of=AS_OF)


def test_an_auditor_issues_a_model_card_and_downloads_it(api, auditor, credit_model):
    client = api.as_(auditor)
    response = client.post(URL, {"kind": "modelcard", "as_of": "2026-07-01"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "done" and body["progress"] == 100
    document = body["document"]
    assert document["reference"].startswith("CARD-credit-scoring-1.0.0-20260701-")
    job = client.get(body["status_url"]).json()
    assert job["document"]["sha256"] == document["sha256"]
    pdf = client.get(document["download_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == document["sha256"]
    assert document["reference"] in [d["reference"] for d in client.get(URL).json()]


def test_documents_need_credentials_and_a_role_that_issues_them(
    api, client, credit_model, developer, service
):
    assert client.post(URL, {"kind": "sr117"}).status_code == 401
    assert api.as_(developer).post(URL, {"kind": "sr117"}, format="json").status_code == 403
    assert api.as_(service).get(URL).status_code == 403
    assert not IssuedDocument.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "memo"}, "kind"),
        ({"kind": "sr117", "version": "9.9"}, "version"),
        ({"kind": "dossier"}, "event_id"),
        ({"kind": "sr117", "as_of": "2999-01-01"}, "as_of"),
    ],
)
def test_bad_requests_are_refused_with_the_field_named(
    api, risk_officer, credit_model, body, field
):
    response = api.as_(risk_officer).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_unknown_models_jobs_and_documents_are_404(api, auditor, credit_model):
    client = api.as_(auditor)
    assert client.post("/api/v1/models/nope/documents/", {"kind": "sr117"}).status_code == 404
    job = "/api/v1/document-jobs/00000000-0000-4000-8000-000000000000/"
    assert client.get(job).status_code == 404
    assert client.get("/api/v1/documents/NOPE/download/").status_code == 404


def test_with_celery_the_request_returns_a_job_to_poll(api, auditor, issued, settings, monkeypatch):
    from modelcards import jobs

    queued = []
    monkeypatch.setattr(jobs.run_document_job, "delay", queued.append)
    settings.DOCUMENTS_RUN_IN = "celery"
    response = api.as_(auditor).post(
        URL, {"kind": "modelcard", "as_of": "2026-06-30"}, format="json"
    )
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert jobs.run_document_job.apply(args=queued).get() == "done"
    assert DocumentJob.objects.get().document == issued


def test_the_admin_page_of_a_model_shows_coverage_and_issues_a_document(
    client, risk_officer, issued
):
    client.force_login(risk_officer)
    page = client.get("/admin/modelcards/issueddocument/generate/credit-scoring/")
    assert page.status_code == 200
    assert b"SR 11-7" in page.content and b"EU AI Act" in page.content
    assert b"No statement of limitations on file" in page.content
    assert b"No validation report on file" not in page.content
    response = client.post(page.request["PATH_INFO"], {"kind": "modelcard", "as_of": "2026-06-30"})
    job = DocumentJob.objects.get()
    assert response.status_code == 302 and job.status == "done"
    status = client.get(response["Location"])
    assert job.document.reference.encode() in status.content
    download = client.get(f"/admin/modelcards/issueddocument/{job.document.reference}/download/")
    assert download.status_code == 200 and bytes(download.content)[:4] == b"%PDF"


def test_the_admin_page_lists_the_monitoring_reports_with_their_pdf(client, auditor, world):
    client.force_login(auditor)
    page = client.get("/admin/modelcards/issueddocument/generate/credit-scoring/")
    link = f"/admin/modelcards/issueddocument/monitoring-report/{world.reports[-1].pk}/pdf/"
    assert link.encode() in page.content
    pdf = client.get(link)
    assert pdf.status_code == 200 and bytes(pdf.content)[:4] == b"%PDF"
    client.force_login(world.users["otto"])
    assert client.get(link).status_code in (302, 403)
