"""Background entry points of refunds (outbox handlers): thin wrappers that call a refund
service by id. Registered by `returns_service.refunds.init_app`."""

from typing import Any

from returns_service.refunds.services import execute_refund
from returns_service.refunds.stripe_events import apply_event


def run_refund(payload: dict[str, Any]) -> str:
    """Ask Stripe for one refund (topic `refund.execute`); its outcome is committed by the
    outbox with the message's processed mark."""
    return execute_refund(int(payload["refund_id"]), commit_outcome=False)


def run_stripe_event(payload: dict[str, Any]) -> str:
    """Apply one stored Stripe webhook event (topic `stripe.event`)."""
    return apply_event(int(payload["stripe_event_id"]))
