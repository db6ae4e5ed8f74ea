"""Table of the erasure audit: one row per erasure pass, holding counts and who ran it, never
the data erased (not even the email: the row proves that an erasure ran, not whose)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import JSONType, UTCDateTime


class ErasureRecord(db.Model):
    """"Personal data erased": when, why (retention or a customer's request), by whom, and
    how many rows each domain changed."""

    __tablename__ = "personal_data_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))  # retention, request
    actor_type: Mapped[str] = mapped_column(String(16))  # system, staff
    actor_id: Mapped[int | None] = mapped_column(Integer)
    # The staff user who asked, never the customer.
    actor_label: Mapped[str | None] = mapped_column(String(254))
    returns: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, int]] = mapped_column(JSONType)  # rows changed, per domain
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
