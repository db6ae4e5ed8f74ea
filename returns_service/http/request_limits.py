"""How large a request body may be, by where it goes; refused with a 413 before it is read.

Each path prefix has its own limit (a setting), so a later upload or inbound-mail endpoint can
take more without raising the limit of the JSON API. The declared `Content-Length` is checked
before anything reads the body; a body without one (chunked) is read up to one byte past
the limit, no further, and refused if it got there (werkzeug's `request.max_content_length`).
"""

from __future__ import annotations

import io

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

# Longest prefix first; anything else (the HTML pages' forms) uses MAX_BODY_PAGE_BYTES.
BODY_LIMITS: tuple[tuple[str, str], ...] = (
    ("/webhooks/inbound-email/", "MAX_BODY_INBOUND_EMAIL_BYTES"),
    ("/return/items", "MAX_BODY_UPLOAD_BYTES"),
    ("/webhooks/", "MAX_BODY_WEBHOOK_BYTES"),
    ("/api/", "MAX_BODY_API_BYTES"),
    ("/staff/brand", "MAX_BODY_BRAND_BYTES"),
)
DEFAULT_LIMIT = "MAX_BODY_PAGE_BYTES"


def body_limit(path: str) -> int:
    """The most bytes a request body to `path` may have."""
    setting = next((name for prefix, name in BODY_LIMITS if path.startswith(prefix)),
                   DEFAULT_LIMIT)
    return int(current_app.config[setting])


def limit_request_body() -> None:
    """before_request, ahead of every other hook (CSRF reads the form)."""
    limit = body_limit(request.path)
    request.max_content_length = limit
    declared = request.content_length
    if declared is not None and declared > limit:
        raise RequestEntityTooLarge(
            f"The request body is {declared} bytes; at most {limit} bytes are accepted here.")
    if declared is None and "wsgi.input_terminated" in request.environ:
        # Chunked: werkzeug stops reading at the limit without a word, so whatever reads
        # the body would see it cut short. Read one byte more than allowed to tell.
        request.max_content_length = limit + 1
        data = request.stream.read(limit + 1)
        if len(data) > limit:
            raise RequestEntityTooLarge(
                f"The request body is larger than the {limit} bytes accepted here.")
        request.stream = io.BytesIO(data)  # type: ignore[misc]
    request.max_content_length = limit


def install_body_limits(app: Flask) -> None:
    """Run `limit_request_body` first on every request."""
    app.before_request_funcs.setdefault(None, []).insert(0, limit_request_body)
