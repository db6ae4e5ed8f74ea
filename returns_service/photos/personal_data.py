"""What photos keep of the customer (the pictures themselves and the file names their phone
gave them), their eraser and exporter: erasure deletes the files and the rows, as nothing in
a photo is needed for the figures."""

from __future__ import annotations

from typing import Any

from returns_service.photos.services import delete_photos_for_return, photos_of
from returns_service.privacy import Scope


def erase_photos(scope: Scope) -> int:
    return sum(delete_photos_for_return(return_id) for return_id in scope.return_ids)


def export_photos(scope: Scope) -> list[dict[str, Any]]:
    """What each photo is; the pictures themselves are on the return's pages."""
    return [{"return_id": photo.return_id, "sku": photo.sku, "file_name": photo.file_name,
             "content_type": photo.content_type, "size": photo.size,
             "created_at": photo.created_at.isoformat()}
            for return_id in scope.return_ids for photo in photos_of(return_id)]
