"""Drawing credit down: redeem part of a code (exactly once per idempotency key, never below
zero), reverse a redemption (once), and turn credit into a refund entry. Each locks the
code's row first, so concurrent callers on one code take turns and each sees the balance the
one before left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.common.money import MAX_AMOUNT
from returns_service.credits.errors import CreditExpired, IdempotencyKeyReused, InsufficientCredit
from returns_service.credits.ledger import (
    actor_columns,
    balance,
    balance_through,
    is_expired,
    lock_code,
)
from returns_service.credits.models import CreditCode, CreditEntry


@dataclass(frozen=True)
class Redemption:
    """A redemption as recorded; a replay (the same idempotency key again) answers the
    same figures, `balance_after` included, with `replayed` set."""

    id: int
    code: str
    amount: int  # positive: what was taken off the code
    currency: str
    order_reference: str
    balance_after: int
    created_at: datetime
    replayed: bool = False


@dataclass(frozen=True)
class Reversal:
    id: int
    redemption_id: int
    code: str
    amount: int  # positive: what was put back
    currency: str
    balance_after: int
    created_at: datetime
    replayed: bool = False  # the redemption had been reversed before: nothing added


def redeem(session: Session, code: str, *, amount: int, order_reference: str,
           idempotency_key: str, currency: str | None = None, actor_type: str = "system",
           actor_id: int | None = None, actor_label: str | None = None) -> Redemption:
    """Take `amount` off the code for the store's order `order_reference`. The same
    `idempotency_key` again answers the first result (IdempotencyKeyReused if it came with
    another amount, order or currency); InsufficientCredit (with the balance) when the code
    holds less; CreditExpired past its date; `currency`, when given, must be the code's."""
    _check_amount(amount)
    errors: dict[str, list[str]] = {}
    if not (order_reference or "").strip() or len(order_reference) > 255:
        errors["order_reference"] = ["Give the store's order reference (at most 255 characters)."]
    if not (idempotency_key or "").strip() or len(idempotency_key) > 255:
        errors["idempotency_key"] = ["Give an idempotency key of at most 255 characters."]
    if errors:
        raise ValidationFailed(errors)
    order_reference = order_reference.strip()
    credit = lock_code(session, code)
    earlier = session.scalar(select(CreditEntry).where(
        CreditEntry.code_id == credit.id, CreditEntry.kind == "redeem",
        CreditEntry.idempotency_key == idempotency_key))
    if earlier is not None:
        if (-earlier.amount, earlier.order_reference) != (amount, order_reference) or (
                currency is not None and currency.upper() != credit.currency):
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for another redemption on this code (another "
                "amount, order reference or currency). Use a new key for a new redemption.")
        return _redemption(session, credit, earlier, replayed=True)
    _check_currency(credit, currency)
    if is_expired(credit):
        raise CreditExpired(credit.code)
    available = balance(session, credit.id)
    if amount > available:
        raise InsufficientCredit(balance=available, currency=credit.currency, asked=amount)
    entry = CreditEntry(code_id=credit.id, kind="redeem", amount=-amount,
                        idempotency_key=idempotency_key, order_reference=order_reference,
                        **actor_columns(actor_type, actor_id, actor_label))
    session.add(entry)
    session.flush()
    return _redemption(session, credit, entry)


def reverse_redemption(session: Session, code: str, redemption_id: int, *, reason: str,
                       actor_type: str = "system", actor_id: int | None = None,
                       actor_label: str | None = None) -> Reversal:
    """Put a redemption back on its code (the store's order was cancelled), exactly once:
    asked again, the first reversal is answered (`replayed`) and nothing is added. Allowed on
    an expired code too; the next expiry pass then expires what it put back."""
    if not (reason or "").strip() or len(reason) > 2000:
        raise ValidationFailed({"reason": ["Say why the redemption is reversed."]})
    credit = lock_code(session, code)
    redemption = session.scalar(select(CreditEntry).where(
        CreditEntry.id == redemption_id, CreditEntry.code_id == credit.id,
        CreditEntry.kind == "redeem"))
    if redemption is None:
        raise NotFound(f"No redemption {redemption_id} on {credit.code}.")
    earlier = session.scalar(select(CreditEntry).where(
        CreditEntry.reverses_entry_id == redemption.id))
    if earlier is not None:
        return _reversal(session, credit, earlier, replayed=True)
    entry = CreditEntry(code_id=credit.id, kind="reverse", amount=-redemption.amount,
                        reverses_entry_id=redemption.id,
                        order_reference=redemption.order_reference, note=reason.strip(),
                        **actor_columns(actor_type, actor_id, actor_label))
    session.add(entry)
    session.flush()
    return _reversal(session, credit, entry)


def convert_to_refund_entry(session: Session, code: str, *, amount: int,
                            actor_type: str = "system", actor_id: int | None = None,
                            actor_label: str | None = None, note: str | None = None,
                            idempotency_key: str | None = None) -> CreditEntry:
    """Record that `amount` of the code's credit is paid back as money instead (the
    caller makes the refund and checks who may): a `refund_conversion` entry drawing the
    balance down, never below zero. With an `idempotency_key`, the same key again answers
    the first entry."""
    _check_amount(amount)
    credit = lock_code(session, code)
    if idempotency_key is not None:
        earlier = session.scalar(select(CreditEntry).where(
            CreditEntry.code_id == credit.id, CreditEntry.kind == "refund_conversion",
            CreditEntry.idempotency_key == idempotency_key))
        if earlier is not None:
            if -earlier.amount != amount:
                raise IdempotencyKeyReused("This key was used for another amount.")
            return earlier
    if is_expired(credit):
        raise CreditExpired(credit.code)
    available = balance(session, credit.id)
    if amount > available:
        raise InsufficientCredit(balance=available, currency=credit.currency, asked=amount)
    entry = CreditEntry(code_id=credit.id, kind="refund_conversion", amount=-amount,
                        idempotency_key=idempotency_key, note=note,
                        **actor_columns(actor_type, actor_id, actor_label))
    session.add(entry)
    session.flush()
    return entry


def refund_to_code(session: Session, code: str, *, amount: int, currency: str,
                   idempotency_key: str, actor_type: str = "system",
                   actor_id: int | None = None, actor_label: str | None = None,
                   note: str | None = None) -> CreditEntry:
    """Pay part of a refund back onto the code the order was paid with: a
    `refund_to_credit` entry adding `amount` (no bonus), once per `idempotency_key` (the
    same key again answers the first entry; the unique key on code, kind and key decides
    between two callers at once). An expired code takes it too: the money was the
    customer's, and staff see it on the code."""
    _check_amount(amount)
    credit = lock_code(session, code)
    _check_currency(credit, currency)
    earlier = session.scalar(select(CreditEntry).where(
        CreditEntry.code_id == credit.id, CreditEntry.kind == "refund_to_credit",
        CreditEntry.idempotency_key == idempotency_key))
    if earlier is not None:
        if earlier.amount != amount:
            raise IdempotencyKeyReused("This key was used for another amount.")
        return earlier
    entry = CreditEntry(code_id=credit.id, kind="refund_to_credit", amount=amount,
                        idempotency_key=idempotency_key, note=note,
                        **actor_columns(actor_type, actor_id, actor_label))
    session.add(entry)
    session.flush()
    return entry


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise ValidationFailed({"amount": ["Give an amount above zero, in minor units."]})


def _check_currency(credit: CreditCode, currency: str | None) -> None:
    if currency is not None and currency.upper() != credit.currency:
        raise ValidationFailed({"currency": [
            f"This credit is in {credit.currency}, not {currency.upper()[:3]}."]})


def _redemption(session: Session, credit: CreditCode, entry: CreditEntry, *,
                replayed: bool = False) -> Redemption:
    return Redemption(entry.id, credit.code, -entry.amount, credit.currency,
                      entry.order_reference or "", balance_through(session, entry),
                      entry.created_at, replayed)


def _reversal(session: Session, credit: CreditCode, entry: CreditEntry, *,
              replayed: bool = False) -> Reversal:
    assert entry.reverses_entry_id is not None
    return Reversal(entry.id, entry.reverses_entry_id, credit.code, entry.amount,
                    credit.currency, balance_through(session, entry), entry.created_at,
                    replayed)
