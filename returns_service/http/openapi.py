"""Shared OpenAPI bits: the bearer security scheme and the problem+json responses."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]

PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "string"}}},
    },
    "required": ["type", "title", "status"],
}


def _problem(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description,
            "content": {"application/problem+json": {"schema": schema}}}


PROBLEMS: dict[int | str, Any] = {
    "400": _problem("Malformed request"),
    "401": _problem("Missing or invalid token"),
    "403": _problem("Role not allowed"),
    "404": _problem("Not found"),
    "409": _problem("Not allowed in the current status, or changed concurrently"),
    "422": _problem("Validation failed; errors maps fields to messages"),
}
# Public lookups by order number or RMA + email (returns_service.http.rate_limits).
LOOKUP_PROBLEMS: dict[int | str, Any] = {
    **PROBLEMS, "429": _problem("Too many lookups from this address; try again later")}


# A change to a return acts on the version its caller saw (optimistic locking).
IF_MATCH: dict[str, Any] = {
    "in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
    "description": "The ETag of the return you acted on (e.g. \"3\"); 409 if it changed "
                   "since. The same as the body's expected_version."}
ETAG: dict[str, Any] = {"ETag": {"description": "The return's version, for If-Match",
                                 "schema": {"type": "string"}}}
A_CHANGE: dict[str, Any] = {"security": BEARER, "responses": PROBLEMS, "parameters": [IF_MATCH]}


def register_components(api: Api) -> None:
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Staff API token"})
    api.spec.components.schema("Problem", PROBLEM_SCHEMA)
