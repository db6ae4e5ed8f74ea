"""HTTP endpoints for staff refund actions: retry a failed refund, record one made elsewhere."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from returns_service.auth import current_api_user, require_roles, staff_actor
from returns_service.extensions import db
from returns_service.openapi import BEARER, PROBLEMS
from returns_service.refunds import services
from returns_service.refunds.schemas import ManualRefundIn, RetryRefundIn
from returns_service.returns.api import expected_version, respond
from returns_service.returns.schemas import ReturnOut
from workflows.returns import Actor

blp = Blueprint("refunds", __name__, url_prefix="/api/v1/returns",
                description="Refunds: retry through Stripe, or record one made outside it")


def _actor() -> Actor:
    user = current_api_user()
    assert user is not None
    return staff_actor(user)


@blp.route("/<rma>/refund/retry", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.arguments(RetryRefundIn)
@blp.response(200, ReturnOut)
@require_roles("agent")
def retry(data: dict[str, Any], rma: str) -> Any:
    """Retry a failed refund: a new attempt with a new idempotency key (refund_failed only)."""
    refund = services.retry_refund(rma, _actor(), expected_version=expected_version(data))
    db.session.commit()
    return respond(refund.return_)


@blp.route("/<rma>/refund/manual", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.arguments(ManualRefundIn)
@blp.response(200, ReturnOut)
@require_roles("agent")
def manual(data: dict[str, Any], rma: str) -> Any:
    """Record a refund paid outside Stripe (received or refund_failed → refunded)."""
    refund = services.record_manual_refund(
        rma, _actor(), amount=data["amount"], reference=data["reference"], note=data["note"],
        expected_version=expected_version(data))
    db.session.commit()
    return respond(refund.return_)
