"""Demo data: orders a new user can return against, and staff accounts to sign in with.

With a test-mode Stripe configured (localstripe in `bin/demo`), each demo order is paid
there, so a return on it is refunded for real."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from returns_service.common.clock import utcnow
from returns_service.common.errors import ValidationFailed
from returns_service.db import db
from returns_service.demo import payments
from returns_service.orders.models import Order
from returns_service.orders.services import upsert_order
from returns_service.staff import services as staff
from returns_service.staff.models import StaffUser

DEMO_PASSWORD = "demo-returns-2026"
DEMO_STAFF = (("admin@example.com", "admin", "Ada Admin"),
              ("agent@example.com", "agent", "Alex Agent"),
              ("warehouse@example.com", "warehouse", "Wes Warehouse"),
              ("shop@example.com", "integration", "Store integration"))


def demo_orders() -> list[dict]:
    now = utcnow()
    return [
        {"number": "1001", "email": "jane@example.com", "customer_name": "Jane Doe",
         "currency": "EUR", "placed_at": now - timedelta(days=10),
         "delivered_at": now - timedelta(days=7), "channel": "web", "shipping_total": 495,
         "payment": {"provider": "stripe", "payment_intent": "pi_demo1001"},
         "lines": [
             {"sku": "TSHIRT-M", "name": "Organic T-shirt, M", "quantity": 2, "unit_price": 2500},
             {"sku": "JEANS-32", "name": "Slim jeans, 32", "quantity": 1, "unit_price": 7900},
             {"sku": "SOCKS-3", "name": "Socks, 3-pack", "quantity": 1, "unit_price": 1200,
              "final_sale": True}]},
        {"number": "1002", "email": "sam@example.com", "customer_name": "Sam Lee",
         "currency": "USD", "placed_at": now - timedelta(days=3), "delivered_at": None,
         "channel": "web", "shipping_total": 0,
         "payment": {"provider": "stripe", "payment_intent": "pi_demo1002"},
         "lines": [{"sku": "MUG-01", "name": "Stoneware mug", "quantity": 4, "unit_price": 1800}]},
        {"number": "0999", "email": "old@example.com", "customer_name": "Olga Old",
         "currency": "EUR", "placed_at": now - timedelta(days=90),
         "delivered_at": now - timedelta(days=85), "channel": "web", "shipping_total": 0,
         "payment": {"provider": "stripe", "payment_intent": "pi_demo0999"},
         "lines": [{"sku": "LAMP-01", "name": "Desk lamp", "quantity": 1, "unit_price": 4900}]},
    ]


def seed() -> list[str]:
    """Idempotent: existing orders are updated, existing staff kept (with a new token)."""
    client = payments.test_mode_client()
    warnings = [_upsert_demo_order(data, client) for data in demo_orders()]
    lines = ["Demo orders (order number / email):",
             "  1001 / jane@example.com   EUR, 3 lines, one final sale",
             "  1002 / sam@example.com    USD, not delivered yet",
             "  0999 / old@example.com    return window closed",
             f"Demo staff (password {DEMO_PASSWORD}):"]
    for email, role, name in DEMO_STAFF:
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is None:
            user = staff.create_user(email, role, DEMO_PASSWORD, name)
        token = staff.mint_token(user, "demo")
        lines.append(f"  {email:<24} {role:<12} API token: {token}")
    db.session.commit()
    return lines + [w for w in warnings if w]


def _upsert_demo_order(data: dict[str, Any], client: Any) -> str | None:
    """Import one demo order, paid at the test-mode Stripe when there is one. A warning
    line when its payment cannot be made good."""
    order = db.session.scalar(select(Order).where(Order.number == data["number"]))
    if order is not None:  # a payment made on an earlier run stays the order's payment
        data["payment"]["payment_intent"] = order.payment_intent
    if client is None or payments.known(client, data["payment"]["payment_intent"]):
        upsert_order(data)
        return None
    fresh = {**data, "payment": {**data["payment"],
                                 "payment_intent": payments.paid_payment_intent(client, data)}}
    try:
        with db.session.begin_nested():
            upsert_order(fresh)
        return None
    except ValidationFailed:
        # Returns made on an earlier run rest on a payment this Stripe (a fresh localstripe)
        # no longer knows; the order keeps it, and a refund on it would fail.
        upsert_order(data)
        return (f"Note: order {data['number']} has returns from an earlier run on a payment "
                "the fake Stripe has forgotten; its refunds will fail. Remove "
                "instance/returns.db for a fresh demo.")
