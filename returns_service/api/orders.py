"""HTTP endpoints for orders: import from the store, staff read, public eligibility."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from returns_service.db import db
from returns_service.http.auth import require
from returns_service.http.openapi import BEARER, LOOKUP_PROBLEMS, PROBLEMS
from returns_service.http.rate_limits import limit_lookups
from returns_service.orders import services
from returns_service.orders.schemas import EligibilityOut, EligibilityQuery, OrderIn, OrderOut
from returns_service.returns.eligibility import eligibility_view
from returns_service.returns.models import Return
from returns_service.returns.services import current_policy

blp = Blueprint("orders", __name__, url_prefix="/api/v1/orders",
                description="Orders imported from the store")


def order_dict(order: Any) -> dict[str, Any]:
    returns = db.session.query(Return).filter(Return.order_id == order.id).all()
    return {**{c: getattr(order, c) for c in (
        "number", "email", "customer_name", "currency", "placed_at", "delivered_at", "channel",
        "locale",
        "shipping_total", "total", "payment_intent", "shipping_tax")},
        "discounts": order.discounts_out, "payments": order.payments_out,
        "lines": order.lines,
        "returns": [{"rma": r.rma, "status": r.status, "created_at": r.created_at,
                     "refund_amount": r.refund_amount} for r in returns]}


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.arguments(OrderIn)
@blp.response(201, OrderOut, description="Created")
@blp.alt_response(200, schema=OrderOut, description="Updated")
@require("orders.import")
def upsert_order(data: dict[str, Any]) -> Any:
    """Create or update an order (idempotent by number)."""
    order, created = services.upsert_order(data)
    db.session.commit()
    return order_dict(order), 201 if created else 200


@blp.route("/<number>", methods=["GET"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, OrderOut)
@require("orders.read")
def get_order(number: str) -> Any:
    """An order with its lines and returns."""
    return order_dict(services.get_order(number))


@blp.route("/<number>/eligibility", methods=["GET"])
@limit_lookups("GET")
@blp.doc(responses=LOOKUP_PROBLEMS)
@blp.arguments(EligibilityQuery, location="query")
@blp.response(200, EligibilityOut)
def eligibility(query: dict[str, Any], number: str) -> Any:
    """Which lines the customer can still return, how many, and why not."""
    order = services.find_customer_order(number, query["email"])
    return eligibility_view(order, current_policy())
