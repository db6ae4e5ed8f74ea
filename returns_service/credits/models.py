"""Tables of the store-credit ledger: one row per credit code, and its entries, never updated
or deleted. A code's balance is the sum of its entries; it is stored nowhere else."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import UTCDateTime

# What an entry records, and the sign its amount must have.
# refund_to_credit: part of a refund paid back onto the code the order was paid with.
CREDITS = ("issue", "bonus", "reverse", "refund_to_credit")  # add to the balance
DEBITS = ("redeem", "expire", "refund_conversion")  # draw it down
KINDS = CREDITS + DEBITS

_KIND_LIST = ", ".join(f"'{kind}'" for kind in KINDS)
_SIGN_RULE = (f"(kind IN ({', '.join(repr(k) for k in CREDITS)}) AND amount > 0) OR "
              f"(kind IN ({', '.join(repr(k) for k in DEBITS)}) AND amount < 0)")


class CreditCode(db.Model):
    """A redeemable code, in one currency, for one customer email. Issued from a return at
    most once: `source_return_id` is unique, so a second issue for the same return (a retry,
    a concurrent caller) cannot create a second code."""

    __tablename__ = "credit_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(320), index=True)  # stripped, lower case
    currency: Mapped[str] = mapped_column(String(3))
    source_return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    # Read-only: entries are written one by one, with their code's row locked.
    entries: Mapped[list[CreditEntry]] = relationship(order_by="CreditEntry.id",
                                                      viewonly=True)


class CreditEntry(db.Model):
    """One movement of a code's balance. Amounts are signed minor units of the code's
    currency (see CREDITS and DEBITS for the signs, checked by the database).

    - `idempotency_key` is unique per code and kind: a redemption sent twice with the same
      key is recorded once; issue and bonus carry fixed keys, so a code has one of each.
    - `reverses_entry_id` is unique: a redemption is reversed at most once."""

    __tablename__ = "credit_entries"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_KIND_LIST})", name="kind"),
        CheckConstraint(_SIGN_RULE, name="amount_sign"),
        UniqueConstraint("code_id", "kind", "idempotency_key",
                         name="uq_credit_entries_code_id_kind_idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Looked up through the unique index below (its first column): no index of its own.
    code_id: Mapped[int] = mapped_column(ForeignKey("credit_codes.id"))
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    order_reference: Mapped[str | None] = mapped_column(String(255))
    reverses_entry_id: Mapped[int | None] = mapped_column(ForeignKey("credit_entries.id"),
                                                          unique=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    credit_code: Mapped[CreditCode] = relationship(viewonly=True)
