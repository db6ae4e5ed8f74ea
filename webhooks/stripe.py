"""`POST /webhooks/stripe`: verify the signature on the raw body, record the event once.

Nothing touches the database before the signature checks out. A signed event the service
cannot use is recorded as rejected, with the reason, and answered 200 (Stripe would retry a
refusal for days). Any other event is stored under its unique id and applied by a job
(returns_service.refunds.stripe_events), so Stripe gets its 200 quickly and a redelivery
changes nothing. With STRIPE_IMPORT_ORDERS, Checkout Session events go to the order import
(returns_service.integrations.checkout) under the same rules.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from returns_service.common import metrics
from returns_service.db import db
from returns_service.exchanges import payment as exchange_payment
from returns_service.http.problems import problem
from returns_service.integrations import checkout
from returns_service.payments.stripe import (
    UnusableWebhookEvent,
    WebhookVerificationError,
    verify_webhook,
)
from returns_service.refunds import stripe_events

bp = Blueprint("stripe_webhooks", __name__)


@bp.post("/webhooks/stripe")
def stripe_webhook() -> Any:
    """Receive one Stripe event."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:  # 5xx: Stripe keeps the event and retries once we are configured
        return problem(503, "Webhooks not configured",
                       "STRIPE_WEBHOOK_SECRET is not set on this service.")
    body = request.get_data()
    try:
        event = verify_webhook(body, request.headers.get("Stripe-Signature"), secret)
    except WebhookVerificationError as exc:
        metrics.webhook_event("unverified", "rejected")
        return problem(400, "Invalid webhook", str(exc), "invalid-webhook")
    except UnusableWebhookEvent as exc:  # from Stripe, but unusable: a retry would not help
        result = stripe_events.reject_event(exc.event_id, exc.event_type, exc.reason, body)
        db.session.commit()
        metrics.webhook_event("unusable", result)
        return {"received": True, "event": exc.event_id, "result": result,
                "detail": exc.reason}, 200
    if exchange_payment.handles(event):  # a session we made for an exchange's difference
        result = exchange_payment.receive_event(event)
    elif checkout.handles(event["type"]):
        result = checkout.receive_event(event)
    else:
        result = stripe_events.receive_event(event)
    db.session.commit()
    metrics.webhook_event(event["type"] if result != "rejected" else "unusable", result)
    return {"received": True, "event": event["id"], "result": result}, 200
