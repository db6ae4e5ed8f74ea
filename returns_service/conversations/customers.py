"""The customer view: everything about one customer email across orders — every return,
its conversation, every refund, the CSAT answers — and a flag when they return unusually
often. Staff only: internal notes are counted, never copied into anything a customer sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from returns_service.conversations.models import ConversationMessage
from returns_service.db import db
from returns_service.feedback.models import Feedback
from returns_service.orders.models import Order
from returns_service.refunds.models import Refund
from returns_service.returns.models import Return

# More returns than this share of the customer's orders, over at least MIN_ORDERS orders,
# is flagged for a person to look at (not a rule: a hint).
UNUSUAL_RETURN_RATE = 0.5
MIN_ORDERS = 3


@dataclass
class CustomerView:
    email: str
    name: str | None
    orders: int
    returns: list[Return]
    messages: dict[int, list[ConversationMessage]] = field(default_factory=dict)
    refunds: list[Refund] = field(default_factory=list)
    feedback: dict[int, Feedback] = field(default_factory=dict)

    @property
    def return_rate(self) -> float | None:
        orders_with_returns = len({r.order_id for r in self.returns})
        return orders_with_returns / self.orders if self.orders else None

    @property
    def unusual(self) -> bool:
        rate = self.return_rate
        return rate is not None and self.orders >= MIN_ORDERS and rate > UNUSUAL_RETURN_RATE

    @property
    def refunded(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for refund in self.refunds:
            if refund.status == "succeeded":
                totals[refund.currency] = totals.get(refund.currency, 0) + refund.amount
        return totals


def customer_view(email: str) -> CustomerView:
    email = email.strip().lower()
    orders = db.session.scalars(select(Order).where(Order.email == email)
                                .order_by(Order.placed_at.desc())).all()
    order_ids = [o.id for o in orders]
    returns: list[Any] = list(db.session.scalars(
        select(Return).where(Return.order_id.in_(order_ids))
        .order_by(Return.created_at.desc()))) if order_ids else []
    ids = [r.id for r in returns]
    view = CustomerView(email=email, name=orders[0].customer_name if orders else None,
                        orders=len(orders), returns=returns)
    if not ids:
        return view
    for message in db.session.scalars(select(ConversationMessage).where(
            ConversationMessage.return_id.in_(ids)).order_by(ConversationMessage.id)):
        view.messages.setdefault(message.return_id, []).append(message)
    view.refunds = list(db.session.scalars(select(Refund).where(Refund.return_id.in_(ids))
                                           .order_by(Refund.id)))
    view.feedback = {f.return_id: f for f in db.session.scalars(
        select(Feedback).where(Feedback.return_id.in_(ids)))}
    return view


def message_total(view: CustomerView) -> int:
    return sum(len(v) for v in view.messages.values())


__all__ = ["CustomerView", "customer_view", "message_total"]
