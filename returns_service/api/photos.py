"""HTTP endpoints for the photos customers attached to a return's items: the list with a
link to each (staff token with `photos.read`), and each photo's content behind the same
token. No public URL exists for a photo."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from returns_service.common.errors import NotFound
from returns_service.http.auth import require
from returns_service.http.files import file_response
from returns_service.http.openapi import BEARER, PROBLEMS
from returns_service.photos.services import FileNotStored, photo_file, photos_of, return_photo
from returns_service.returns import services as returns

blp = Blueprint("photos", __name__, url_prefix="/api/v1/returns",
                description="Customers' photos of returned items")


class PhotoOut(Schema):
    id = fields.Integer(required=True)
    sku = fields.String(required=True, metadata={"description": "The order line it shows."})
    file_name = fields.String(required=True, metadata={"description": "The customer's name "
                                                       "for the file (shown only)."})
    content_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "Bytes, after cleaning."})
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    url = fields.String(required=True, metadata={
        "description": "The photo itself: GET it with the same Bearer token."})


@blp.route("/<rma>/photos", methods=["GET"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, PhotoOut(many=True))
@require("photos.read")
def list_photos(rma: str) -> Any:
    """The return's photos, oldest first, each with a link to its content."""
    ret = returns.get_return(rma)
    return [{"id": p.id, "sku": p.sku, "file_name": p.file_name,
             "content_type": p.content_type, "size": p.size, "width": p.width,
             "height": p.height, "created_at": p.created_at,
             "url": url_for("photos.get_photo", rma=ret.rma, photo_id=p.id, _external=True)}
            for p in photos_of(ret.id)]


@blp.route("/<rma>/photos/<int:photo_id>", methods=["GET"])
@blp.doc(security=BEARER, responses={**PROBLEMS, "200": {
    "description": "The cleaned image (EXIF removed)",
    "content": {t: {"schema": {"type": "string", "format": "binary"}}
                for t in ("image/jpeg", "image/png", "image/webp")}}})
@require("photos.read")
def get_photo(rma: str, photo_id: int) -> Any:
    """One photo's content (JPEG, PNG or WebP)."""
    photo = return_photo(returns.get_return(rma).id, photo_id)
    if photo is None:
        raise NotFound(f"No photo {photo_id} on return {rma}.")
    try:
        return file_response(photo_file(photo))
    except FileNotStored:
        raise NotFound(f"Photo {photo_id} of return {rma} is missing from the storage.") from None
