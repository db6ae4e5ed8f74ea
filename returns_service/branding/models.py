"""The store's look as the admin set it: one row (id 1). A column left empty falls back to
its setting (SHOP_NAME, BRAND_PRIMARY_COLOR, …), so a fresh install looks as configured."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import UTCDateTime

ROW_ID = 1


class BrandSettings(db.Model):
    __tablename__ = "brand_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    store_name: Mapped[str | None] = mapped_column(String(100))
    primary_color: Mapped[str | None] = mapped_column(String(7))
    support_email: Mapped[str | None] = mapped_column(String(254))
    support_phone: Mapped[str | None] = mapped_column(String(40))
    terms_url: Mapped[str | None] = mapped_column(String(500))
    privacy_url: Mapped[str | None] = mapped_column(String(500))
    # The logo in storage (`brand/logo-<random>.<ext>`) and its content type.
    logo_key: Mapped[str | None] = mapped_column(String(200))
    logo_type: Mapped[str | None] = mapped_column(String(40))
    # Goes up on every save: the stylesheet's and the logo's URLs carry it, so browsers and
    # mail clients may cache them for good and still see a change at once.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
