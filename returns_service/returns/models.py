"""Tables for returns (RMAs), their items and their audit trail."""

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
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship
from sqlalchemy.orm.attributes import flag_dirty, set_committed_value

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import JSONType, UTCDateTime
from returns_service.orders.models import Order, OrderLine

# session.info key: returns whose changes returns.writes saves before the next flush.
UNSAVED = "returns_unsaved"


def watch_unsaved(ret: Return) -> None:
    """Have `ret`'s changes saved before the next flush or commit even if no one calls save
    (a return created with Core statements is in no session, so the ORM would not see it)."""
    session = object_session(ret)
    if session is not None:
        # A change the ORM does not track (an event appended): mark the return dirty, or a
        # session with nothing else changed would skip the flush, and its hook, before a
        # query (returns.writes marks it clean again once saved).
        flag_dirty(ret)
    (session or db.session).info.setdefault(UNSAVED, {})[id(ret)] = ret


# session.info key: what this transaction read of returns, forgotten when it ends.
MEMO = "returns_memo"


def transaction_memo() -> dict[Any, Any]:
    """A dict for the current transaction (returns.writes empties it when it ends)."""
    return db.session.info.setdefault(MEMO, {})


class Return(db.Model):
    __tablename__ = "returns"
    __table_args__ = (
        Index("ix_returns_status_created_at", "status", "created_at"),
        Index("ix_returns_order_id", "order_id"),
        # Staff lists: newest first (ties by id) and the channel filter, on 1 M+ returns.
        Index("ix_returns_created_at_id", "created_at", "id"),
        Index("ix_returns_channel_created_at", "channel", "created_at"),
        # A form sent twice (double click, two tabs) creates one return: see request_key.
        UniqueConstraint("order_id", "request_key", name="uq_returns_order_request_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rma: Mapped[str] = mapped_column(String(16), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    channel: Mapped[str] = mapped_column(String(16))  # web, api, phone, email, chat
    # Only the workflow (workflows/returns.py) writes this column.
    status: Mapped[str] = mapped_column(String(32), default="requested")
    # Optimistic lock: every UPDATE checks and bumps it (SQLAlchemy version_id_col).
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    rejection_reason: Mapped[str | None] = mapped_column(String(64))
    customer_message: Mapped[str | None] = mapped_column(Text)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_reason: Mapped[str | None] = mapped_column(Text)
    # Refund breakdown, computed when the parcel is received (minor units of order currency).
    refund_items_amount: Mapped[int | None] = mapped_column(BigInteger)
    restocking_fee_amount: Mapped[int | None] = mapped_column(BigInteger)
    refund_shipping_amount: Mapped[int | None] = mapped_column(BigInteger)
    refund_amount: Mapped[int | None] = mapped_column(BigInteger)
    # Of the items' amount: the discounts taken off and the tax (added on top, or contained
    # in the price) refunded; per rate, with shipping's, for the merchant's tax return.
    refund_discount_amount: Mapped[int | None] = mapped_column(BigInteger)
    refund_tax_amount: Mapped[int | None] = mapped_column(BigInteger)
    refund_tax_added: Mapped[int | None] = mapped_column(BigInteger)  # of it, on top of prices
    refund_tax_by_rate: Mapped[dict[str, int] | None] = mapped_column(JSONType)
    # The one-time key of the form that asked for this return (customer draft, agent form).
    request_key: Mapped[str | None] = mapped_column(String(64))
    # The language the customer asked in (portal): its emails are written in it.
    locale: Mapped[str | None] = mapped_column(String(16))
    # How the customer is made whole (policy.RESOLUTIONS): refund or store_credit. The
    # customer may change it until the refund or the credit starts.
    resolution: Mapped[str] = mapped_column(String(16), default="refund",
                                            server_default="refund")
    # Every line qualified for keep-the-item: nothing to send back; resolved at approval.
    keep_item: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The agents' adjustments so far, net (goodwill added, deductions taken), kept with the
    # return so every breakdown has it without reading the adjustments.
    adjustment_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Store credit's bonus on top of refund_amount, once the credit is issued.
    credit_bonus_amount: Mapped[int | None] = mapped_column(BigInteger)
    # When the customer's personal data on this return was erased (returns.personal_data):
    # figures, reasons, statuses and timings stay.
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": version}

    order: Mapped[Order] = relationship()
    items: Mapped[list[ReturnItem]] = relationship(
        back_populates="return_", cascade="all, delete-orphan", order_by="ReturnItem.id"
    )
    events: Mapped[list[ReturnEvent]] = relationship(
        back_populates="return_", order_by="ReturnEvent.id", cascade="all, delete-orphan"
    )

    def record_event(self, **fields: Any) -> ReturnEvent:
        """Append a new audit event with these columns (the workflow's record of a change)."""
        return self.add_event(ReturnEvent(**fields))

    def add_event(self, event: ReturnEvent) -> ReturnEvent:
        """Append to the audit trail without loading the trail so far. The event is written
        with the return's next save (returns.writes), not by the ORM: it is kept out of the
        session, and shown at once in `events` when those are loaded."""
        self.__dict__.setdefault("_unsaved_events", []).append(event)
        loaded = self.__dict__.get("events")
        if loaded is not None:
            set_committed_value(self, "events", [*loaded, event])
        watch_unsaved(self)
        return event

    @property
    def currency(self) -> str:
        return self.order.currency


class ReturnItem(db.Model):
    __tablename__ = "return_items"
    __table_args__ = (Index("ix_return_items_reason_return_id", "reason", "return_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("returns.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    # Filled in by the warehouse on receipt.
    received_quantity: Mapped[int | None] = mapped_column(Integer)
    condition: Mapped[str | None] = mapped_column(String(32))
    restock: Mapped[bool | None] = mapped_column(Boolean)
    inspection_note: Mapped[str | None] = mapped_column(Text)

    return_: Mapped[Return] = relationship(back_populates="items")
    order_line: Mapped[OrderLine] = relationship()


class ReturnEvent(db.Model):
    """One line of a return's audit trail: a status change, a note, a notification…"""

    __tablename__ = "return_events"
    __table_args__ = (
        Index("ix_return_events_return_id_id", "return_id", "id"),
        Index("ix_return_events_kind_created_at", "kind", "created_at"),
        # Service reports find status events by target status and time (return_id included
        # so the report's joins can read the index alone).
        Index("ix_return_events_kind_to_status_created_at", "kind", "to_status", "created_at",
              "return_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # status, note, notification, refund, flag
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    trigger: Mapped[str | None] = mapped_column(String(32))
    actor_type: Mapped[str] = mapped_column(String(16))  # customer, staff, system, stripe
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str | None] = mapped_column(String(254))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    customer_visible: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    return_: Mapped[Return] = relationship(back_populates="events")


class ReturnAdjustment(db.Model):
    """An agent's change to what a return pays out: goodwill (positive) or a deduction
    (negative), with the policy's reason and a note. Never changed once written."""

    __tablename__ = "return_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"),
                                           index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # signed, order currency minor units
    reason: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

