"""Input rules shared by every JSON endpoint, applied before a request is parsed."""

from __future__ import annotations

from flask import request

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
