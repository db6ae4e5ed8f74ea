"""Every inbound webhook endpoint: verify the provider's signature on the raw body, record the
event once, hand it to the domain that owns it: Stripe (refunds), inbound email
(conversations)."""

from flask import Flask

from returns_service.http.extensions import csrf
from webhooks import inbound_email, stripe

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Mount POST /webhooks/stripe and /webhooks/inbound-email/… (authenticated by the
    provider's signature or a shared secret, not a session)."""
    for blueprint in (stripe.bp, inbound_email.bp):
        app.register_blueprint(blueprint)
        csrf.exempt(blueprint)
