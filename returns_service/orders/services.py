"""Order use cases: idempotent import from the store, lookup, and per-line eligibility."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, joinedload

from returns_service.clock import utcnow
from returns_service.errors import NotFound, ValidationFailed
from returns_service.extensions import db
from returns_service.orders.models import Order, OrderLine
from returns_service.returns.policy import ReturnPolicy

ORDER_NOT_FOUND = "We could not find an order with that number and email address."


def upsert_order(data: dict[str, Any]) -> tuple[Order, bool]:
    """Create or update the order `data["number"]`. Returns (order, created)."""
    order = db.session.scalar(
        select(Order).where(Order.number == data["number"]).with_for_update())
    created = order is None
    if created:
        order = Order(number=data["number"])
        try:
            with db.session.begin_nested():
                db.session.add(order)
                _apply(order, data)
        except IntegrityError:  # the same order arrived concurrently: update that one
            order = db.session.scalar(
                select(Order).where(Order.number == data["number"]).with_for_update())
            created = False
            assert order is not None
            _apply(order, data)
    else:
        _apply(order, data)
    db.session.flush()
    return order, created


def _apply(order: Order, data: dict[str, Any]) -> None:
    payment = data.get("payment") or {}
    if order.id is not None:
        _keep_what_refunds_rest_on(order, data["currency"].upper(), payment.get("payment_intent"))
    order.email = data["email"].strip().lower()
    order.customer_name = data["customer_name"]
    order.currency = data["currency"].upper()
    order.placed_at = data["placed_at"]
    order.delivered_at = data.get("delivered_at")
    order.channel = data.get("channel", "web")
    order.shipping_total = data.get("shipping_total", 0)
    order.payment_provider = payment.get("provider")
    order.payment_intent = payment.get("payment_intent")
    _merge_lines(order, data["lines"])


def _keep_what_refunds_rest_on(order: Order, currency: str, payment_intent: str | None) -> None:
    """Once an order has returns or refunds, its currency and payment are what their amounts
    mean and where its refunds were made: a re-import may not change them (amounts would be
    read in another currency; refunds made on the old payment would no longer count)."""
    from returns_service.refunds.models import Refund
    from returns_service.returns.models import Return

    if currency == order.currency and payment_intent == order.payment_intent:
        return
    has_returns = db.session.scalar(select(Return.id).where(Return.order_id == order.id)
                                    .limit(1)) is not None
    has_refunds = order.payment_intent is not None and db.session.scalar(
        select(Refund.id).where(Refund.payment_intent == order.payment_intent).limit(1)
    ) is not None
    if not (has_returns or has_refunds):
        return
    errors: dict[str, list[str]] = {}
    if currency != order.currency:
        errors["currency"] = [f"The order has returns or refunds in {order.currency}; "
                              "its currency cannot change."]
    if payment_intent != order.payment_intent:
        errors["payment.payment_intent"] = ["The order has returns or refunds on its payment "
                                            f"{order.payment_intent}; it cannot change."]
    raise ValidationFailed(errors)


def _merge_lines(order: Order, lines: list[dict[str, Any]]) -> None:
    """Update lines by SKU; a line some return refers to can neither go nor shrink below it."""
    claimed = claimed_quantities(order) if order.id else {}
    by_sku = {line.sku: line for line in order.lines}
    errors: dict[str, list[str]] = {}
    incoming = {line["sku"] for line in lines}
    for sku, line in by_sku.items():
        if sku not in incoming:
            if (line.id and claimed.get(line.id, 0)) or _has_returns(line):
                errors["lines"] = [f"Line {sku} has returns and cannot be removed."]
            else:
                order.lines.remove(line)
    for index, data in enumerate(lines):
        line = by_sku.get(data["sku"])
        if line is None:
            line = OrderLine(sku=data["sku"])
            order.lines.append(line)
        else:
            if data["quantity"] < claimed.get(line.id, 0):
                errors[f"lines.{index}.quantity"] = [
                    f"{claimed[line.id]} already in returns; quantity cannot be lower."]
            if data["unit_price"] != line.unit_price and (
                    claimed.get(line.id, 0) or _has_returns(line)):
                errors[f"lines.{index}.unit_price"] = [
                    f"Line {line.sku} has returns, refunded at the price paid; its price cannot "
                    "change."]
        line.name, line.quantity = data["name"], data["quantity"]
        line.unit_price, line.final_sale = data["unit_price"], data.get("final_sale", False)
    if errors:
        raise ValidationFailed(errors)


def _has_returns(line: OrderLine) -> bool:
    from returns_service.returns.models import ReturnItem

    return line.id is not None and bool(
        db.session.scalar(select(ReturnItem.id).where(ReturnItem.order_line_id == line.id)))


# Statements on the path of every return request, built once and reused with parameters
# (SQLAlchemy then neither rebuilds them nor recomputes their cache keys).
def _locking(where: Any) -> Any:
    """An order read under its row lock, with its lines, built once."""
    return (select(Order).where(where).options(joinedload(Order.lines))
            .with_for_update(of=Order).execution_options(populate_existing=True))


_LOCK_ORDER = _locking(Order.id == bindparam("order_id"))
_LOCK_ORDER_BY_NUMBER = _locking(Order.number == bindparam("number"))
_ORDER_BY_NUMBER = select(Order).where(Order.number == bindparam("number"))
_LOCKED = "orders_locked"  # session.info: order id -> Order, locked in this transaction


def lock_order(order_id: int) -> Order:
    """Row-lock an order (PostgreSQL) for the rest of the transaction: serialises what is
    claimed or refunded against it, so two returns cannot both take the same remainder.
    The order and its lines are (re)read in the same query, as they are under the lock;
    an order already locked in this transaction is not read again."""
    order = db.session.info.get(_LOCKED, {}).get(order_id)
    if order is None:
        order = _held(db.session.execute(
            _LOCK_ORDER, {"order_id": order_id}).unique().scalar_one())
    return order


def _held(order: Order) -> Order:
    """Remember that this transaction holds `order`'s lock."""
    db.session.info.setdefault(_LOCKED, {})[order.id] = order
    return order


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction: SessionTransaction) -> None:
    # Any end, a savepoint's included (rolling one back releases the locks taken in it):
    # at worst an order still locked is read again.
    session.info.pop(_LOCKED, None)


def get_order(number: str) -> Order:
    order = db.session.scalar(select(Order).where(Order.number == number))
    if order is None:
        raise NotFound(f"No order {number}.")
    return order


def find_customer_order(number: str, email: str, *, lock: bool = False) -> Order:
    """The order when number and email match; one identical 404 otherwise (no enumeration).

    `lock=True` (a change follows): the order is read with its lines and row-locked, as
    `lock_order` would, in the same query."""
    if not lock:
        order = db.session.scalar(_ORDER_BY_NUMBER, {"number": number.strip()})
    else:
        order = db.session.execute(_LOCK_ORDER_BY_NUMBER, {"number": number.strip()}
                                   ).unique().scalar_one_or_none()
    if order is None or order.email != email.strip().lower():
        raise NotFound(ORDER_NOT_FOUND)
    return _held(order) if lock else order


def claimed_quantities(order: Order, *, exclude_return_id: int | None = None) -> dict[int, int]:
    """Per order line id: quantity already in returns that still count (not released)."""
    rows = db.session.execute(_claimed_statement(), {  # id 0 excludes nothing
        "order_id": order.id, "exclude_return_id": exclude_return_id or 0})
    return defaultdict(int, {line_id: int(qty) for line_id, qty in rows})


@cache
def _claimed_statement() -> Any:
    from returns_service.returns.models import Return, ReturnItem  # local: no import cycle
    from workflows.returns import RELEASED

    return (select(ReturnItem.order_line_id, func.sum(ReturnItem.quantity))
            .join(Return, Return.id == ReturnItem.return_id)
            .where(Return.order_id == bindparam("order_id"),
                   Return.id != bindparam("exclude_return_id"),
                   Return.status.not_in([s.value for s in RELEASED]))
            .group_by(ReturnItem.order_line_id))


@dataclass(frozen=True)
class LineEligibility:
    line: OrderLine
    returnable_quantity: int
    reason: str | None  # shown to the customer when returnable_quantity is 0

    @property
    def eligible(self) -> bool:
        return self.returnable_quantity > 0


def line_eligibility(order: Order, policy: ReturnPolicy,
                     now: datetime | None = None) -> list[LineEligibility]:
    """For each line: how many may still be returned, and if none, why (customer wording)."""
    now = now or utcnow()
    deadline = policy.return_deadline(order.channel, order.placed_at, order.delivered_at)
    claimed = claimed_quantities(order)
    result = []
    for line in order.lines:
        left = max(0, line.quantity - claimed.get(line.id, 0))
        if line.final_sale:
            result.append(LineEligibility(line, 0, "Final sale: this item cannot be returned."))
        elif now > deadline:
            result.append(LineEligibility(
                line, 0, f"Return window closed on {deadline:%-d %B %Y}."))
        elif left == 0:
            result.append(LineEligibility(line, 0, "Already returned."))
        else:
            result.append(LineEligibility(line, left, None))
    return result


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
