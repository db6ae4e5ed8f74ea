"""Store credit, the interface the rest of the service calls: issue a code for a return
(exactly once), read balances and ledgers, and the redemption, reversal, refund-conversion
and expiry use cases (from `redemptions` and `expiry`, re-exported here).

Every function takes the caller's session, flushes and never commits: the credit is written
in the same transaction as whatever caused it. Balances are sums of ledger entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from returns_service.common.clock import utcnow
from returns_service.common.errors import ValidationFailed
from returns_service.common.money import MAX_AMOUNT, is_currency
from returns_service.credits.codes import new_code
from returns_service.credits.expiry import expire_due
from returns_service.credits.ledger import (
    STATUSES,
    actor_columns,
    balance,
    find_code,
    is_expired,
    normalise_email,
    status_of,
)
from returns_service.credits.models import CreditCode, CreditEntry
from returns_service.credits.redemptions import (
    Redemption,
    Reversal,
    convert_to_refund_entry,
    redeem,
    refund_to_code,
    reverse_redemption,
)

__all__ = ["STATUSES", "CreditSummary", "Redemption", "Reversal", "balance",
           "codes_for_email", "convert_to_refund_entry", "credit_for_return", "credit_summary",
           "expire_due", "find_code", "is_expired", "issue_for_return", "normalise_email",
           "outstanding_by_currency", "redeem", "refund_to_code", "reverse_redemption",
           "status_of"]


@dataclass
class CreditSummary:
    """A code as staff and the store see it: its balance, status and (when asked) entries."""

    code: CreditCode
    balance: int
    status: str
    entries: list[CreditEntry] = field(default_factory=list)


def issue_for_return(session: Session, *, return_id: int, email: str, currency: str,
                     amount: int, bonus: int, actor_type: str = "system",
                     actor_id: int | None = None, actor_label: str | None = None) -> CreditCode:
    """The credit of a return: a new code with its `issue` entry (`amount`) and, when
    `bonus` > 0, a separate `bonus` entry, in the caller's transaction (flushed, not
    committed). A return has at most one credit (a unique column decides, so two callers at
    once get the same code): when it has one already, that one is answered, unchanged."""
    existing = credit_for_return(session, return_id)
    if existing is not None:
        return existing
    values = _checked(email=email, currency=currency, amount=amount, bonus=bonus)
    days = int(current_app.config.get("CREDIT_EXPIRY_DAYS") or 0) if has_app_context() else 0
    now = utcnow()
    actor = actor_columns(actor_type, actor_id, actor_label)
    for _ in range(5):  # a fresh code again in the (54-bit) case it was drawn before
        code_id = _insert_once(session, {
            "code": new_code(), "email": values["email"], "currency": values["currency"],
            "source_return_id": return_id, "created_at": now,
            "expires_at": now + timedelta(days=days) if days > 0 else None})
        if code_id is None:
            existing = credit_for_return(session, return_id)
            if existing is not None:
                return existing  # issued meanwhile by a concurrent caller, now committed
            continue
        session.add(CreditEntry(code_id=code_id, kind="issue", amount=amount,
                                idempotency_key="issue", **actor))
        if bonus > 0:
            session.add(CreditEntry(code_id=code_id, kind="bonus", amount=bonus,
                                    idempotency_key="bonus", **actor))
        session.flush()
        issued = session.get(CreditCode, code_id)
        assert issued is not None
        return issued
    raise RuntimeError("could not draw an unused credit code")


def _checked(*, email: str, currency: str, amount: int, bonus: int) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    email = normalise_email(email)
    if "@" not in email or len(email) > 320:
        errors["email"] = ["A customer email is needed for a credit."]
    if not is_currency(currency):
        errors["currency"] = ["Use an ISO 4217 currency code, e.g. EUR."]
    if not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        errors["amount"] = ["The credit must be more than zero."]
    if not isinstance(bonus, int) or not 0 <= bonus <= MAX_AMOUNT:
        errors["bonus"] = ["The bonus cannot be negative."]
    if errors:
        raise ValidationFailed(errors)
    return {"email": email, "currency": currency.upper()}


def _insert_once(session: Session, values: dict[str, object]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: None when the return already has a code
    (committed by another transaction, which this one waited for) or the code was taken."""
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = (insert(CreditCode.__table__).on_conflict_do_nothing()
                 .returning(CreditCode.__table__.c.id))
    return connection.execute(statement, values).scalar()


def credit_for_return(session: Session, return_id: int) -> CreditCode | None:
    return session.scalar(select(CreditCode).where(CreditCode.source_return_id == return_id))


def credit_summary(session: Session, code: str,
                   now: datetime | None = None) -> CreditSummary:
    """A code's balance and status (no entries): what the store asks before a redemption."""
    found = find_code(session, code)
    amount = balance(session, found.id)
    return CreditSummary(found, amount, status_of(found, amount, now))


def codes_for_email(session: Session, email: str,
                    now: datetime | None = None) -> list[CreditSummary]:
    """Every code of a customer email, newest first, each with its balance, status and
    entries (oldest first): what staff see. Two queries, whatever the number of codes."""
    codes = list(session.scalars(select(CreditCode).where(
        CreditCode.email == normalise_email(email)).order_by(CreditCode.id.desc())))
    entries: dict[int, list[CreditEntry]] = {code.id: [] for code in codes}
    if codes:
        for entry in session.scalars(select(CreditEntry).where(
                CreditEntry.code_id.in_(list(entries))).order_by(CreditEntry.id)):
            entries[entry.code_id].append(entry)
    result = []
    for code in codes:
        amount = sum(entry.amount for entry in entries[code.id])
        result.append(CreditSummary(code, amount, status_of(code, amount, now),
                                    entries[code.id]))
    return result


def outstanding_by_currency(session: Session,
                            now: datetime | None = None) -> dict[str, int]:
    """The merchant's liability: per currency, the balances of the codes that have not
    expired (codes past their date count as nothing, whether or not the expiry pass has run)."""
    now = now or utcnow()
    rows = session.execute(
        select(CreditCode.currency, func.sum(CreditEntry.amount))
        .join(CreditEntry, CreditEntry.code_id == CreditCode.id)
        .where((CreditCode.expires_at.is_(None)) | (CreditCode.expires_at > now))
        .group_by(CreditCode.currency).order_by(CreditCode.currency))
    return {currency: int(total) for currency, total in rows if total}
