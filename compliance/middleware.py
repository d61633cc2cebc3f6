"""Request limits that hold on every API endpoint, whoever is asking."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse


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
