"""Every inbound webhook endpoint: verify the provider's signature on the raw body, record the
event once, hand it to the domain that owns it. Stripe today (refunds)."""

from flask import Flask

from returns_service.http.extensions import csrf
from webhooks import stripe

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Mount POST /webhooks/stripe (authenticated by Stripe-Signature, not a session)."""
    app.register_blueprint(stripe.bp)
    csrf.exempt(stripe.bp)
