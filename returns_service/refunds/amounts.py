"""What counts against an order's money: refunds live or made, store credit issued instead
of a refund, and the shipping claimed.

Only refunds in the order's currency count: amounts in two currencies are never added up.

One rule, read two ways: for one order (`refunded_on_order`, on every request and receipt)
and for a page of orders at once (`refund_context`, for the staff list). Read-only: the
use cases that move money are in refunds.services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, literal, select, true

from returns_service.db import db
from returns_service.db.constants import one_of
from returns_service.db.loaded import read_rows
from returns_service.orders.models import Order, OrderLine
from returns_service.orders.signals import OrderPins
from returns_service.refunds.models import LIVE_REFUND_STATUSES, Refund
from returns_service.returns.eligibility import claimed_statement
from returns_service.returns.models import Return, transaction_memo

# A return in one of these statuses has claimed the order's shipping cost (if it refunds it).
SHIPPING_CLAIMED_STATUSES = ("refund_pending", "refund_failed", "refunded", "credited")
# A credited return made the customer whole with store credit: its refund_amount (the
# credit without its bonus) counts against the order as a refund would.
CREDITED = "credited"

# What counts against an order, for one order (refunded_on_order) and for a page of them
# (refund_context) alike: live refunds; dashboard refunds no return matched (on the order's
# payment intent); returns that have claimed the shipping cost.
_LIVE = one_of(Refund.status, LIVE_REFUND_STATUSES)
_UNMATCHED = (Refund.return_id.is_(None), _LIVE)
_CLAIMED_SHIPPING = (Return.refund_shipping_amount > 0,
                     one_of(Return.status, SHIPPING_CLAIMED_STATUSES))


@dataclass(frozen=True)
class OrderFigures:
    """What counts against an order, leaving one return out (see refunded_on_order), with
    what a return's answer needs besides, read in the same statement."""

    refunded: int  # live refunds of the order's other returns, and unmatched ones
    shipping_claimed: bool  # another return has claimed the shipping cost
    lines_total: int  # what the order's lines were paid (Order.items_total, unloaded)
    has_refunds: bool  # the return left out has refund rows of its own


def _order_figures_columns() -> tuple[Any, ...]:
    """The figures as columns, on parameters order_id, payment_intent, exclude_return_id."""
    order_id, exclude = bindparam("order_id"), bindparam("exclude_return_id")
    currency = Refund.currency == bindparam("currency")
    on_returns = (select(func.coalesce(func.sum(Refund.amount), 0))
                  .join(Return, Return.id == Refund.return_id)
                  .where(Return.order_id == order_id, Refund.return_id != exclude, _LIVE,
                         currency))
    # `= NULL` matches nothing: an order without a payment intent adds 0 here.
    unmatched = select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.payment_intent == bindparam("payment_intent"), *_UNMATCHED, currency)
    credited = select(func.coalesce(func.sum(Return.refund_amount), 0)).where(
        Return.order_id == order_id, Return.id != exclude, Return.status == CREDITED)
    shipping = select(Return.id).where(Return.order_id == order_id, Return.id != exclude,
                                       *_CLAIMED_SHIPPING)
    # What was paid for the lines (OrderLine.paid): discounts off, tax added on top in.
    lines = select(func.coalesce(func.sum(OrderLine.unit_price * OrderLine.quantity
                                          - OrderLine.discount + OrderLine.tax_added), 0)
                   ).where(OrderLine.order_id == order_id)
    own = select(Refund.id).where(Refund.return_id == exclude)
    return (on_returns.scalar_subquery() + unmatched.scalar_subquery()
            + credited.scalar_subquery(), shipping.exists(),
            lines.scalar_subquery(), own.exists())


def _claims_and_figures_statement() -> Any:
    """The claimed quantities per order line (returns.eligibility) and the figures, in one
    statement: one row per claimed line, or a single row of NULLs for the line when none."""
    claimed = claimed_statement().subquery()
    anchor = select(literal(1).label("one")).subquery()
    return (select(claimed.c.order_line_id, claimed.c.quantity, *_order_figures_columns())
            .select_from(anchor.outerjoin(claimed, true())))


# Built once: a statement object is reused with new parameters, so SQLAlchemy neither
# rebuilds it nor recomputes its cache key on every call.
_ORDER_FIGURES = select(*_order_figures_columns())
_CLAIMS_AND_FIGURES = _claims_and_figures_statement()


def _figures(row: Any) -> OrderFigures:
    refunded, shipping, lines, own = row[-4:]
    return OrderFigures(int(refunded or 0), bool(shipping), int(lines or 0), bool(own))


def _params(order: Order, exclude_return_id: int | None) -> dict[str, Any]:
    return {"order_id": order.id, "payment_intent": order.payment_intent,
            "currency": order.currency,
            "exclude_return_id": exclude_return_id or 0}  # id 0 excludes nothing


def order_figures(order: Order, *, exclude_return_id: int | None = None) -> OrderFigures:
    """refunded_on_order's figures, with the order's lines total and whether the return
    left out has refunds, in one query."""
    # Core on the session's transaction (read_rows): none of the ORM's work around a query.
    [row] = read_rows(db.session, _ORDER_FIGURES, _params(order, exclude_return_id))
    return _figures(row)


def claims_and_figures(order: Order) -> tuple[dict[int, int], OrderFigures]:
    """For a new return on `order` (its lock held, so neither can change until the commit):
    what its lines have claimed already, and the figures its answer shows, in one query."""
    rows = read_rows(db.session, _CLAIMS_AND_FIGURES, _params(order, None))
    claimed = {line_id: int(quantity) for line_id, quantity, *_ in rows if line_id is not None}
    return claimed, _figures(rows[0])


def refunded_on_order(order: Order, *, exclude_return_id: int | None = None) -> tuple[int, bool]:
    """For this order, in one query: money refunded or on its way in its currency (live
    refunds of its returns, ours, manual and dashboard ones, plus dashboard refunds on its
    payment that no return matched), and whether a return has already claimed the shipping
    cost."""
    figures = order_figures(order, exclude_return_id=exclude_return_id)
    return figures.refunded, figures.shipping_claimed


def remember_for_answer(ret: Return, **known: Any) -> None:
    """Keep what this transaction read or wrote of `ret`'s refunds (`figures` read under the
    order's lock, `refunds` as now) for the answer rendered before the commit; forgotten
    when the transaction ends."""
    transaction_memo().setdefault(("refunds", ret.id), {}).update(known)


def remembered_for_answer(ret: Return) -> dict[str, Any]:
    return transaction_memo().get(("refunds", ret.id), {})


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
    credited = (select(Return.order_id, Return.id, Return.refund_amount)
                .where(Return.order_id.in_(order_ids), Return.status == CREDITED))
    return amounts.union_all(credited), unmatched, shipped


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


_REFUNDS_OF = (select(Refund).where(Refund.return_id == bindparam("return_id"))
               .order_by(Refund.attempt))  # built once: read with every change shown


def refunds_of_return(ret: Return) -> list[Refund]:
    """Every refund row of `ret`, by attempt."""
    return list(db.session.scalars(_REFUNDS_OF, {"return_id": ret.id}))


def remaining_on_order(order: Order) -> int:
    """What the order can still refund, counting every live refund on it."""
    return max(0, order.total - refunded_on_order(order)[0])


def _sum_on_return(which: Any) -> Any:
    """Refunds on the return in its order's currency: one in another currency (a dashboard
    refund, or an answer from Stripe that was not what we asked for) is flagged for a person
    when it is recorded, and never added to these figures. Built once, run with the
    return's id."""
    refunds, returns, orders = Refund.__table__, Return.__table__, Order.__table__
    return (select(func.coalesce(func.sum(refunds.c.amount), 0))
            .select_from(refunds.join(returns, returns.c.id == refunds.c.return_id)
                         .join(orders, orders.c.id == returns.c.order_id))
            .where(refunds.c.return_id == bindparam("return_id"),
                   refunds.c.currency == orders.c.currency, which))


_SETTLED_ON_RETURN = _sum_on_return(Refund.__table__.c.status == "succeeded")
_LIVE_ON_RETURN = _sum_on_return(_LIVE)


def settled_on_return(ret: Return) -> int:
    """Money that has reached the customer for this return: succeeded refunds of any origin
    (ours, manual, dashboard), whether or not they add up to what it is owed."""
    return int(read_rows(db.session, _SETTLED_ON_RETURN, {"return_id": ret.id})[0][0])


# Its own subquery's `returns` stays its own (correlate(None)): the outer row is the same
# return, but the sum must not depend on that.
_BEFORE_SUBMIT = select(Return.rma, Return.refund_amount,
                        _LIVE_ON_RETURN.correlate(None).scalar_subquery()).where(
    Return.id == bindparam("return_id"))


def before_submit(return_id: int) -> tuple[str, int | None, int]:
    """What the refund job checks before it calls Stripe, in one statement: the return's
    RMA, what it is owed, and its live refunds (`refunded_on_return`)."""
    rma, owed, live = read_rows(db.session, _BEFORE_SUBMIT, {"return_id": return_id})[0]
    return rma, owed, int(live)


def refunded_on_return(ret: Return) -> int:
    """Live refunds already recorded on this return (e.g. a partial one in the dashboard)."""
    return int(read_rows(db.session, _LIVE_ON_RETURN, {"return_id": ret.id})[0][0])


def pins_of_refunds(order: Order) -> OrderPins:
    """Answer to orders' `order_pins_asked`: refunds made on this order's payment (ours,
    manual or in the Stripe dashboard) pin its currency and payment."""
    has_refunds = order.payment_intent is not None and db.session.scalar(
        select(Refund.id).where(Refund.payment_intent == order.payment_intent).limit(1)
    ) is not None
    return OrderPins(has_history=has_refunds)
