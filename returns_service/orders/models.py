"""Tables for orders imported from the store and their lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import UTCDateTime


class Order(db.Model):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # stored lower-cased
    customer_name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(64), default="web")
    shipping_total: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_provider: Mapped[str | None] = mapped_column(String(32))
    payment_intent: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )

    @property
    def items_total(self) -> int:
        return sum(line.unit_price * line.quantity for line in self.lines)

    @property
    def total(self) -> int:
        """What the customer paid: lines plus shipping, in minor units."""
        return self.items_total + self.shipping_total

    def line_by_sku(self, sku: str) -> OrderLine | None:
        return next((line for line in self.lines if line.sku == sku), None)


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "sku", name="uq_order_lines_order_sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    final_sale: Mapped[bool] = mapped_column(Boolean, default=False)
    # The store's product id (the catalog's `PUT /api/v1/products/{product_id}`): what the
    # line may be exchanged for.
    product_id: Mapped[str | None] = mapped_column(String(100))

    order: Mapped[Order] = relationship(back_populates="lines")
