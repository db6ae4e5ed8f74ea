"""Tables of the integrations: outbound webhook endpoints, one delivery row per event and
endpoint (the delivery log), and the Stripe Checkout Sessions imported as orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import JSONType, UTCDateTime

# Delivery statuses: pending (waiting for its turn or its next attempt), delivered (a 2xx),
# failed (gave up: retried for WEBHOOK_RETRY_HOURS, 410, or the endpoint was disabled).
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[list[str]] = mapped_column(JSONType)  # ["*"] for every event
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # The signing secret (`whsec_` + base64 of 32 random bytes, the Standard Webhooks
    # format), sealed (common.sealed): every attempt opens it to sign. The previous one
    # stays valid for a day after a rotation, and both signatures are sent meanwhile.
    sealed_secret: Mapped[str] = mapped_column(Text)
    sealed_previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last sequence number given to an event for this endpoint (incremented under the
    # row lock, in the transaction that records the event).
    last_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    # When a job started delivering to this endpoint (one in flight per endpoint), or None.
    delivering_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # First failed attempt since the last success: failing this long disables the endpoint.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def receives(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "sequence", name="uq_webhook_deliveries_sequence"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    # The `webhook-id` header: the same on every attempt and resend of this event.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)  # the first 1,000 characters
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    endpoint: Mapped[WebhookEndpoint] = relationship()


class CheckoutImport(db.Model):
    """One Stripe Checkout Session imported as an order: a session is imported once, and
    its later events update the same order."""

    __tablename__ = "checkout_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(255), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
