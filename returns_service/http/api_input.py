"""Input rules shared by every JSON endpoint, applied before a request is parsed."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from returns_service.common import strict_json
from returns_service.common.errors import ValidationFailed

NUL_MESSAGE = "Text may not contain NUL (\\u0000) characters."


def reject_nul_characters() -> None:
    """before_request: PostgreSQL text cannot hold NUL, so a NUL anywhere in the query
    string or JSON body is a 422 here rather than a database error (500) later."""
    if not request.path.startswith("/api/"):
        return
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        raise ValidationFailed({"query": [NUL_MESSAGE]})
    if request.is_json:
        body = request.get_data(cache=True)
        if b"\x00" in body or b"\\u0000" in body:
            raise ValidationFailed({"json": [NUL_MESSAGE]})


def check_json_body() -> None:
    """before_request: a body sent to the API must be JSON this service can use. Without a
    JSON `Content-Type` the body would be ignored (and every field reported missing), so it
    is a 415; JSON that cannot be used (invalid, not UTF-8, a lone surrogate, `NaN`, nesting
    or integers out of bounds) is a 400 that says what is wrong, before any field is read."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    body = request.get_data(cache=True)
    if not body:
        return
    if not request.is_json:
        raise UnsupportedMediaType(
            "Send the body as JSON with the header 'Content-Type: application/json' "
            f"(this request said {request.content_type or 'nothing'!r}).")
    try:
        strict_json.loads(body)
    except strict_json.JSONRejected as exc:
        raise BadRequest(f"The body is not usable JSON: {exc}") from None
