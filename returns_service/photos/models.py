"""The photos table: one row per stored photo. A photo is first the draft's (the form's
`draft_key`, before the return exists), then its return's item's when the form is sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import UTCDateTime


class ReturnPhoto(db.Model):
    """A cleaned photo (no EXIF) in the storage under `storage_key`, a random name."""

    __tablename__ = "return_photos"
    __table_args__ = (Index("ix_return_photos_draft_key", "draft_key"),
                      Index("ix_return_photos_return_id", "return_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    # The form it was uploaded on; kept after sending so a resent form finds its photos.
    draft_key: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(100))  # the order line it shows
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"))
    return_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("return_items.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(200))  # the customer's name, shown only
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
