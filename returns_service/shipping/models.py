"""Tables of return shipping: one shipment (label, tracking) per return, and the carrier
events received by webhook, each stored once under its EasyPost event id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import JSONType, UTCDateTime
from returns_service.returns.models import Return


class Shipment(db.Model):
    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_status_est_delivery_at", "status", "est_delivery_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # One label per return, ever: the row is written once, on approval.
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), unique=True)
    provider: Mapped[str] = mapped_column(String(16), default="easypost")
    # Only the workflow (workflows/shipments.py) writes this column.
    status: Mapped[str] = mapped_column(String(24), default="label_pending")
    # EasyPost's shp_… id, committed before any label is bought (see shipping.labels).
    provider_shipment_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Committed just before the create call: a job that finds it set without an id (its
    # worker died before recording the answer) looks the shipment up by reference (the RMA).
    create_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set (and committed) just before the buy call: a lease against a second buyer, and after
    # a crash the sign that the label may be bought already (retrieve before buying).
    buy_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    carrier: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str | None] = mapped_column(String(64))
    tracking_code: Mapped[str | None] = mapped_column(String(64), index=True)
    tracker_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # What the label cost (minor units), for the label-spend figures.
    label_amount: Mapped[int | None] = mapped_column(BigInteger)
    label_currency: Mapped[str | None] = mapped_column(String(3))
    label_bought_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # spend's week
    label_key: Mapped[str | None] = mapped_column(String(200))  # in storage
    label_content_type: Mapped[str | None] = mapped_column(String(64))
    label_url: Mapped[str | None] = mapped_column(Text)  # EasyPost's copy
    # A QR code the carrier's counter scans instead of a printed label (carriers that offer
    # one: SHIPPING_QR_CARRIERS): EasyPost's link, and our copy in storage.
    qr_code_url: Mapped[str | None] = mapped_column(Text)
    qr_code_key: Mapped[str | None] = mapped_column(String(200))
    # Why the label could not be bought, written for staff.
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(Text)
    tracking_status: Mapped[str | None] = mapped_column(String(32))
    est_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_scan_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_tracking_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the tracker was last asked for (its webhooks may have been lost): once per
    # SHIPPING_TRACKER_POLL_HOURS at most.
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the return was flagged because tracking stopped moving (once per shipment).
    stalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    return_: Mapped[Return] = relationship()


class CarrierEvent(db.Model):
    """One EasyPost webhook event, stored once (its id is unique), applied by a job."""

    __tablename__ = "carrier_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    result: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
