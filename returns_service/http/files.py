"""Answering with a stored file a customer sent (a photo, an email attachment): the type it
was stored with, never sniffed by the browser, never cached by a shared cache."""

from __future__ import annotations

from werkzeug.wrappers import Response

from returns_service.storage import StoredFile


def file_response(stored: StoredFile, download_name: str | None = None) -> Response:
    """Images are shown inline; anything else is downloaded, never shown (a customer's HTML
    or SVG must not run on our pages)."""
    inline = stored.content_type in ("image/jpeg", "image/png", "image/webp")
    disposition = "inline" if inline else "attachment"
    if download_name:
        safe = "".join(c for c in download_name if c.isalnum() or c in "._- ")[:100] or "file"
        disposition += f'; filename="{safe}"'
    return Response(stored.data, mimetype=stored.content_type, headers={
        "Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})
