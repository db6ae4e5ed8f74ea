"""HTTP endpoints for staff refund actions: retry a failed refund, record one made elsewhere."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from returns_service.api.returns import change_endpoint, commit_and_respond, expected_version
from returns_service.common.errors import Forbidden
from returns_service.http.auth import current_api_user, current_staff_actor, require
from returns_service.refunds import services
from returns_service.refunds.schemas import ManualRefundIn, RetryRefundIn
from returns_service.staff.permissions import user_may

blp = Blueprint("refunds", __name__, url_prefix="/api/v1/returns",
                description="Refunds: retry through Stripe, or record one made outside it")


@change_endpoint(blp, "/<rma>/refund/retry", RetryRefundIn)
@require("refund.retry")
def retry(data: dict[str, Any], rma: str) -> Any:
    """Retry a failed refund: a new attempt with a new idempotency key (refund_failed only)."""
    refund = services.retry_refund(rma, current_staff_actor(), note=data["note"],
                                   expected_version=expected_version(data))
    return commit_and_respond(refund.return_)


@change_endpoint(blp, "/<rma>/refund/manual", ManualRefundIn)
@require("refund.record_manual")
def manual(data: dict[str, Any], rma: str) -> Any:
    """Record a refund paid outside Stripe (received or refund_failed → refunded), at most
    what the return is still owed unless an admin gives `over_refund_reason`."""
    if data["over_refund_reason"] and not user_may(current_api_user(), "refund.over_refund"):
        raise Forbidden("Only an admin may record an over-refund.")
    refund = services.record_manual_refund(
        rma, current_staff_actor(), amount=data["amount"], reference=data["reference"],
        note=data["note"], over_refund_reason=data["over_refund_reason"],
        expected_version=expected_version(data))
    return commit_and_respond(refund.return_)
