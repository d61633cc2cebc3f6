"""Documents API: request a document (or evidence pack), poll its job, download it."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import PredictionRecord
from compliance.api.permissions import api_key
from compliance.choices import KeyAction
from compliance.models import AIModel

from .. import jobs
from ..models import DocumentJob, DocumentKind, IssuedDocument, readable_documents


class DocumentRequest(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    version = serializers.CharField(required=False)
    as_of = serializers.DateField(required=False)
    event_id = serializers.UUIDField(required=False)


def job_body(job: DocumentJob, request) -> dict:
    body = {
        "id": str(job.pk),
        "kind": job.kind,
        "model": job.model.slug,
        "as_of": job.as_of.isoformat(),
        "status": job.status,
        "progress": job.progress,
        "stage": job.stage,
        "error": job.error or None,
        "status_url": request.build_absolute_uri(f"/api/v1/document-jobs/{job.pk}/"),
        "document": None,
    }
    if job.document_id:
        body["document"] = document_body(job.document, request)
    return body


def document_body(document: IssuedDocument, request) -> dict:
    return {
        "reference": document.reference,
        "kind": document.kind,
        "version": document.version.label if document.version else None,
        "as_of": document.as_of.isoformat(),
        "sha256": document.sha256,
        "size": document.size,
        "pages": document.pages,
        "coverage": document.coverage.get("frameworks", []),
        "issued_at": document.issued_at,
        "ledger_entry": document.event.entry_id,
        "download_url": request.build_absolute_uri(
            f"/api/v1/documents/{document.reference}/download/"
        ),
    }


class ModelDocumentsView(APIView):
    """GET: documents issued for the model. POST: issue one ({kind, version?, as_of?,
    event_id?}); 201 with the document when generated in the request, 202 with a job to poll
    when a worker generates it."""

    key_actions = {"GET": KeyAction.ISSUE_DOCUMENTS, "POST": KeyAction.ISSUE_DOCUMENTS}

    required_permissions = {
        "GET": ["modelcards.view_issueddocument"],
        "POST": ["modelcards.add_issueddocument", "modelcards.add_documentjob"],
    }

    @extend_schema(responses={200: {"type": "array", "items": {"type": "object"}}})
    def get(self, request, slug):
        model = get_object_or_404(AIModel, slug=slug)
        documents = IssuedDocument.objects.filter(model=model).select_related("version", "event")
        return Response([document_body(d, request) for d in documents])

    @extend_schema(
        request=DocumentRequest, responses={201: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT}
    )
    def post(self, request, slug):
        model = get_object_or_404(AIModel, slug=slug)
        data = DocumentRequest(data=request.data)
        data.is_valid(raise_exception=True)
        kind = data.validated_data["kind"]
        version = None
        if label := data.validated_data.get("version"):
            version = model.versions.filter(label=label).first()
            if version is None:
                raise ValidationError({"version": f"{model.slug} has no version {label}."})
        event_id = data.validated_data.get("event_id")
        if kind == DocumentKind.DOSSIER:
            if event_id is None:
                raise ValidationError({"event_id": "A prediction dossier needs the event id."})
            if not request.user.has_perm("audit.view_predictionrecord"):
                return Response({"detail": "Dossiers need access to predictions."}, status=403)
            if not PredictionRecord.objects.filter(
                event_id=event_id, version__model=model
            ).exists():
                raise ValidationError({"event_id": f"No prediction {event_id} of {model.slug}."})
        as_of = data.validated_data.get("as_of") or timezone.now().date()
        if as_of > timezone.now().date() + dt.timedelta(days=1):
            raise ValidationError({"as_of": "The as-of date cannot be in the future."})
        job = DocumentJob.objects.create(
            kind=kind, model=model, version=version, prediction_event_id=event_id, as_of=as_of,
            requested_by=request.user,
        )  # fmt: skip
        job = jobs.start(job)
        if job.status == DocumentJob.Status.FAILED:
            return Response(job_body(job, request), status=status.HTTP_400_BAD_REQUEST)
        done = job.status == DocumentJob.Status.DONE
        code = status.HTTP_201_CREATED if done else status.HTTP_202_ACCEPTED
        return Response(job_body(job, request), status=code)


class DocumentJobView(APIView):
    key_actions = {"GET": KeyAction.ISSUE_DOCUMENTS}
    key_model_lookup = (DocumentJob, "pk", "model__slug")
    required_permissions = ["modelcards.view_documentjob"]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        job = get_object_or_404(DocumentJob.objects.select_related("model"), pk=pk)
        return Response(job_body(job, request))


class DocumentDownloadView(APIView):
    """The document's bytes, checked against the SHA-256 recorded when it was issued."""

    key_actions = {"GET": KeyAction.ISSUE_DOCUMENTS}
    key_model_lookup = (IssuedDocument, "reference", "model__slug")

    required_permissions = ["modelcards.view_issueddocument"]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, reference):
        documents = readable_documents(request.user, api_key(request))
        document = get_object_or_404(documents, reference=reference)
        response = HttpResponse(bytes(document.content), content_type=document.content_type)
        response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
        response["X-Content-SHA256"] = document.sha256
        return response
