"""Turn a Return into the plain dict the API (and pages) show. No rules decided here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from returns_service.extensions import db
from returns_service.refunds.models import Refund
from returns_service.returns.links import status_url
from returns_service.returns.models import Return
from returns_service.returns.services import refund_breakdown
from workflows.returns import allowed_triggers

# Triggers a person may fire from the API/console (the rest belong to jobs and webhooks).
STAFF_ACTIONS = ("approve", "reject", "cancel", "receive", "retry_refund",
                 "record_manual_refund")


def refunds_of(ret: Return) -> list[Refund]:
    return list(db.session.scalars(
        select(Refund).where(Refund.return_id == ret.id).order_by(Refund.attempt)))


def return_dict(ret: Return) -> dict[str, Any]:
    order = ret.order
    estimate = refund_breakdown(ret, estimate=True).as_dict()
    refund = None
    if ret.refund_amount is not None:
        refund = {"items": ret.refund_items_amount, "restocking_fee": ret.restocking_fee_amount,
                  "shipping": ret.refund_shipping_amount, "total": ret.refund_amount}
    return {
        "rma": ret.rma, "status": ret.status, "version": ret.version, "channel": ret.channel,
        "order_number": order.number, "email": order.email,
        "customer_name": order.customer_name, "currency": order.currency,
        "created_at": ret.created_at, "updated_at": ret.updated_at,
        "status_changed_at": ret.status_changed_at, "rejection_reason": ret.rejection_reason,
        "needs_review": ret.needs_review, "review_reason": ret.review_reason,
        "items": [{"sku": i.order_line.sku, "name": i.order_line.name, "quantity": i.quantity,
                   "unit_price": i.order_line.unit_price, "reason": i.reason,
                   "comment": i.comment, "received_quantity": i.received_quantity,
                   "condition": i.condition, "restock": i.restock} for i in ret.items],
        "expected_refund": estimate,
        "refund": refund,
        "refunds": refunds_of(ret),
        "allowed_actions": [t for t in allowed_triggers(ret.status) if t in STAFF_ACTIONS],
        "status_url": status_url(ret.rma),
    }
