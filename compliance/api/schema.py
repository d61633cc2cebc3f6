"""The OpenAPI schema documents the refusals every endpoint can give, whatever the view says:
no credentials (401), the role or the API key's scope (403), too large (413), too many
requests for the key (429, with Retry-After); and, where the request carries input, bad input
(400) and an unknown object (404)."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}


def _refusal(description: str, **extra) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}, **extra}


REFUSALS = {
    "401": _refusal("No valid API key or session (or the key is revoked or expired)."),
    "403": _refusal(
        "Refused: the role does not allow it, a workflow rule forbids it, or the API key's "
        "scope (its models and actions) does not cover it; the message names which."
    ),
    "413": _refusal(
        "The request body is larger than LEDGER_MAX_REQUEST_BYTES (refused before parsing), "
        "or a batch has more items than LEDGER_MAX_BATCH; the message names the limit."
    ),
    "429": _refusal(
        "Too many requests with this API key (API_KEY_RATE_LIMIT per API_KEY_RATE_WINDOW).",
        headers={
            "Retry-After": {
                "description": "Seconds until the key may send again.",
                "schema": {"type": "integer"},
            }
        },
    ),
}


BAD_INPUT = _refusal("Bad input; the message names the field.")
NOT_FOUND = _refusal("No such object.")
PAGINATION = {"limit", "offset"}


def document_refusals(result, generator, request, public):
    """drf-spectacular postprocessing hook: add ``REFUSALS`` to every API operation, keeping
    what a view documents itself (e.g. the workflow's 403 with its rule)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
        },
    )
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
            for code, response in refusals.items():
                if "content" not in responses.get(code, {}):
                    responses[code] = response
    return result
