"""What an order keeps of its customer (email, name, the address a label is sent from), its
eraser and its exporter: registered with the personal-data registry by `orders.init_app`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, literal, null, select, update

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.privacy import Scope

# The placeholder domain of an erased email: `.invalid` is reserved, never deliverable.
ERASED_DOMAIN = "erased.invalid"


def erase_orders(scope: Scope) -> int:
    """Overwrite the customer's email, name and address on the scope's orders (once)."""
    if not scope.order_ids:
        return 0
    # One statement; the stamp in the WHERE makes a concurrent pass erase each order once.
    return db.session.execute(update(Order).where(
        Order.id.in_(scope.order_ids), Order.personal_data_erased_at.is_(None)).values(
        email=literal("order-") + cast(Order.id, String) + "@" + ERASED_DOMAIN,
        customer_name="", shipping_address=null(), personal_data_erased_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount


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
