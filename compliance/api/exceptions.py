"""Turn model-level refusals into API answers instead of 500s."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from compliance.api.authentication import HOW_TO_AUTHENTICATE
from compliance.api.parsers import UnstorableBody
from compliance.api.permissions import KeyScopeRefused
from compliance.models import (
    FrozenBundleError,
    IllegalTransition,
    RuleViolation,
    SegregationOfDutiesError,
    WorkflowError,
)

# Refusals of the workflow: an action the state does not allow is a conflict; a rule that
# refuses the person or the action (segregation of duties, four-eyes, …) is forbidden.
WORKFLOW_STATUS = (
    (IllegalTransition, status.HTTP_409_CONFLICT),
    (SegregationOfDutiesError, status.HTTP_403_FORBIDDEN),
    (RuleViolation, status.HTTP_403_FORBIDDEN),
    (WorkflowError, status.HTTP_403_FORBIDDEN),
)


def exception_handler(exc, context):
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response = drf_exception_handler(exc, context)
        response.data = {"detail": f"{exc.detail} {HOW_TO_AUTHENTICATE}"}
        return response
    if isinstance(exc, KeyScopeRefused):
        return Response(exc.body, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, UnstorableBody):
        return Response(exc.body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, WorkflowError):
        body = {"detail": str(exc), "rule": exc.rule}
        if isinstance(exc, IllegalTransition):
            body.update(state=exc.state, allowed=exc.allowed)
        code = next(code for kind, code in WORKFLOW_STATUS if isinstance(exc, kind))
        return Response(body, status=code)
    if isinstance(exc, FrozenBundleError):
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


# Under /api/ every answer is JSON, also for a URL no view serves and for a crash.
def not_found(request, exception):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
