"""The approval workflow over HTTP: each endpoint validates its input and calls one function of
``compliance.workflow``. Refusals come back as 403 (a rule: segregation of duties, four-eyes,
role) or 409 (the state does not allow it), with a message that names the rule."""

from __future__ import annotations

from django.db.models import F
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from audit.models import PredictionRecord
from compliance import workflow
from compliance.choices import KeyAction, OversightAction
from compliance.models import AIModel, Condition, Deployment, Finding, ModelVersion

from .permissions import check_key_covers
from .workflow_serializers import (
    ConditionSerializer,
    DeploymentSerializer,
    DeploySerializer,
    FindingSerializer,
    GovernanceEventSerializer,
    MeetConditionSerializer,
    OversightSerializer,
    ReasonSerializer,
    RequiredReasonSerializer,
    ResolveFindingSerializer,
    ReviewSerializer,
    RollbackSerializer,
    VersionStatusSerializer,
    WorkflowErrorSerializer,
)

VALIDATE = "compliance.validate_modelversion"
DEPLOY = "compliance.deploy_modelversion"

REFUSALS = {
    400: OpenApiResponse(description="Bad input; the message names the field."),
    401: OpenApiResponse(description="No valid API key or session."),
    403: OpenApiResponse(
        WorkflowErrorSerializer,
        description="Refused by a rule: role, segregation of duties, four-eyes, an open "
        "high-severity finding, an expired approval.",
    ),
    404: OpenApiResponse(description="No such object."),
    409: OpenApiResponse(
        WorkflowErrorSerializer,
        description="The current state does not allow it; names the state and what is allowed.",
    ),
}


def documented(summary: str, request, response, description: str = "", code: int = 200):
    return extend_schema_view(
        post=extend_schema(
            summary=summary,
            description=description,
            request=request,
            responses={code: response, **REFUSALS},
            tags=["workflow"],
        )
    )


class VersionAction(generics.GenericAPIView):
    """POST to act on one version (by id); answers with where the version stands."""

    key_actions = {"POST": KeyAction.RUN_WORKFLOW}
    key_model_lookup = (ModelVersion, "pk", "model__slug")

    queryset = ModelVersion.objects.select_related("model")
    serializer_class = ReasonSerializer
    required_permissions: dict[str, list[str]] = {}

    def post(self, request, pk: int):
        version = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = self.act(version, request.user, **serializer.validated_data)
        return Response(VersionStatusSerializer(version).data)

    def act(self, version: ModelVersion, user, **data) -> ModelVersion:
        raise NotImplementedError


STATUS = VersionStatusSerializer


@documented("Submit a draft for validation", ReasonSerializer, STATUS, "Its bundle freezes.")
class SubmitView(VersionAction):
    required_permissions = {"POST": ["compliance.submit_modelversion"]}
    permission_denied_message = "Only developers of the model's team may submit a version."

    def act(self, version, user, reason):
        return workflow.submit_version(version, user, reason)


@documented("Start the validation of a submitted version", ReasonSerializer, STATUS)
class StartValidationView(VersionAction):
    required_permissions = {"POST": [VALIDATE]}
    permission_denied_message = "Only validators may start a validation."

    def act(self, version, user, reason):
        return workflow.start_validation(version, user, reason)


@documented(
    "Approve a version (or revalidate an approved one)",
    ReasonSerializer,
    STATUS,
    "Needs your review with a conclusion on each SR 11-7 element. Tier-1 and EU high-risk "
    "models need approvals by two different validators; no open high-severity finding.",
)
class ApproveView(VersionAction):
    required_permissions = {"POST": [VALIDATE]}
    permission_denied_message = "Only validators may approve a version."

    def act(self, version, user, reason):
        return workflow.approve_version(version, user, reason)


@documented("Reject a version in validation", RequiredReasonSerializer, STATUS)
class RejectView(VersionAction):
    serializer_class = RequiredReasonSerializer
    required_permissions = {"POST": [VALIDATE]}
    permission_denied_message = "Only validators may reject a version."

    def act(self, version, user, reason):
        return workflow.reject_version(version, user, reason)


@documented("Retire an approved version that serves nowhere", RequiredReasonSerializer, STATUS)
class RetireView(VersionAction):
    serializer_class = RequiredReasonSerializer
    required_permissions = {"POST": [DEPLOY]}
    permission_denied_message = "Only risk officers may retire a version."

    def act(self, version, user, reason):
        return workflow.retire_version(version, user, reason)


@documented(
    "Deploy an approved version",
    DeploySerializer,
    DeploymentSerializer,
    "As champion (the default in production) it replaces the current champion, which a "
    "rollback restores; as challenger (shadow, canary) it runs beside it.",
    code=201,
)
class DeployView(VersionAction):
    serializer_class = DeploySerializer
    required_permissions = {"POST": [DEPLOY]}
    permission_denied_message = "Only risk officers may deploy a version."

    def post(self, request, pk: int):
        version = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deployment = workflow.deploy_version(version, request.user, **serializer.validated_data)
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)


@documented(
    "Roll back: put the previous champion back",
    RollbackSerializer,
    DeploymentSerializer,
    "In one step, if the previous champion's approval is still current.",
    code=201,
)
class RollbackView(generics.GenericAPIView):
    key_actions = {"POST": KeyAction.RUN_WORKFLOW}
    queryset = AIModel.objects.all()
    lookup_field = "slug"
    serializer_class = RollbackSerializer
    required_permissions = {"POST": [DEPLOY]}
    permission_denied_message = "Only risk officers may roll back a deployment."

    def post(self, request, slug: str):
        model = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        deployment = workflow.rollback(model, data["environment"], request.user, data["reason"])
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["workflow"], summary="The model's deployments, active first")
class DeploymentListView(generics.ListAPIView):
    key_actions = {"GET": KeyAction.READ_INVENTORY}
    serializer_class = DeploymentSerializer
    required_permissions = {"GET": ["compliance.view_deployment"]}

    def get_queryset(self):
        model = get_object_or_404(AIModel, slug=self.kwargs["slug"])
        return (
            Deployment.objects.filter(model=model)
            .select_related("model", "version", "deployed_by", "ended_by")
            .order_by(F("ended_at").asc(nulls_first=True), "-deployed_at")  # active first
        )


@extend_schema(tags=["workflow"], summary="Where a version stands in the workflow")
class VersionStatusView(generics.RetrieveAPIView):
    key_actions = {"GET": KeyAction.READ_INVENTORY}
    key_model_lookup = (ModelVersion, "pk", "model__slug")
    queryset = ModelVersion.objects.select_related("model", "submitted_by")
    serializer_class = VersionStatusSerializer


@extend_schema(
    tags=["workflow"],
    summary="A version's timeline: every transition, review, finding, condition, deployment",
    responses=GovernanceEventSerializer(many=True),
)
class TimelineView(generics.GenericAPIView):
    key_actions = {"GET": KeyAction.READ_INVENTORY}
    key_model_lookup = (ModelVersion, "pk", "model__slug")
    queryset = ModelVersion.objects.all()
    serializer_class = GovernanceEventSerializer

    def get(self, request, pk: int):
        version = self.get_object()
        return Response(GovernanceEventSerializer(version.timeline(), many=True).data)


class VersionChildren(generics.ListCreateAPIView):
    """Reviews, findings or conditions of one version: list them, or record one."""

    key_actions = {"GET": KeyAction.READ_INVENTORY, "POST": KeyAction.RUN_WORKFLOW}
    key_model_lookup = (ModelVersion, "pk", "model__slug")

    required_permissions: dict[str, list[str]] = {}

    def get_version(self) -> ModelVersion:
        if not hasattr(self, "_version"):
            self._version = get_object_or_404(
                ModelVersion.objects.select_related("model"), pk=self.kwargs["pk"]
            )
        return self._version

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance, created = self.record(self.get_version(), request.user, serializer.validated_data)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(instance).data, status=code)


@extend_schema_view(
    get=extend_schema(tags=["workflow"], summary="Validation reviews of a version"),
    post=extend_schema(
        tags=["workflow"],
        summary="Record or revise your review of the current validation cycle",
        description="201 when recorded, 200 when your undecided review was revised.",
        responses={201: ReviewSerializer, 200: ReviewSerializer, **REFUSALS},
    ),
)
class ReviewListView(VersionChildren):
    serializer_class = ReviewSerializer
    required_permissions = {
        "GET": ["compliance.view_validationreview"],
        "POST": ["compliance.add_validationreview"],
    }
    permission_denied_message = "Only validators may record a review."

    def get_queryset(self):
        return self.get_version().reviews.select_related("validator", "version")

    def record(self, version, user, data):
        reason = data.pop("reason", "")
        return workflow.record_review(version, user, reason, **data)


@extend_schema_view(
    get=extend_schema(tags=["workflow"], summary="Findings of a version"),
    post=extend_schema(
        tags=["workflow"],
        summary="Record a finding",
        responses={201: FindingSerializer, **REFUSALS},
    ),
)
class FindingListView(VersionChildren):
    serializer_class = FindingSerializer
    required_permissions = {
        "GET": ["compliance.view_finding"],
        "POST": ["compliance.add_finding"],
    }
    permission_denied_message = "Only validators may record a finding."

    def get_queryset(self):
        return self.get_version().findings.select_related("owner", "raised_by", "resolved_by")

    def record(self, version, user, data):
        return workflow.record_finding(version, user, **data), True


@extend_schema_view(
    get=extend_schema(tags=["workflow"], summary="Conditions of approval of a version"),
    post=extend_schema(
        tags=["workflow"],
        summary="Add a condition of approval",
        responses={201: ConditionSerializer, **REFUSALS},
    ),
)
class ConditionListView(VersionChildren):
    serializer_class = ConditionSerializer
    required_permissions = {
        "GET": ["compliance.view_condition"],
        "POST": ["compliance.add_condition"],
    }
    permission_denied_message = "Only validators may add a condition."

    def get_queryset(self):
        return self.get_version().conditions.select_related("created_by", "met_by")

    def record(self, version, user, data):
        return workflow.add_condition(version, user, **data), True


@documented(
    "Resolve a finding",
    ResolveFindingSerializer,
    FindingSerializer,
    "remediated: a validator confirms the remediation; risk_accepted: a risk officer accepts "
    "the risk with a justification. Either must be independent of the version.",
)
class ResolveFindingView(generics.GenericAPIView):
    key_actions = {"POST": KeyAction.RUN_WORKFLOW}
    key_model_lookup = (Finding, "pk", "version__model__slug")
    queryset = Finding.objects.select_related("version__model")
    serializer_class = ResolveFindingSerializer
    # Which permission depends on the resolution; the workflow checks it.
    required_permissions = {"POST": []}

    def post(self, request, pk: int):
        finding = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        finding = workflow.resolve_finding(finding, request.user, **serializer.validated_data)
        return Response(FindingSerializer(finding).data)


@documented("Confirm a condition of approval is met", MeetConditionSerializer, ConditionSerializer)
class MeetConditionView(generics.GenericAPIView):
    key_actions = {"POST": KeyAction.RUN_WORKFLOW}
    key_model_lookup = (Condition, "pk", "version__model__slug")
    queryset = Condition.objects.select_related("version__model")
    serializer_class = MeetConditionSerializer
    required_permissions = {"POST": ["compliance.change_condition"]}
    permission_denied_message = "Only validators may confirm a condition."

    def post(self, request, pk: int):
        condition = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        condition = workflow.meet_condition(condition, request.user, **serializer.validated_data)
        return Response(ConditionSerializer(condition).data)


@documented(
    "Record human oversight (EU AI Act Art. 14)",
    OversightSerializer,
    GovernanceEventSerializer,
    "override / reverse / confirm a logged prediction by its event id, or stop a model (which "
    "ends its active deployments). A service account names the person it acts for.",
    code=201,
)
class OversightView(generics.GenericAPIView):
    key_actions = {"POST": KeyAction.RECORD_OVERSIGHT}
    serializer_class = OversightSerializer
    required_permissions = {"POST": ["compliance.record_oversight"]}
    permission_denied_message = (
        "Only risk officers and service accounts may record human oversight."
    )

    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        check_key_covers(request, [self.model_of(data)], "the model this oversight is about")
        self.check_named_model(data)
        event = workflow.record_oversight(
            request.user,
            data["action"],
            reason=data["reason"],
            event_id=str(data["event_id"]) if "event_id" in data else None,
            model=data.get("model"),
            decision=data.get("decision"),
            person=data.get("person", ""),
        )
        return Response(GovernanceEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def model_of(data) -> str | None:
        """The slug of the model the oversight acts on: for a stop, the model stopped; else
        the prediction's model, whatever the body names (None: no such prediction, which
        the workflow refuses)."""
        if data["action"] == OversightAction.STOP:
            return data["model"].slug
        return (
            PredictionRecord.objects.filter(event_id=data["event_id"])
            .values_list("version__model__slug", flat=True)
            .first()
        )

    def check_named_model(self, data) -> None:
        """A body that names a model and a prediction of another model is refused (400), so
        nobody records oversight believing it is about the model they named."""
        named = data.get("model")
        if named is None or data["action"] == OversightAction.STOP:
            return
        acted_on = self.model_of(data)
        if acted_on is not None and named.slug != acted_on:
            raise ValidationError(
                {"model": f"Prediction {data['event_id']} is not of model {named.slug}."}
            )
