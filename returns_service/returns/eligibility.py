"""Which lines of an order may still be returned, and why not (final sale, window closed,
already returned): the eligibility rules the form, the API and a new return all apply."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask_babel import gettext
from sqlalchemy import bindparam, func, select

from returns_service.common.clock import utcnow
from returns_service.common.i18n import date
from returns_service.db import db
from returns_service.db.constants import none_of
from returns_service.orders.models import Order, OrderLine
from returns_service.orders.signals import OrderPins
from returns_service.returns.models import Return, ReturnItem
from returns_service.returns.policy import ReturnPolicy
from workflows.returns import RELEASED


def claimed_quantities(order: Order, *, exclude_return_id: int | None = None) -> dict[int, int]:
    """Per order line id: quantity already in returns that still count (not released)."""
    rows = db.session.execute(claimed_statement(), {  # id 0 excludes nothing
        "order_id": order.id, "exclude_return_id": exclude_return_id or 0})
    return defaultdict(int, {line_id: int(qty) for line_id, qty in rows})


@cache
def claimed_statement() -> Any:
    """Per order line: quantity claimed by the order's returns that still count, on
    parameters order_id and exclude_return_id (0 excludes nothing)."""
    return (select(ReturnItem.order_line_id, func.sum(ReturnItem.quantity).label("quantity"))
            .join(Return, Return.id == ReturnItem.return_id)
            .where(Return.order_id == bindparam("order_id"),
                   Return.id != bindparam("exclude_return_id"),
                   none_of(Return.status, [s.value for s in RELEASED]))
            .group_by(ReturnItem.order_line_id))


@dataclass(frozen=True)
class LineEligibility:
    line: OrderLine
    returnable_quantity: int
    reason: str | None  # shown to the customer when returnable_quantity is 0

    @property
    def eligible(self) -> bool:
        return self.returnable_quantity > 0


def line_eligibility(order: Order, policy: ReturnPolicy, now: datetime | None = None,
                     claimed: dict[int, int] | None = None) -> list[LineEligibility]:
    """For each line: how many may still be returned, and if none, why (customer wording).
    `claimed`: claimed_quantities(order) when the caller has read it already."""
    now = now or utcnow()
    deadline = policy.return_deadline(order.channel, order.placed_at, order.delivered_at)
    if claimed is None:
        claimed = claimed_quantities(order)
    result = []
    for line in order.lines:
        left = max(0, line.quantity - claimed.get(line.id, 0))
        if line.final_sale:
            result.append(LineEligibility(line, 0, gettext("Final sale: this item cannot be "
                                                           "returned.")))
        elif now > deadline:
            # Customer pages: in the customer's language (the API's stays English).
            result.append(LineEligibility(
                line, 0, gettext("Return window closed on %(day)s.", day=date(deadline))))
        elif left == 0:
            result.append(LineEligibility(line, 0, gettext("Already returned.")))
        else:
            result.append(LineEligibility(line, left, None))
    return result


def keep_item_applies(order: Order, lines: list[tuple[OrderLine, str]], policy: ReturnPolicy,
                      now: datetime | None = None) -> bool:
    """Whether the customer keeps these (line, reason) pairs: every line qualifies by the
    keep-item policy, and this customer email has had fewer than the policy's keep-item
    returns in its period (returns released since do not count)."""
    rule = policy.keep_item
    if not lines or not all(rule.line_qualifies(order.currency, line.sku, line.unit_price,
                                                reason) for line, reason in lines):
        return False
    since = (now or utcnow()) - timedelta(days=rule.period_days)
    kept = db.session.scalar(
        select(func.count(Return.id)).join(Order, Order.id == Return.order_id)
        .where(Order.email == order.email, Return.keep_item.is_(True),
               Return.created_at >= since,
               Return.status.not_in([s.value for s in RELEASED]))) or 0
    return kept < rule.max_per_customer


def eligibility_view(order: Order, policy: ReturnPolicy) -> dict[str, Any]:
    """Everything the return form needs about one order."""
    return {
        "order_number": order.number,
        "currency": order.currency,
        "return_deadline": policy.return_deadline(order.channel, order.placed_at,
                                                  order.delivered_at),
        "lines": [{"sku": e.line.sku, "name": e.line.name, "unit_price": e.line.unit_price,
                   "purchased": e.line.quantity, "returnable_quantity": e.returnable_quantity,
                   "eligible": e.eligible, "reason": e.reason}
                  for e in line_eligibility(order, policy)],
        "reasons": [{"code": r.code, "label": r.label, "merchant_fault": r.merchant_fault}
                    for r in policy.reasons],
    }


def pins_of_returns(order: Order) -> OrderPins:
    """Answer to orders' `order_pins_asked`: what this order's returns pin down."""
    lines_in_returns = frozenset(db.session.scalars(
        select(ReturnItem.order_line_id).join(Return, Return.id == ReturnItem.return_id)
        .where(Return.order_id == order.id)))
    claimed = claimed_quantities(order)
    return OrderPins(has_history=bool(lines_in_returns), claimed=dict(claimed),
                     lines_in_returns=lines_in_returns)
