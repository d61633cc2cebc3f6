"""Answers that must hold whatever the view does: a request too large is refused before it is
read (413), a NUL character anywhere in the URL or a form is a 400, a database outage is a
503, never a 500; API answers carry a content security policy that allows nothing (they are
data, not pages)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse

log = logging.getLogger(__name__)


class RequestSizeLimit:
    """Refuses an API request whose body is larger than its endpoint takes with 413 and a JSON
    body naming the limit, before anything reads or parses the body (or checks who asks).

    The limit is ``LEDGER_MAX_REQUEST_BYTES``, or the view's ``max_request_bytes`` (artifact
    uploads). The declared Content-Length is all there is to check: Django reads no more of a
    body than it declares, and none of a body sent without one (chunked).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.path.startswith("/api/"):
            return None
        view_class = getattr(view_func, "cls", None)
        limit = getattr(view_class, "max_request_bytes", None) or settings.LEDGER_MAX_REQUEST_BYTES
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(length)
        except ValueError:
            return JsonResponse(
                {"detail": f"Content-Length {length!r} is not a number."}, status=400
            )
        if size > limit:
            return JsonResponse(
                {
                    "detail": f"The request body is {size} bytes; the limit is {limit}. "
                    "Send smaller batches.",
                    "limit": limit,
                },
                status=413,
            )
        return None


class RefuseNulCharacters:
    """Refuses a request whose path, query string or form fields hold a NUL character with a
    400 naming where, before any view or query sees it.

    PostgreSQL keeps NUL in neither text nor jsonb, so a NUL that reached a query was a
    ``DataError`` (a 500) on PostgreSQL while SQLite stored it: refused here on both alike,
    for every endpoint and the admin. JSON bodies are the API parser's to check
    (``compliance.api.parsers``): it names the item and field. Form bodies are checked outside
    ``/api/`` only, where Django reads them anyway (CSRF) and the API's parser does not.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        where = self.nul_in(request)
        if where is not None:
            return JsonResponse(
                {"detail": f"The {where} holds a NUL character (U+0000), which is refused."},
                status=400,
            )
        return self.get_response(request)

    @staticmethod
    def nul_in(request: HttpRequest) -> str | None:
        if "\x00" in request.path:
            return "URL path"
        sources = [("query string parameter", request.GET)]
        if request.method == "POST" and not request.path.startswith("/api/"):
            sources.append(("form field", request.POST))
        for kind, fields in sources:
            for name, values in fields.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    return f"{kind} {name.replace(chr(0), '?')!r}"
        return None


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
# The API docs (Swagger UI, ReDoc) run the project's own scripts and styles, never a CDN's; their
# inline start-up script and styles are the pages' own.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'"
)


class ApiContentSecurityPolicyMiddleware:
    """``Content-Security-Policy`` on API answers, and on the API docs, which may load only
    what the project serves (the admin keeps the browser's defaults besides X-Frame-Options)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            if request.path.startswith("/api/v"):
                response["Content-Security-Policy"] = API_CONTENT_SECURITY_POLICY
            elif request.path.startswith("/api/schema/"):
                response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response
