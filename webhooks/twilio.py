"""`POST /webhooks/twilio/status` (delivery callbacks) and `/webhooks/twilio/inbound` (a
customer's text): the `X-Twilio-Signature` is checked with the library's RequestValidator
over the public URL Twilio called and the form it sent, before anything is read or
written. Answers are TwiML with no reply (the service replies through the API, once)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request
from werkzeug.wrappers import Response

from returns_service.common import metrics
from returns_service.conversations import sms
from returns_service.conversations.twilio_sms import valid_signature
from returns_service.db import db
from returns_service.http.problems import problem

bp = Blueprint("twilio_webhooks", __name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _refused() -> Response | None:
    if not current_app.config.get("TWILIO_AUTH_TOKEN"):
        return problem(503, "SMS not configured", "TWILIO_AUTH_TOKEN is not set.")
    # The URL Twilio signed is the public one (a proxy may have changed host and scheme).
    url = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/") + request.full_path.rstrip("?")
    params = request.form.to_dict()
    if not valid_signature(url, params, request.headers.get("X-Twilio-Signature")):
        metrics.webhook_event("twilio", "rejected")
        return problem(403, "Invalid signature", "X-Twilio-Signature does not match.")
    return None


def _twiml() -> Response:
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/webhooks/twilio/status")
def twilio_status() -> Any:
    """A delivery status callback for an SMS we sent."""
    refusal = _refused()
    if refusal is not None:
        return refusal
    result = sms.apply_delivery_status(request.form.get("MessageSid", ""),
                                       request.form.get("MessageStatus", ""),
                                       request.form.get("ErrorCode") or None)
    db.session.commit()
    metrics.webhook_event("twilio.status", result)
    return _twiml()


@bp.post("/webhooks/twilio/inbound")
def twilio_inbound() -> Any:
    """A text from a customer: STOP/START, or a message joining their conversation."""
    refusal = _refused()
    if refusal is not None:
        return refusal
    result = sms.receive_sms(request.form.get("From", ""), request.form.get("Body", ""),
                             request.form.get("MessageSid", ""))
    db.session.commit()
    metrics.webhook_event("twilio.inbound", result)
    return _twiml()
