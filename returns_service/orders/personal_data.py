"""What an order keeps of its customer (email, name, the address a label is sent from), its
eraser and its exporter: registered with the personal-data registry by `orders.init_app`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import null, select, update

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.privacy import Scope

# The placeholder domain of an erased email: `.invalid` is reserved, never deliverable.
ERASED_DOMAIN = "erased.invalid"


def erased_email(row_id: int, kind: str = "order") -> str:
    """A unique, undeliverable stand-in for an erased email (a customer lookup by it finds
    only that row)."""
    return f"{kind}-{row_id}@{ERASED_DOMAIN}"


def erase_orders(scope: Scope) -> int:
    """Overwrite the customer's email, name and address on the scope's orders (once)."""
    if not scope.order_ids:
        return 0
    ids = db.session.scalars(select(Order.id).where(
        Order.id.in_(scope.order_ids), Order.personal_data_erased_at.is_(None))).all()
    now, done = utcnow(), 0
    for order_id in ids:  # checked again in the UPDATE: a concurrent pass erases it once
        done += db.session.execute(update(Order).where(
            Order.id == order_id, Order.personal_data_erased_at.is_(None)).values(
            email=erased_email(order_id), customer_name="", shipping_address=null(),
            personal_data_erased_at=now).execution_options(synchronize_session=False)).rowcount
    return done


def export_orders(scope: Scope) -> list[dict[str, Any]]:
    orders = db.session.scalars(select(Order).where(Order.id.in_(scope.order_ids))
                                .order_by(Order.id)).all()
    return [{
        "number": order.number, "email": order.email, "customer_name": order.customer_name,
        "shipping_address": order.shipping_address, "currency": order.currency,
        "placed_at": order.placed_at.isoformat(),
        "delivered_at": order.delivered_at.isoformat() if order.delivered_at else None,
        "locale": order.locale, "total": order.total,
        "lines": [{"sku": line.sku, "name": line.name, "quantity": line.quantity,
                   "unit_price": line.unit_price, "paid": line.paid}
                  for line in order.lines]} for order in orders]
