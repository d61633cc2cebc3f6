"""Ledger API: ingest, receipts, the trail of a prediction, checkpoints and proofs."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import ingest, sequencer
from audit.models import Checkpoint, PredictionRecord
from audit.trail import prediction_trail

RECEIPTS = OpenApiResponse(
    description="Receipts, in request order: entry id and leaf hash of each item "
    "(duplicate=true for an idempotent retry)."
)


class IngestView(APIView):
    ingest = staticmethod(ingest.ingest_predictions)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Refuse an oversized body before reading it, once we know who is asking.
        length = request.META.get("CONTENT_LENGTH") or 0
        if int(length) > settings.LEDGER_MAX_REQUEST_BYTES:
            raise PayloadTooLarge(
                f"The request body is {length} bytes; the limit is "
                f"{settings.LEDGER_MAX_REQUEST_BYTES}. Send smaller batches."
            )

    def post(self, request):
        data = request.data
        single = isinstance(data, dict)
        items = [data] if single else data
        if not isinstance(items, list) or not items:
            raise ValidationError({"detail": "Send one item (a JSON object) or a non-empty list."})
        if len(items) > settings.LEDGER_MAX_BATCH:
            raise PayloadTooLarge(
                f"{len(items)} items in one batch; the limit is {settings.LEDGER_MAX_BATCH}."
            )
        try:
            receipts = self.ingest(items)
        except ingest.BatchRefused as refused:
            return Response(
                {"detail": refused.detail, "errors": refused.errors}, status=refused.status
            )
        body = [r.to_dict() for r in receipts]
        return Response(body[0] if single else {"receipts": body}, status=status.HTTP_201_CREATED)


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


@extend_schema(request=OpenApiTypes.OBJECT, responses={201: RECEIPTS})
class PredictionIngestView(IngestView):
    """Log one prediction (a JSON object) or a batch (a JSON list)."""

    required_permissions = {"POST": ["audit.add_predictionrecord"]}


@extend_schema(request=OpenApiTypes.OBJECT, responses={201: RECEIPTS})
class OutcomeIngestView(IngestView):
    """Log the true outcome of one prediction, or a batch of them."""

    required_permissions = {"POST": ["audit.add_outcomerecord"]}
    ingest = staticmethod(ingest.ingest_outcomes)


class ReceiptView(APIView):
    """The inclusion proof of a prediction against the latest signed checkpoint."""

    required_permissions = {"GET": ["audit.view_predictionrecord"]}

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT})
    def get(self, request, event_id):
        record = get_object_or_404(
            PredictionRecord.objects.select_related("entry"), event_id=event_id
        )
        proof = sequencer.receipt(record.entry)
        if proof is None:
            return Response(
                {"status": "pending", "detail": "Acknowledged; not yet sealed in a checkpoint."},
                status=status.HTTP_202_ACCEPTED,
            )
        return Response(proof)


class LatestCheckpointView(APIView):
    required_permissions = {"GET": ["audit.view_checkpoint"]}

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        checkpoint = Checkpoint.objects.order_by("-tree_size").first()
        if checkpoint is None:
            return Response({"detail": "No checkpoint yet."}, status=status.HTTP_404_NOT_FOUND)
        return Response(checkpoint.signed())


class ConsistencyView(APIView):
    """A consistency proof between two checkpoints (by tree size)."""

    required_permissions = {"GET": ["audit.view_checkpoint"]}

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, old_size: int, new_size: int):
        old = get_object_or_404(Checkpoint, tree_size=old_size)
        new = get_object_or_404(Checkpoint, tree_size=new_size)
        if old_size > new_size:
            raise ValidationError({"detail": "The first checkpoint must be the older (smaller)."})
        proof = sequencer.consistency_proof(old_size, new_size)
        return Response(
            {"old": old.signed(), "new": new.signed(), "proof": [h.hex() for h in proof]}
        )


class TrailView(APIView):
    """Everything about one prediction: record, bundle, approval state, outcome, receipt."""

    required_permissions = {"GET": ["audit.view_predictionrecord"]}

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, event_id):
        record = get_object_or_404(
            PredictionRecord.objects.select_related(
                "entry", "version", "version__model", "version__created_by", "sensitive"
            ),
            event_id=event_id,
        )
        sensitive = request.user.has_perm("audit.view_sensitiveattributes")
        return Response(prediction_trail(record, include_sensitive=sensitive))
