"""Every inbound webhook endpoint: verify the provider's signature on the raw body, record the
event once, hand it to the domain that owns it: Stripe (refunds), EasyPost (shipping), inbound
email and Twilio SMS (conversations)."""

from flask import Flask

from returns_service.http.extensions import csrf
from webhooks import easypost, inbound_email, stripe, twilio

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Mount POST /webhooks/stripe, /webhooks/easypost, /webhooks/inbound-email/… and
    /webhooks/twilio/… (authenticated by the provider's signature or a shared secret, not a
    session)."""
    for blueprint in (stripe.bp, easypost.bp, inbound_email.bp, twilio.bp):
        app.register_blueprint(blueprint)
        csrf.exempt(blueprint)
