"""The files customers sent, for signed-in staff only: photos of a return's items and the
attachments of their emails. Never a public URL: each answer checks the session and the
permission, and that the file belongs to the return named in the path."""

from __future__ import annotations

from typing import Any

from flask import abort

from returns_service.common.errors import NotFound
from returns_service.console import bp
from returns_service.console.access import permission_required
from returns_service.conversations.attachments import attachment_file
from returns_service.http.files import file_response
from returns_service.photos.services import FileNotStored, photo_file, return_photo
from returns_service.returns import services as returns


def _return_id(rma: str) -> int:
    try:
        return returns.get_return(rma).id
    except NotFound:
        abort(404)


@bp.get("/returns/<rma>/photos/<int:photo_id>")
@permission_required("photos.read")
def return_photo_file(rma: str, photo_id: int) -> Any:
    photo = return_photo(_return_id(rma), photo_id)
    if photo is None:
        abort(404)
    try:
        return file_response(photo_file(photo))
    except FileNotStored:
        abort(404)


@bp.get("/returns/<rma>/messages/<int:message_id>/attachments/<int:index>")
@permission_required("photos.read")
def message_attachment(rma: str, message_id: int, index: int) -> Any:
    try:
        name, stored = attachment_file(_return_id(rma), message_id, index)
    except FileNotStored:
        abort(404)
    return file_response(stored, name)
