"""Refunds and the customer's personal data: a refund holds amounts and provider ids, kept
(the money trail), exported; a refund still under way holds back an erasure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from returns_service.db import db
from returns_service.privacy import Hold, Scope
from returns_service.refunds.models import Refund
from returns_service.returns.models import Return

UNDER_WAY = ("pending", "requires_action")


def export_refunds(scope: Scope) -> list[dict[str, Any]]:
    rows = db.session.execute(select(Refund, Return.rma).join(Return, Refund.return_id == Return.id)
                              .where(Refund.return_id.in_(scope.return_ids))
                              .order_by(Refund.id)).all()
    return [{"rma": rma, "amount": refund.amount, "currency": refund.currency,
             "status": refund.status, "provider": refund.provider,
             "at": refund.created_at.isoformat(),
             "succeeded_at": refund.succeeded_at.isoformat() if refund.succeeded_at else None}
            for refund, rma in rows]


def refunds_under_way(scope: Scope) -> list[Hold]:
    """The customer is still owed money: the data the refund needs stays until it settles."""
    rows = db.session.execute(select(Return.id, Return.rma, Refund.amount, Refund.currency)
                              .join(Return, Refund.return_id == Return.id).where(
        Refund.return_id.in_(scope.return_ids), Refund.status.in_(UNDER_WAY))).all()
    return [Hold(f"A refund of {amount} (minor units of {currency}) for return {rma} is "
                 "still under way: erase once it has settled.", return_id)
            for return_id, rma, amount, currency in rows]
