"""Outbox handlers for payments: apply a stored Stripe webhook event by its row id."""

from typing import Any

from returns_service.outbox.registry import handler
from returns_service.payments.webhook_service import apply_event


@handler("stripe.event")
def run_stripe_event(payload: dict[str, Any]) -> str:
    return apply_event(int(payload["stripe_event_id"]))
