"""Credit that expires: with CREDIT_EXPIRY_DAYS set, a code issued then expires that many
days later; a periodic pass writes an `expire` entry for what it still holds. Safe to run
twice or on two hosts at once: each code is locked and its balance read again first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from returns_service.credits.ledger import actor_columns, balance
from returns_service.credits.models import CreditCode, CreditEntry
from returns_service.db import db


def expire_due(session: Session, now: datetime) -> int:
    """An `expire` entry for the remaining balance of every code past its date; how many
    codes it expired. Flushes; the caller commits."""
    due = list(session.scalars(
        select(CreditCode.id).join(CreditEntry, CreditEntry.code_id == CreditCode.id)
        .where(CreditCode.expires_at.is_not(None), CreditCode.expires_at <= now)
        .group_by(CreditCode.id).having(func.sum(CreditEntry.amount) > 0)
        .order_by(CreditCode.id)))  # locks taken in id order: no deadlock between passes
    count = 0
    for code_id in due:
        session.scalar(select(CreditCode.id).where(CreditCode.id == code_id).with_for_update())
        left = balance(session, code_id)  # again, under the lock: a redemption may have won
        if left <= 0:
            continue
        session.add(CreditEntry(code_id=code_id, kind="expire", amount=-left,
                                note="Expired: past its date.",
                                **actor_columns("system", None, "expiry")))
        count += 1
    session.flush()
    return count


def expire_credits(now: datetime) -> int:
    """The periodic job (registered by `returns_service.credits.init_app`): one pass,
    committed."""
    count = expire_due(db.session, now)
    db.session.commit()
    return count
