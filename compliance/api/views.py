from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import APIException, PermissionDenied

from compliance.choices import KeyAction
from compliance.models import AIModel, ModelVersion
from compliance.roles import outside_team

from .permissions import check_key_covers, scoped_to_key
from .serializers import AIModelSerializer, ModelVersionSerializer

# What an API key must allow to read or to keep the inventory.
INVENTORY_ACTIONS = {
    "GET": KeyAction.READ_INVENTORY,
    "POST": KeyAction.MANAGE_INVENTORY,
    "PUT": KeyAction.MANAGE_INVENTORY,
    "PATCH": KeyAction.MANAGE_INVENTORY,
}


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class AIModelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The model inventory. Everyone but service accounts reads it; risk officers keep it."""

    key_actions = INVENTORY_ACTIONS

    queryset = AIModel.objects.select_related("business_owner").prefetch_related("developing_team")
    serializer_class = AIModelSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return scoped_to_key(super().get_queryset(), self.request)

    def perform_create(self, serializer):
        check_key_covers(self.request, [serializer.validated_data["slug"]], "the new model")
        serializer.save()


class ModelVersionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Versions of one model. Developers of the model's team register them and edit drafts;
    once a version leaves draft its bundle is frozen (409)."""

    key_actions = INVENTORY_ACTIONS

    serializer_class = ModelVersionSerializer
    lookup_field = "label"
    queryset = ModelVersion.objects.select_related("model", "created_by")

    def get_model(self) -> AIModel:
        if not hasattr(self, "_model"):
            self._model = get_object_or_404(AIModel, slug=self.kwargs["model_slug"])
        return self._model

    def get_queryset(self):
        return super().get_queryset().filter(model=self.get_model())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "model_slug" in self.kwargs:
            context["model"] = self.get_model()
        return context

    def check_team(self, model: AIModel) -> None:
        if outside_team(self.request.user, model):
            raise PermissionDenied(
                f"Only members of the developing team of {model.slug} may register or edit "
                "its versions."
            )

    def perform_create(self, serializer):
        model = self.get_model()
        self.check_team(model)
        serializer.save(model=model, created_by=self.request.user)

    def perform_update(self, serializer):
        version = serializer.instance
        self.check_team(version.model)
        if version.is_frozen:
            raise Conflict(
                f"Version {version.label} is {version.get_state_display().lower()}; its bundle "
                "is frozen. Register a new version instead."
            )
        serializer.save()
