"""Photos of a return's items: added to the customer's draft while the form is filled in,
attached to the return when it is sent, read through authorised routes only, deleted with
the return's personal data.

Services flush; the request or job commits. A file is written to the storage before its row
is, so a row never names a missing file; a file whose row never committed is a nameless
orphan, which only the storage holds.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from returns_service.db import db, is_row_id
from returns_service.photos.images import ImageRefused, clean_image
from returns_service.photos.models import ReturnPhoto
from returns_service.returns.models import Return
from returns_service.storage import FileNotStored, StoredFile, storage

__all__ = ["FileNotStored", "ImageRefused", "PhotoRules", "add_draft_photo",
           "attach_draft_photos", "delete_photos_for_return", "discard_abandoned",
           "draft_photo", "draft_photos", "new_key", "photo_file", "photo_rules",
           "photos_by_item", "photos_of", "remove_draft_photo", "return_photo"]

ABANDONED_AFTER = timedelta(days=1)  # a form not sent a day later will not be


@dataclass(frozen=True)
class PhotoRules:
    max_per_item: int
    max_bytes: int
    required_for: frozenset[str]  # reason codes that need at least one photo

    def required(self, reason: str) -> bool:
        return self.max_per_item > 0 and reason in self.required_for


def photo_rules() -> PhotoRules:
    config = current_app.config
    reasons = str(config.get("PHOTOS_REQUIRED_FOR") or "")
    return PhotoRules(max_per_item=int(config["PHOTOS_MAX_PER_ITEM"]),
                      max_bytes=int(config["PHOTO_MAX_BYTES"]),
                      required_for=frozenset(r.strip() for r in reasons.split(",")
                                             if r.strip()))


def new_key(folder: str, extension: str) -> str:
    """A random storage key: nothing in it can be guessed or tells whose file it is."""
    return f"{folder}/{secrets.token_hex(20)}.{extension}"


def _display_name(name: str | None) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable())[:200] or "photo"


def add_draft_photo(draft_key: str, sku: str, file_name: str | None,
                    data: bytes) -> ReturnPhoto:
    """Clean and keep one photo of the draft's item `sku`. ImageRefused when it is too
    large or not an accepted image."""
    image = clean_image(data, photo_rules().max_bytes)
    key = new_key("photos", image.extension)
    storage().put(key, image.data, image.content_type)
    photo = ReturnPhoto(storage_key=key, draft_key=draft_key, sku=sku,
                        file_name=_display_name(file_name), content_type=image.content_type,
                        size=len(image.data), width=image.width, height=image.height)
    db.session.add(photo)
    db.session.flush()
    return photo


def draft_photos(draft_key: str | None) -> dict[str, list[ReturnPhoto]]:
    """The draft's photos by SKU, oldest first."""
    if not draft_key:
        return {}
    found: dict[str, list[ReturnPhoto]] = {}
    for photo in db.session.scalars(select(ReturnPhoto).where(
            ReturnPhoto.draft_key == draft_key, ReturnPhoto.return_id.is_(None))
            .order_by(ReturnPhoto.id)):
        found.setdefault(photo.sku, []).append(photo)
    return found


def draft_photo(draft_key: str | None, photo_id: int) -> ReturnPhoto | None:
    photo = db.session.get(ReturnPhoto, photo_id) if is_row_id(photo_id) else None
    if photo is None or not draft_key or photo.draft_key != draft_key:
        return None
    return photo


def remove_draft_photo(draft_key: str | None, photo_id: int) -> bool:
    """The customer took a photo off the form (only one of their own draft's)."""
    photo = draft_photo(draft_key, photo_id)
    if photo is None or photo.return_id is not None:
        return False
    _delete([photo])
    return True


def attach_draft_photos(draft_key: str | None, ret: Return) -> int:
    """Give the draft's photos to the return just created from it, each to its item; how
    many. Photos of items left out of the return are discarded."""
    if not draft_key:
        return 0
    items = {item.order_line.sku: item.id for item in ret.items}
    photos = [p for photos in draft_photos(draft_key).values() for p in photos]
    _delete([p for p in photos if p.sku not in items])
    kept = [p for p in photos if p.sku in items]
    for photo in kept:
        db.session.execute(update(ReturnPhoto).where(ReturnPhoto.id == photo.id).values(
            return_id=ret.id, return_item_id=items[photo.sku]))
    return len(kept)


def photos_of(return_id: int) -> list[ReturnPhoto]:
    return list(db.session.scalars(select(ReturnPhoto).where(
        ReturnPhoto.return_id == return_id).order_by(ReturnPhoto.id)))


def photos_by_item(return_id: int) -> dict[int, list[ReturnPhoto]]:
    """A return's photos by return item id."""
    found: dict[int, list[ReturnPhoto]] = {}
    for photo in photos_of(return_id):
        found.setdefault(photo.return_item_id or 0, []).append(photo)
    return found


def return_photo(return_id: int, photo_id: int) -> ReturnPhoto | None:
    """One photo, only when it belongs to this return (the caller checked who asks)."""
    photo = db.session.get(ReturnPhoto, photo_id) if is_row_id(photo_id) else None
    return photo if photo is not None and photo.return_id == return_id else None


def photo_file(photo: ReturnPhoto) -> StoredFile:
    """The stored (cleaned) image; FileNotStored when the storage lost it."""
    return storage().get(photo.storage_key)


def _delete(photos: Iterable[ReturnPhoto]) -> int:
    photos = list(photos)
    for photo in photos:
        storage().delete(photo.storage_key)
    if photos:
        db.session.execute(delete(ReturnPhoto).where(
            ReturnPhoto.id.in_([p.id for p in photos])))
    return len(photos)


def delete_photos_for_return(return_id: int) -> int:
    """Erase every photo of a return, files and rows (personal data erasure); how many.
    Safe to run again. The caller commits."""
    return _delete(photos_of(return_id))


def discard_abandoned(now: datetime) -> int:
    """Periodic: the photos of forms never sent, a day later."""
    old = list(db.session.scalars(select(ReturnPhoto).where(
        ReturnPhoto.return_id.is_(None), ReturnPhoto.created_at < now - ABANDONED_AFTER)))
    count = _delete(old)
    db.session.commit()
    return count

