"""What counts against an order's money: refunds live or made, and the shipping claimed.

Only refunds in the order's currency count: amounts in two currencies are never added up.

One rule, read two ways: for one order (`refunded_on_order`, on every request and receipt)
and for a page of orders at once (`refund_context`, for the staff list). Read-only: the
use cases that move money are in refunds.services.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select

from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.orders.signals import OrderPins
from returns_service.refunds.models import LIVE_REFUND_STATUSES, Refund
from returns_service.returns.models import Return

# A return in one of these statuses has claimed the order's shipping cost (if it refunds it).
SHIPPING_CLAIMED_STATUSES = ("refund_pending", "refund_failed", "refunded")

# What counts against an order, for one order (refunded_on_order) and for a page of them
# (refund_context) alike: live refunds; dashboard refunds no return matched (on the order's
# payment intent); returns that have claimed the shipping cost.
_LIVE = Refund.status.in_(LIVE_REFUND_STATUSES)
_UNMATCHED = (Refund.return_id.is_(None), _LIVE)
_CLAIMED_SHIPPING = (Return.refund_shipping_amount > 0,
                     Return.status.in_(SHIPPING_CLAIMED_STATUSES))


def _refunded_on_order_statement() -> Any:
    """Built once: a statement object is reused with new parameters, so SQLAlchemy neither
    rebuilds it nor recomputes its cache key on every call."""
    order_id, exclude = bindparam("order_id"), bindparam("exclude_return_id")
    currency = Refund.currency == bindparam("currency")
    on_returns = (select(func.coalesce(func.sum(Refund.amount), 0))
                  .join(Return, Return.id == Refund.return_id)
                  .where(Return.order_id == order_id, Refund.return_id != exclude, _LIVE,
                         currency))
    # `= NULL` matches nothing: an order without a payment intent adds 0 here.
    unmatched = select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.payment_intent == bindparam("payment_intent"), *_UNMATCHED, currency)
    shipping = select(Return.id).where(Return.order_id == order_id, Return.id != exclude,
                                       *_CLAIMED_SHIPPING)
    return select(on_returns.scalar_subquery() + unmatched.scalar_subquery(),
                  shipping.exists())


_REFUNDED_ON_ORDER = _refunded_on_order_statement()


def refunded_on_order(order: Order, *, exclude_return_id: int | None = None) -> tuple[int, bool]:
    """For this order, in one query: money refunded or on its way in its currency (live
    refunds of its returns, ours, manual and dashboard ones, plus dashboard refunds on its
    payment that no return matched), and whether a return has already claimed the shipping
    cost."""
    row = db.session.execute(_REFUNDED_ON_ORDER, {
        "order_id": order.id, "payment_intent": order.payment_intent,
        "currency": order.currency,
        "exclude_return_id": exclude_return_id or 0}).one()  # id 0 excludes nothing
    return int(row[0] or 0), bool(row[1])


def _refund_context_statements() -> tuple[Any, Any, Any]:
    """Built once, for any number of orders (an expanding IN): refund_context's three."""
    order_ids = bindparam("order_ids", expanding=True)
    amounts = (select(Return.order_id, Refund.return_id, func.sum(Refund.amount))
               .join(Return, Return.id == Refund.return_id)
               .join(Order, Order.id == Return.order_id)
               .where(Return.order_id.in_(order_ids), _LIVE, Refund.currency == Order.currency)
               .group_by(Return.order_id, Refund.return_id))
    unmatched = (select(Order.id, func.sum(Refund.amount))
                 .join(Order, Order.payment_intent == Refund.payment_intent)
                 .where(Order.id.in_(order_ids), *_UNMATCHED,
                        Refund.currency == Order.currency)
                 .group_by(Order.id))
    shipped = select(Return.order_id, Return.id).where(Return.order_id.in_(order_ids),
                                                       *_CLAIMED_SHIPPING)
    return amounts, unmatched, shipped


_REFUND_CONTEXT = _refund_context_statements()


def refund_context(order_ids: list[int]) -> dict[int, dict[int, tuple[int, bool]]]:
    """The same figures as refunded_on_order, for many orders
    at once (staff lists, in three queries for any page): per order id, per return id, the
    live refund amount and whether that return claimed the shipping. Dashboard refunds on an
    order's payment that no return matched are listed under return id 0."""
    if not order_ids:
        return {}
    amounts, unmatched, shipped = _REFUND_CONTEXT
    params = {"order_ids": order_ids}
    context: dict[int, dict[int, tuple[int, bool]]] = {}
    for order_id, return_id, amount in db.session.execute(amounts, params):
        context.setdefault(order_id, {})[return_id] = (int(amount or 0), False)
    for order_id, amount in db.session.execute(unmatched, params):
        context.setdefault(order_id, {})[0] = (int(amount or 0), False)
    for order_id, return_id in db.session.execute(shipped, params):
        amount, _ = context.setdefault(order_id, {}).get(return_id, (0, False))
        context[order_id][return_id] = (amount, True)
    return context


def remaining_on_order(order: Order) -> int:
    """What the order can still refund, counting every live refund on it."""
    return max(0, order.total - refunded_on_order(order)[0])


def settled_on_return(ret: Return) -> int:
    """Money that has reached the customer for this return: succeeded refunds of any origin
    (ours, manual, dashboard), whether or not they add up to what it is owed."""
    return _sum_on_return(ret, Refund.status == "succeeded")


def refunded_on_return(ret: Return) -> int:
    """Live refunds already recorded on this return (e.g. a partial one in the dashboard)."""
    return _sum_on_return(ret, _LIVE)


def _sum_on_return(ret: Return, which: Any) -> int:
    """Refunds on the return in its order's currency: one in another currency (a dashboard
    refund, or an answer from Stripe that was not what we asked for) is flagged for a person
    when it is recorded, and never added to these figures."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0))
        .join(Return, Return.id == Refund.return_id).join(Order, Order.id == Return.order_id)
        .where(Refund.return_id == ret.id, Refund.currency == Order.currency, which)) or 0)


def pins_of_refunds(order: Order) -> OrderPins:
    """Answer to orders' `order_pins_asked`: refunds made on this order's payment (ours,
    manual or in the Stripe dashboard) pin its currency and payment."""
    has_refunds = order.payment_intent is not None and db.session.scalar(
        select(Refund.id).where(Refund.payment_intent == order.payment_intent).limit(1)
    ) is not None
    return OrderPins(has_history=has_refunds)
