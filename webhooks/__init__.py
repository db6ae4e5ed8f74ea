"""Every inbound webhook endpoint: verify the provider's signature on the raw body, record the
event once, hand it to the domain that owns it: Stripe (refunds), EasyPost (shipping)."""

from flask import Flask

from returns_service.http.extensions import csrf
from webhooks import easypost, stripe

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Mount POST /webhooks/stripe and /webhooks/easypost (authenticated by the provider's
    signature, not a session)."""
    for module in (stripe, easypost):
        app.register_blueprint(module.bp)
        csrf.exempt(module.bp)
