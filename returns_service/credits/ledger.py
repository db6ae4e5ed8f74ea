"""The ledger's primitives: finding a code as typed, locking it, its balance and status.
Every entry of a code is written with the code's row locked (or, for its first entries, in
the transaction that created it), so a balance read under the lock cannot change before the
commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from returns_service.common.clock import utcnow
from returns_service.credits.codes import InvalidCode, parse_code
from returns_service.credits.errors import CreditNotFound
from returns_service.credits.models import CreditCode, CreditEntry

STATUSES = ("active", "spent", "expired")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_code(session: Session, code: str) -> CreditCode:
    """The code as typed (any case, dashes or not); CreditNotFound when there is none."""
    try:
        canonical = parse_code(code)
    except InvalidCode:
        raise CreditNotFound(str(code)[:40]) from None
    found = session.scalar(select(CreditCode).where(CreditCode.code == canonical))
    if found is None:
        raise CreditNotFound(canonical)
    return found


def balance(session: Session, code_id: int) -> int:
    """The sum of the code's entries, in minor units of its currency."""
    return int(session.scalar(select(func.coalesce(func.sum(CreditEntry.amount), 0))
                              .where(CreditEntry.code_id == code_id)) or 0)


def is_expired(code: CreditCode, now: datetime | None = None) -> bool:
    return code.expires_at is not None and code.expires_at <= (now or utcnow())


def status_of(code: CreditCode, balance_: int, now: datetime | None = None) -> str:
    """`expired` once its date has passed, else `active` while it holds anything, else
    `spent`."""
    if is_expired(code, now):
        return "expired"
    return "active" if balance_ > 0 else "spent"


def lock_code(session: Session, code: str) -> CreditCode:
    """find_code with the code's row locked (SELECT … FOR UPDATE on PostgreSQL) until the
    transaction ends: redemptions, reversals and expiry of one code take their turn."""
    try:
        canonical = parse_code(code)
    except InvalidCode:
        raise CreditNotFound(str(code)[:40]) from None
    found = session.scalar(select(CreditCode).where(CreditCode.code == canonical)
                           .with_for_update().execution_options(populate_existing=True))
    if found is None:
        raise CreditNotFound(canonical)
    return found


def balance_through(session: Session, entry: CreditEntry) -> int:
    """The code's balance just after `entry`: entries of a code are written one at a time
    under its lock, so their ids follow the order they were committed in."""
    return int(session.scalar(select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
        CreditEntry.code_id == entry.code_id, CreditEntry.id <= entry.id)) or 0)


def actor_columns(actor_type: str, actor_id: int | None,
                  actor_label: str | None) -> dict[str, object]:
    return {"actor_type": actor_type, "actor_id": actor_id,
            "actor_label": (actor_label or None) and actor_label[:255]}
