"""Order use cases: idempotent import from the store, lookup, and the order row lock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from returns_service.common.clock import utcnow
from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.common.i18n import N_
from returns_service.common.money import allocate
from returns_service.db import db
from returns_service.db.loaded import attach, loaded, read_locked_rows
from returns_service.orders.models import Order, OrderLine
from returns_service.orders.signals import OrderPins, order_pins_asked

ORDER_NOT_FOUND = N_("We could not find an order with that number and email address.")


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


def allocate_discounts(lines: list[dict[str, Any]],
                       discounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines with the order-level discounts allocated, when no line carries one: in
    proportion to each line's price (unit price x quantity), by largest remainder (the
    cent left over goes to the lines with the largest remainders, the first on a tie), so
    the lines' discounts sum to the order's exactly. Lines that carry a discount keep it."""
    total = sum(d["amount"] for d in discounts)
    if not total or any(line.get("discount") for line in lines):
        return lines
    parts = allocate(total, [line["unit_price"] * line["quantity"] for line in lines])
    return [{**line, "discount": part} for line, part in zip(lines, parts, strict=True)]


def _stripe_payment(data: dict[str, Any]) -> dict[str, Any]:
    """The Stripe payment: `payment`, or the Stripe one among `payments`."""
    if data.get("payments") is not None:
        stripe = [p for p in data["payments"] if p["provider"] == "stripe"]
        return {"provider": "stripe", "payment_intent": stripe[0]["payment_intent"]} \
            if stripe else {}
    return data.get("payment") or {}


def _apply(order: Order, data: dict[str, Any]) -> None:
    # The order's row is written on every update, its lines' alone included, with an
    # updated_at that always moves (a clock frozen in a test, or one that stepped back, has
    # it move by a microsecond): a return request waiting for the order's lock tells by it
    # that the lines it read are out of date (_LOCK_ORDER).
    now = utcnow()
    order.updated_at = now if order.updated_at is None or now > order.updated_at \
        else order.updated_at + timedelta(microseconds=1)
    payment = _stripe_payment(data)
    pins = pins_of(order) if order.id is not None else OrderPins()
    payments = ([{k: v for k, v in p.items() if v is not None} for p in data["payments"]]
                if data.get("payments") is not None else None)
    if order.id is not None:
        _keep_what_refunds_rest_on(order, pins, data["currency"].upper(),
                                   payment.get("payment_intent"))
        if payments != order.payments and pins.has_history:
            # Refunds were split over these payments: a new split would not add up.
            raise ValidationFailed({"payments": [
                "The order has returns or refunds on its payments; they cannot change."]})
    order.email = data["email"].strip().lower()
    order.customer_name = data["customer_name"]
    order.currency = data["currency"].upper()
    order.placed_at = data["placed_at"]
    order.delivered_at = data.get("delivered_at")
    order.channel = data.get("channel", "web")
    order.locale = data.get("locale")
    order.shipping_total = data.get("shipping_total", 0)
    order.payment_provider = payment.get("provider")
    order.payment_intent = payment.get("payment_intent")
    order.shipping_address = data.get("shipping_address")
    order.shipping_tax = data.get("shipping_tax") or None
    order.discounts = data.get("discounts") or None
    order.payments = payments
    _merge_lines(order, allocate_discounts(data["lines"], data.get("discounts") or []), pins)


def pins_of(order: Order) -> OrderPins:
    """What the returns and refunds made on `order` pin down, as the domains above tell it
    (each answers the `order_pins_asked` signal)."""
    pins = OrderPins()
    for _receiver, answer in order_pins_asked.send(order):
        pins = pins.merged(answer)
    return pins


def _keep_what_refunds_rest_on(order: Order, pins: OrderPins, currency: str,
                               payment_intent: str | None) -> None:
    """Once an order has returns or refunds, its currency and payment are what their amounts
    mean and where its refunds were made: a re-import may not change them (amounts would be
    read in another currency; refunds made on the old payment would no longer count)."""
    if currency == order.currency and payment_intent == order.payment_intent:
        return
    if not pins.has_history:
        return
    errors: dict[str, list[str]] = {}
    if currency != order.currency:
        errors["currency"] = [f"The order has returns or refunds in {order.currency}; "
                              "its currency cannot change."]
    if payment_intent != order.payment_intent:
        errors["payment.payment_intent"] = ["The order has returns or refunds on its payment "
                                            f"{order.payment_intent}; it cannot change."]
    raise ValidationFailed(errors)


def _merge_lines(order: Order, lines: list[dict[str, Any]], pins: OrderPins) -> None:
    """Update lines by SKU; a line some return refers to can neither go nor shrink below it."""
    claimed = pins.claimed
    by_sku = {line.sku: line for line in order.lines}
    errors: dict[str, list[str]] = {}
    incoming = {line["sku"] for line in lines}
    for sku, line in by_sku.items():
        if sku not in incoming:
            if (line.id and claimed.get(line.id, 0)) or line.id in pins.lines_in_returns:
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
            pinned = claimed.get(line.id, 0) or line.id in pins.lines_in_returns
            if data["unit_price"] != line.unit_price and pinned:
                errors[f"lines.{index}.unit_price"] = [
                    f"Line {line.sku} has returns, refunded at the price paid; its price cannot "
                    "change."]
            elif pinned and (data.get("discount", 0) != (line.discount or 0)
                             or (data.get("tax_lines") or None) != line.tax_lines
                             or (data["quantity"] != line.quantity
                                 and (line.discount or line.tax_lines))):
                # Refunds share out the line's discount and tax by quantity.
                errors[f"lines.{index}"] = [
                    f"Line {line.sku} has returns, refunded at what was paid; its quantity, "
                    "discount and tax cannot change."]
        line.name, line.quantity = data["name"], data["quantity"]
        line.unit_price, line.final_sale = data["unit_price"], data.get("final_sale", False)
        line.discount = data.get("discount", 0)
        line.set_taxes(data.get("tax_lines"))
        line.product_id = data.get("product_id")
        for size in ("weight_oz", "length_in", "width_in", "height_in"):
            setattr(line, size, data.get(size))
    if errors:
        raise ValidationFailed(errors)



# Statements on the path of every return request, built once and reused with parameters
# (SQLAlchemy then neither rebuilds them nor recomputes their cache keys).
_ORDERS, _LINES = Order.__table__, OrderLine.__table__
_ORDER_KEYS = tuple(c.key for c in _ORDERS.columns)  # attribute names are column names
_LINE_KEYS = tuple(c.key for c in _LINES.columns)


# The order as the locking statement's snapshot saw it (not locked): its updated_at tells
# a read that waited for the lock (read_locked_rows); every update moves it (see _apply).
_SEEN = _ORDERS.alias("seen")
_UPDATED = _ORDER_KEYS.index("updated_at")


def _locking(where: Any) -> Any:
    """An order read under its row lock, with its lines, in one Core statement built once
    (_read_locked_order makes the session's objects of it)."""
    return (select(*_ORDERS.c, *_LINES.c, _SEEN.c.updated_at)
            .select_from(_ORDERS.join(_SEEN, _SEEN.c.id == _ORDERS.c.id)
                         .outerjoin(_LINES, _LINES.c.order_id == _ORDERS.c.id))
            .where(where).order_by(_LINES.c.id).with_for_update(of=_ORDERS))


_LOCK_ORDER = _locking(_ORDERS.c.id == bindparam("order_id"))
_LOCK_ORDER_BY_NUMBER = _locking(_ORDERS.c.number == bindparam("number"))


def _read_locked_order(statement: Any, params: dict[str, Any]) -> Order | None:
    """The order and its lines as the session's objects (db.loaded: without the ORM's
    query machinery), those already in the session refreshed in place; None if no row."""
    session = db.session
    rows = read_locked_rows(session, statement, params, _UPDATED)
    if not rows:
        return None
    width = len(_ORDER_KEYS)
    new: list[Any] = []
    lines = []
    for row in rows:
        if row[width] is not None:  # an order without lines has one row of NULLs for them
            line, is_new = loaded(session, OrderLine, dict(zip(_LINE_KEYS, row[width:-1],
                                                               strict=True)))
            new += [line] if is_new else []
            lines.append(line)
    order, is_new = loaded(session, Order, dict(zip(_ORDER_KEYS, rows[0][:width],
                                                    strict=True)), {"lines": lines})
    attach(session, order, [*new, order] if is_new else new)
    return order


_ORDER_BY_NUMBER = select(Order).where(Order.number == bindparam("number"))
_LOCKED = "orders_locked"  # session.info: order id -> Order, locked in this transaction


def lock_order(order_id: int) -> Order:
    """Row-lock an order (PostgreSQL) for the rest of the transaction: serialises what is
    claimed or refunded against it, so two returns cannot both take the same remainder.
    The order and its lines are (re)read in the same query, as they are under the lock;
    an order already locked in this transaction is not read again."""
    order = db.session.info.get(_LOCKED, {}).get(order_id)
    if order is None:
        order = _read_locked_order(_LOCK_ORDER, {"order_id": order_id})
        if order is None:
            raise NotFound(f"No order with id {order_id}.")
        _held(order)
    return order


_LOCK_ORDER_ROW = (select(Order.__table__).where(Order.__table__.c.id == bindparam("order_id"))
                   .with_for_update())  # built once: every receipt runs it


def lock_order_row(order: Order) -> Order:
    """lock_order for code that needs the order's own columns but not its lines (a receipt,
    which prices the lines its items already hold): the row lock, and `order`'s columns set
    from the locked row, in one Core statement instead of re-reading order and lines."""
    if order.id in db.session.info.get(_LOCKED, {}):
        return order
    row = db.session.connection().execute(_LOCK_ORDER_ROW, {"order_id": order.id})
    for key, value in row.mappings().one().items():
        set_committed_value(order, key, value)
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
        order = _read_locked_order(_LOCK_ORDER_BY_NUMBER, {"number": number.strip()})
    if order is None or order.email != email.strip().lower():
        raise NotFound(ORDER_NOT_FOUND)
    return _held(order) if lock else order
