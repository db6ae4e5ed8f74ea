"""`POST /webhooks/easypost`: verify `X-Hmac-Signature` on the raw body (with the easypost
library's validator), store the event once under its id, hand it to a job.

Nothing touches the database before the signature checks out. A redelivered event is
answered 200 and changes nothing; what a tracker event does to a shipment (forward only) is
`returns_service.shipping.tracking`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from returns_service.common import metrics
from returns_service.db import db
from returns_service.http.problems import problem
from returns_service.shipping.easypost import WebhookVerificationError, verify_webhook
from returns_service.shipping.tracking import receive_event

bp = Blueprint("easypost_webhooks", __name__)


@bp.post("/webhooks/easypost")
def easypost_webhook() -> Any:
    """Receive one EasyPost event."""
    secret = current_app.config.get("EASYPOST_WEBHOOK_SECRET")
    if not secret:  # 5xx: EasyPost retries once we are configured
        return problem(503, "Webhooks not configured",
                       "EASYPOST_WEBHOOK_SECRET is not set on this service.")
    try:
        event = verify_webhook(request.get_data(), request.headers, secret)
    except WebhookVerificationError as exc:
        metrics.webhook_event("easypost.unverified", "rejected")
        return problem(400, "Invalid webhook", str(exc), "invalid-webhook")
    result = receive_event(event)
    db.session.commit()
    metrics.webhook_event(f"easypost.{event.get('description') or 'unknown'}", result)
    return {"received": True, "event": event["id"], "result": result}, 200
