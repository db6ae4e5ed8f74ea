"""Tables for orders imported from the store and their lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import JSONType, UTCDateTime


def _added(taxes: list[dict[str, Any]] | None) -> int:
    """Tax added on top of a price (tax lines not included in it)."""
    return sum(int(t["amount"]) for t in taxes or () if not t.get("included"))


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
    # The customer's language as the store knows it ("de", "fr-BE"): pages and emails use it.
    locale: Mapped[str | None] = mapped_column(String(16))
    shipping_total: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_provider: Mapped[str | None] = mapped_column(String(32))
    payment_intent: Mapped[str | None] = mapped_column(String(255), index=True)
    # Where the customer sends a return from (the return label's sender); None when the
    # store did not send one (the customer ships it themselves with the return slip).
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # The tax on shipping ({rate, amount, name, included}); None: no tax on shipping.
    shipping_tax: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Order-level discounts as imported ([{code, amount}]); their amounts are in the lines'.
    discounts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    # How the order was paid ([{provider, amount, payment_intent | code | reference}]);
    # None: one Stripe payment (payment_intent) or none, as imports without `payments` say.
    payments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # When the customer's email, name and address were erased (orders.personal_data).
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )

    @property
    def items_total(self) -> int:
        return sum(line.paid for line in self.lines)

    @property
    def shipping_paid(self) -> int:
        """Shipping with the tax added on top of it."""
        return self.shipping_total + _added([self.shipping_tax] if self.shipping_tax else [])

    @property
    def total(self) -> int:
        """What the customer paid: lines (less discounts, plus tax added on top) plus
        shipping with its tax, in minor units."""
        return self.items_total + self.shipping_paid

    @property
    def discounts_out(self) -> list[dict[str, Any]]:
        return list(self.discounts or [])

    @property
    def payments_out(self) -> list[dict[str, Any]]:
        """The payments, or the one Stripe payment of an import without `payments`."""
        if self.payments is not None:
            return list(self.payments)
        if self.payment_intent:
            return [{"provider": self.payment_provider or "stripe", "amount": self.total,
                     "payment_intent": self.payment_intent}]
        return []

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
    # The discount allocated to the whole line, and its tax lines ([{rate, amount, name,
    # included}]); `tax_added` (the ones added on top) is kept as a column so SQL sums what
    # was paid without reading the JSON.
    discount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tax_lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    tax_added: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The store's product id (the catalog's `PUT /api/v1/products/{product_id}`): what the
    # line may be exchanged for.
    product_id: Mapped[str | None] = mapped_column(String(100))
    # One unit's shipping weight and size, when the store sends them: a return label's
    # parcel is built from them (see shipping.services.parcel_for), else from the defaults.
    weight_oz: Mapped[int | None] = mapped_column(Integer)
    length_in: Mapped[int | None] = mapped_column(Integer)
    width_in: Mapped[int | None] = mapped_column(Integer)
    height_in: Mapped[int | None] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def paid(self) -> int:
        """What the customer paid for the whole line."""
        return self.unit_price * self.quantity - (self.discount or 0) + (self.tax_added or 0)

    @property
    def tax_lines_out(self) -> list[dict[str, Any]]:
        return list(self.tax_lines or [])

    def set_taxes(self, taxes: list[dict[str, Any]] | None) -> None:
        self.tax_lines = taxes or None
        self.tax_added = _added(taxes)
