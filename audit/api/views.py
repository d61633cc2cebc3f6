"""Ledger API: ingest, receipts, the trail of a prediction, checkpoints and proofs."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import ingest, sequencer
from audit.ledger import acknowledge_alert
from audit.models import Alert, Checkpoint, PredictionRecord
from audit.trail import prediction_trail
from compliance.api.permissions import check_key_covers, readable
from compliance.api.workflow_serializers import RequiredReasonSerializer
from compliance.choices import KeyAction

RECEIPTS = OpenApiResponse(
    description="Receipts, in request order: entry id and leaf hash of each item "
    "(duplicate=true for an idempotent retry)."
)


class IngestView(APIView):
    ingest = staticmethod(ingest.ingest_predictions)

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
        check_key_covers(request, self.models_of(items))
        try:
            receipts = self.ingest(items)
        except ingest.BatchRefused as refused:
            return Response(
                {"detail": refused.detail, "errors": refused.errors}, status=refused.status
            )
        body = [r.to_dict() for r in receipts]
        return Response(body[0] if single else {"receipts": body}, status=status.HTTP_201_CREATED)

    def models_of(self, items: list) -> list[str | None]:
        """The model slug of each item, for the key's scope (None: ingest will refuse it)."""
        return [
            item["model"] if isinstance(item, dict) and isinstance(item.get("model"), str) else None
            for item in items
        ]


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


@extend_schema(request=OpenApiTypes.OBJECT, responses={201: RECEIPTS})
class PredictionIngestView(IngestView):
    """Log one prediction (a JSON object) or a batch (a JSON list)."""

    key_actions = {"POST": KeyAction.LOG_PREDICTIONS}
    required_permissions = {"POST": ["audit.add_predictionrecord"]}


@extend_schema(request=OpenApiTypes.OBJECT, responses={201: RECEIPTS})
class OutcomeIngestView(IngestView):
    """Log the true outcome of one prediction, or a batch of them."""

    key_actions = {"POST": KeyAction.LOG_OUTCOMES}
    required_permissions = {"POST": ["audit.add_outcomerecord"]}
    ingest = staticmethod(ingest.ingest_outcomes)

    def models_of(self, items: list) -> list[str | None]:
        """The model of the prediction each outcome is of."""
        ids = [
            ingest.uuid_text(item.get("event_id")) if isinstance(item, dict) else None
            for item in items
        ]
        records = PredictionRecord.objects.filter(event_id__in={i for i in ids if i})
        slugs = {
            str(e): slug for e, slug in records.values_list("event_id", "version__model__slug")
        }
        return [slugs.get(i) if i else None for i in ids]


class ReceiptView(APIView):
    """The inclusion proof of a prediction against the latest signed checkpoint."""

    key_actions = {"GET": KeyAction.READ_LEDGER}
    key_model_lookup = (PredictionRecord, "event_id", "version__model__slug")

    required_permissions = {"GET": ["audit.view_predictionrecord"]}

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT})
    def get(self, request, event_id):
        records = readable(PredictionRecord.objects.select_related("entry"), request)
        record = get_object_or_404(records, event_id=event_id)
        proof = sequencer.receipt(record.entry)
        if proof is None:
            return Response(
                {"status": "pending", "detail": "Acknowledged; not yet sealed in a checkpoint."},
                status=status.HTTP_202_ACCEPTED,
            )
        return Response(proof)


NO_CHECKPOINT = OpenApiResponse(description="No checkpoint yet, or none of that tree size.")
NOTE = OpenApiResponse(
    response=OpenApiTypes.STR,
    description="The checkpoint as a C2SP signed note (c2sp.org/tlog-checkpoint), exactly as "
    "issued: origin, tree size and base64 root hash, a blank line, then the log's signature "
    "line. Verify it with golang.org/x/mod/sumdb/note and the key `show_log_key` prints.",
)


def _checkpoint(tree_size: int | None) -> Checkpoint:
    """The checkpoint of ``tree_size``, or the latest (None); 404 if there is none."""
    checkpoints = Checkpoint.objects.order_by("-tree_size")
    if tree_size is not None:
        checkpoints = checkpoints.filter(tree_size=tree_size)
    checkpoint = checkpoints.first()
    if checkpoint is None:
        raise NotFound("No checkpoint yet." if tree_size is None else "No checkpoint of that size.")
    return checkpoint


class CheckpointView(APIView):
    """A signed checkpoint, the latest or by tree size, as Attest's JSON statement."""

    key_actions = {"GET": KeyAction.READ_LEDGER}
    required_permissions = {"GET": ["audit.view_checkpoint"]}

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: NO_CHECKPOINT})
    def get(self, request, tree_size: int | None = None):
        return Response(_checkpoint(tree_size).signed())


class CheckpointNoteView(APIView):
    """A checkpoint, the latest or by tree size, as a C2SP signed note (text/plain)."""

    key_actions = {"GET": KeyAction.READ_LEDGER}
    required_permissions = {"GET": ["audit.view_checkpoint"]}

    def perform_content_negotiation(self, request, force=False):
        """Whatever the client accepts (``text/plain`` included): the note is text, and a
        refusal is JSON like every other answer of the API."""
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(responses={(200, "text/plain"): NOTE, 404: NO_CHECKPOINT})
    def get(self, request, tree_size: int | None = None):
        checkpoint = _checkpoint(tree_size)
        if checkpoint.note is None:
            raise NotFound("This checkpoint was issued before checkpoints were signed as notes.")
        return HttpResponse(checkpoint.note, content_type="text/plain; charset=utf-8")


class ConsistencyView(APIView):
    """A consistency proof between two checkpoints (by tree size)."""

    key_actions = {"GET": KeyAction.READ_LEDGER}

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

    key_actions = {"GET": KeyAction.READ_TRAIL}
    key_model_lookup = (PredictionRecord, "event_id", "version__model__slug")

    required_permissions = {"GET": ["audit.view_predictionrecord"]}

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, event_id):
        records = PredictionRecord.objects.select_related(
            "entry", "version", "version__model", "version__created_by", "sensitive"
        )
        record = get_object_or_404(readable(records, request), event_id=event_id)
        sensitive = request.user.has_perm("audit.view_sensitiveattributes")
        return Response(prediction_trail(record, include_sensitive=sensitive))


class AlertSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.SlugRelatedField(slug_field="label", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Alert
        fields = ["id", "kind", "model", "version", "subject", "message", "occurrences",
                  "first_seen", "last_seen", "acknowledged_at", "acknowledged_by",
                  "acknowledgement"]  # fmt: skip


@extend_schema(
    summary="Acknowledge an alert (risk officers)",
    description="Records who acknowledged it, when and why, as a ledger event. Until then the "
    "alert stays on the dashboard.",
    request=RequiredReasonSerializer,
    responses={
        200: AlertSerializer,
        400: OpenApiResponse(description="No reason given."),
        403: OpenApiResponse(description="Not a model risk officer."),
        404: OpenApiResponse(description="No such alert."),
        409: OpenApiResponse(description="Acknowledged already."),
    },
    tags=["alerts"],
)
class AcknowledgeAlertView(APIView):
    required_permissions = {"POST": ["audit.change_alert"]}
    key_actions = {"POST": KeyAction.ACKNOWLEDGE_ALERTS}
    key_model_lookup = (Alert, "pk", "model__slug")
    permission_denied_message = "Only model risk officers may acknowledge alerts."

    def post(self, request, pk: int):
        alert = get_object_or_404(Alert, pk=pk)
        serializer = RequiredReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = acknowledge_alert(alert, request.user, serializer.validated_data["reason"])
        return Response(AlertSerializer(alert).data)
