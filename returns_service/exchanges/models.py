"""Tables of the catalog the store keeps us told of (products, their variants and stock) and of
exchanges: a returned line swapped for a variant, and the exchange order the store ships."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import JSONType, UTCDateTime


class Product(db.Model):
    """A product as the store describes it (`PUT /api/v1/products/{product_id}`)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[str] = mapped_column(String(100), unique=True)  # the store's id
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", order_by="Variant.id")


class Variant(db.Model):
    """One SKU of a product. `on_hand` is the store's count (set by each PUT); `reserved` is
    ours (exchanges requested, not yet shipped). Available = on_hand - reserved; a reservation
    only succeeds while that stays at or above zero (exchanges.stock)."""

    __tablename__ = "product_variants"
    __table_args__ = (CheckConstraint("reserved >= 0", name="reserved_not_negative"),
                      CheckConstraint("on_hand >= 0", name="on_hand_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    product_pk: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"),
                                            index=True)
    sku: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    options: Mapped[dict[str, Any]] = mapped_column(JSONType)  # {"size": "L", "colour": …}
    prices: Mapped[dict[str, Any]] = mapped_column(JSONType)  # {"EUR": 2500}, minor units
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True)  # False: dropped from the last PUT
    # One unit's shipping weight and size, when the store sends them: a return parcel of
    # this SKU is built from them unless its order line gives its own (shipping.parcel_for).
    weight_oz: Mapped[int | None] = mapped_column(Integer)
    length_in: Mapped[int | None] = mapped_column(Integer)
    width_in: Mapped[int | None] = mapped_column(Integer)
    height_in: Mapped[int | None] = mapped_column(Integer)

    product: Mapped[Product] = relationship(back_populates="variants")

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved)

    def price_in(self, currency: str) -> int | None:
        value = (self.prices or {}).get(currency.upper())
        return int(value) if value is not None else None


class Exchange(db.Model):
    """A returned line to be replaced by `variant`. The difference is the new item's price
    less the original's value (positive: the customer pays; negative: owed to them)."""

    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"),
                                           index=True)
    # One exchange per returned line.
    return_item_id: Mapped[int] = mapped_column(
        ForeignKey("return_items.id", ondelete="CASCADE"), unique=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("product_variants.id"), index=True)
    from_sku: Mapped[str] = mapped_column(String(100))
    to_sku: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer)
    # Only the workflow (workflows/exchanges.py) writes this column.
    status: Mapped[str] = mapped_column(String(32), default="requested", index=True)
    currency: Mapped[str] = mapped_column(String(3))
    original_value: Mapped[int] = mapped_column(BigInteger)
    new_price: Mapped[int] = mapped_column(BigInteger)
    difference: Mapped[int] = mapped_column(BigInteger)
    # A dearer variant: the Checkout Session the customer pays the difference through.
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    payment_intent: Mapped[str | None] = mapped_column(String(255))
    # Instant exchange: the new item is ordered at approval once a card is saved (a Checkout
    # Session in setup mode); the card is charged the original's value, off session, only
    # if the original has not arrived by charge_due_at (exchanges.instant).
    instant: Mapped[bool] = mapped_column(default=False, server_default=false())
    card_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    card_url: Mapped[str | None] = mapped_column(Text)
    stripe_customer: Mapped[str | None] = mapped_column(String(255))
    payment_method: Mapped[str | None] = mapped_column(String(255))
    card_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    charge_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    original_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    charge_payment_intent: Mapped[str | None] = mapped_column(String(255))
    charge_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    variant: Mapped[Variant] = relationship()
    order: Mapped[ExchangeOrder | None] = relationship(back_populates="exchange")


class ExchangeOrder(db.Model):
    """What the store ships: created once per exchange (the unique exchange_id), when the
    original is received."""

    __tablename__ = "exchange_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"),
                                             unique=True)
    sku: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    carrier: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    exchange: Mapped[Exchange] = relationship(back_populates="order")
