"""Payment providers behind small interfaces: `payments.stripe` is the only module that imports
`stripe` (refunds, webhook verification, amounts in Stripe's units); `payments.models` keeps the
Stripe events received, once each. No domain logic: refunds decide what an event means."""

from flask import Flask

from returns_service.payments import models, personal_data
from returns_service.privacy import register_eraser

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Payments register no receivers or jobs; the Stripe event table comes with `models`.
    Events naming a customer are erased when the customer asks."""
    register_eraser(app, "stripe_events", personal_data.erase_events, position=70)
