"""Answers that must hold whatever the view does: a database outage is a 503, never a 500;
API answers carry a content security policy that allows nothing (they are data, not pages)."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse

log = logging.getLogger(__name__)

# Seconds a client should wait before retrying; a restart of PostgreSQL takes about that long.
RETRY_AFTER = 2


class DatabaseUnavailableMiddleware:
    """Turn a lost or refused database connection into ``503`` with ``Retry-After``.

    Nothing was stored (the transaction was rolled back with the connection), so the client may
    retry the same request: ingest is idempotent by event id. The Python client does, honouring
    ``Retry-After``, and buffers what it logs meanwhile.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning("Database unavailable (%s): %s answered 503", exception, request.path)
        response = JsonResponse(
            {"detail": "The database is unavailable; nothing was stored. Retry later."},
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER)
        return response


API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ApiContentSecurityPolicyMiddleware:
    """``Content-Security-Policy`` on API answers (the admin and the schema UI, which load
    scripts and styles, keep the browser's defaults besides X-Frame-Options)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        if request.path.startswith("/api/v") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = API_CONTENT_SECURITY_POLICY
        return response
