"""The OpenAPI schema documents the error answers every operation may give, not only success.

drf-spectacular documents what a view returns when it works; the answers around it come from
DRF, the permissions and the middleware, the same for every operation, in one JSON shape
(``{"detail": ...}`` plus fields that name what was wrong): no credentials (401), the role,
a rule or the API key's scope (403), too large (413), too many requests for the key (429) or
the database down (503, both with Retry-After); where the request carries input, bad input
(400), an unknown object (404) and a body that is not JSON (415). The web server itself
refuses a URL that is too long (414, in its own words). The fuzzer (``.ci/fuzz.py``) holds
the API to this.
"""

from __future__ import annotations

ERROR = {
    "type": "object",
    "description": "What went wrong, in words; refusals of a rule name it, bad input names "
    "each field (or item) that was wrong.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}


def _error(description: str, **extra) -> dict:
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {"description": description, "content": content, **extra}


REFUSALS = {
    "401": _error("No valid API key or session (or the key is revoked or expired)."),
    "403": _error(
        "Refused: the role does not allow it, a workflow rule forbids it, or the API key's "
        "scope (its models and actions) does not cover it; the message names which."
    ),
    "413": _error(
        "The request body is larger than LEDGER_MAX_REQUEST_BYTES (refused before parsing), "
        "or a batch has more items than LEDGER_MAX_BATCH; the message names the limit."
    ),
    # Refused by the web server before Django sees it, in the server's own words (not JSON).
    "414": {"description": "The URL (with its query) is longer than the web server takes."},
    "429": _error(
        "Too many requests with this API key (API_KEY_RATE_LIMIT per API_KEY_RATE_WINDOW).",
        headers=RETRY_AFTER,
    ),
    "503": _error("The database is unavailable; nothing was stored.", headers=RETRY_AFTER),
}
BAD_INPUT = _error("Invalid input: what was wrong, by field or item.")
NOT_FOUND = _error("No such object (or none yet).")
NOT_JSON = _error("The body is not JSON (application/json).")
PAGINATION = {"limit", "offset"}


def document_refusals(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the error answers to every API operation,
    keeping what a view documents itself (e.g. the workflow's 403 with its rule)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            refusals = dict(REFUSALS)
            if parameters or "requestBody" in operation:
                refusals["400"] = BAD_INPUT
            if any(p["in"] == "path" or p["name"] not in PAGINATION for p in parameters):
                refusals["404"] = NOT_FOUND
            if "requestBody" in operation:
                refusals["415"] = NOT_JSON
            for code, response in refusals.items():
                if "content" not in responses.get(code, {}):
                    responses[code] = response
    return result
