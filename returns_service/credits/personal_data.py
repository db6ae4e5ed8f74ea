"""What store credit keeps of the customer (the email a code was issued to), its eraser,
exporter and hold: a code that still holds credit keeps its email until it is spent or
expired (the customer may still need it). The ledger's entries hold amounts only, and stay."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update

from returns_service.credits.ledger import balance, is_expired
from returns_service.credits.models import CreditCode
from returns_service.db import db
from returns_service.privacy import Hold, Scope

ERASED_DOMAIN = "erased.invalid"


def _codes(scope: Scope) -> list[CreditCode]:
    return list(db.session.scalars(select(CreditCode).where(or_(
        CreditCode.source_return_id.in_(scope.return_ids),
        CreditCode.email.in_(scope.emails))).order_by(CreditCode.id)))


def erase_codes(scope: Scope) -> int:
    done = 0
    for code in _codes(scope):
        if code.email.endswith("@" + ERASED_DOMAIN):
            continue
        db.session.execute(update(CreditCode).where(CreditCode.id == code.id)
                           .values(email=f"credit-{code.id}@{ERASED_DOMAIN}")
                           .execution_options(synchronize_session=False))
        done += 1
    return done


def export_codes(scope: Scope) -> list[dict[str, Any]]:
    return [{"code": code.code, "email": code.email, "currency": code.currency,
             "balance": balance(db.session, code.id),
             "expires_at": code.expires_at.isoformat() if code.expires_at else None,
             "entries": [{"kind": entry.kind, "amount": entry.amount,
                          "order_reference": entry.order_reference,
                          "at": entry.created_at.isoformat()} for entry in code.entries]}
            for code in _codes(scope)]


def unspent_credit(scope: Scope) -> list[Hold]:
    """A code still holding credit: the customer may still spend it."""
    return [Hold(f"Store credit {code.code} still holds {balance(db.session, code.id)} "
                 f"(minor units of {code.currency}): erase once it is spent or expired.",
                 code.source_return_id)
            for code in _codes(scope)
            if not is_expired(code) and balance(db.session, code.id) > 0]
