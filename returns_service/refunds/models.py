"""Table for refund attempts: written before money moves, never deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import UTCDateTime
from returns_service.returns.models import Return

# A refund in one of these states holds or has moved money: at most one per return (the
# parts of a split refund paid back other ways than Stripe, origin 'split', aside: one per
# payment of the order, by their idempotency keys).
LIVE_REFUND_STATUSES = ("pending", "requires_action", "succeeded")
_LIVE_SQL = ("status IN ('pending', 'requires_action', 'succeeded') "
             "AND origin NOT IN ('external', 'split')")


class Refund(db.Model):
    __tablename__ = "refunds"
    __table_args__ = (
        Index(
            "uq_refunds_one_live_per_return",
            "return_id",
            unique=True,
            postgresql_where=text(_LIVE_SQL),
            sqlite_where=text(_LIVE_SQL),
        ),
        Index("ix_refunds_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # pending, requires_action, succeeded, failed, canceled (failed/canceled/succeeded are final)
    status: Mapped[str] = mapped_column(String(24), default="pending")
    # service/manual/external/split
    origin: Mapped[str] = mapped_column(String(16), default="service")
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    provider: Mapped[str] = mapped_column(String(16), default="stripe")
    provider_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    payment_intent: Mapped[str | None] = mapped_column(String(255), index=True)
    # Set (and committed) just before the provider is called: a lease against a second caller,
    # and after a crash the sign that Stripe may already have the refund (reconcile first).
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # For refunds made outside Stripe: the bank transfer, voucher or cash reference.
    reference: Mapped[str | None] = mapped_column(String(255))
    failure_reason: Mapped[str | None] = mapped_column(String(100))
    failure_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    return_: Mapped[Return | None] = relationship()
