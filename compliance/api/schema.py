"""The OpenAPI schema documents the error answers every operation may give, not only success.

drf-spectacular documents what a view returns when it works; the answers around it (no key,
wrong role, unknown object, bad input, a body that is not JSON, the database down) come from
DRF and the middleware, the same for every operation, in one JSON shape: ``{"detail": ...}``
plus fields that name what was wrong. The fuzzer (``.ci/fuzz.py``) holds the API to this.
"""

from __future__ import annotations

ERROR = {
    "type": "object",
    "description": "What went wrong, in words; refusals of a rule name it, bad input names "
    "each field (or item) that was wrong.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}

# status -> (description, whether only operations that take a request body can answer it)
ERRORS = {
    "400": ("Invalid input: what was wrong, by field or item.", False),
    "401": ("No valid credentials (an API key or a session).", False),
    "403": ("The credentials do not allow this action (role, scope or rule).", False),
    "404": ("No such object (or none yet).", False),
    "415": ("The body is not JSON (application/json).", True),
    "503": ("The database is unavailable; retry after the Retry-After seconds.", False),
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the error answers an operation does not
    document itself."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status, (description, needs_body) in ERRORS.items():
                if status in responses or (needs_body and "requestBody" not in operation):
                    continue
                responses[status] = {"description": description, "content": reference}
                if status == "503":
                    responses[status]["headers"] = RETRY_AFTER
    return result
