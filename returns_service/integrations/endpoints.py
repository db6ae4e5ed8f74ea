"""The endpoint registry: register, change, rotate the secret, and the delivery log's
actions (resend, send a test event). Services flush; the caller commits."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from returns_service.common.clock import utcnow
from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.common.sealed import reseal, seal
from returns_service.db import db, is_row_id
from returns_service.integrations.events import (
    DELIVER_TOPIC,
    EVENT_TYPES,
    TEST_EVENT,
    record_event,
)
from returns_service.integrations.models import WebhookDelivery, WebhookEndpoint
from returns_service.integrations.ssrf import TargetRefused, check_target
from returns_service.outbox.service import emit
from workflows.webhook_deliveries import can_fire, fire

ROTATION_OVERLAP = timedelta(hours=24)  # the old secret stays valid this long


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _validated(url: str | None, description: str | None,
               event_types: list[str] | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if url is not None:
        if len(url) > 2000:
            errors["url"] = ["At most 2,000 characters."]
        else:
            try:
                check_target(url, allow_private=bool(
                    current_app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"]))
            except TargetRefused as exc:
                errors["url"] = [str(exc)]
    if description is not None and len(description) > 500:
        errors["description"] = ["At most 500 characters."]
    if event_types is not None:
        unknown = [t for t in event_types if t != "*" and t not in EVENT_TYPES]
        if not event_types:
            errors["event_types"] = ["Choose at least one event type (or \"*\" for all)."]
        elif unknown:
            errors["event_types"] = [f"Unknown event type(s): {', '.join(unknown)}."]
    return errors


def create_endpoint(url: str, event_types: list[str], *, description: str = "",
                    enabled: bool = True) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; (the endpoint, its signing secret: shown to the admin once)."""
    url = url.strip()
    errors = _validated(url, description, event_types)
    if errors:
        raise ValidationFailed(errors)
    secret = new_secret()
    endpoint = WebhookEndpoint(url=url, description=description.strip(),
                               event_types=sorted(set(event_types)), enabled=enabled,
                               sealed_secret=seal(secret), last_sequence=0)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint, secret




def get_endpoint(endpoint_id: int, *, lock: bool = False) -> WebhookEndpoint:
    if not is_row_id(endpoint_id):  # a URL may carry any number
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    endpoint = db.session.scalar(query.with_for_update() if lock else query)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


def list_endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def update_endpoint(endpoint_id: int, changes: dict[str, Any]) -> WebhookEndpoint:
    """Change url, description, event_types or enabled. Re-enabling clears the failure
    record, so the endpoint gets its full retry window again."""
    endpoint = get_endpoint(endpoint_id, lock=True)
    url = changes.get("url")
    errors = _validated(url.strip() if isinstance(url, str) else None,
                        changes.get("description"), changes.get("event_types"))
    if errors:
        raise ValidationFailed(errors)
    if url is not None:
        endpoint.url = url.strip()
    if changes.get("description") is not None:
        endpoint.description = changes["description"].strip()
    if changes.get("event_types") is not None:
        endpoint.event_types = sorted(set(changes["event_types"]))
    if changes.get("enabled") is not None and changes["enabled"] != endpoint.enabled:
        endpoint.enabled = bool(changes["enabled"])
        if endpoint.enabled:
            endpoint.disabled_reason, endpoint.failing_since = None, None
        else:
            endpoint.disabled_reason = "Disabled by an admin."
    db.session.flush()
    return endpoint


def rotate_secret(endpoint_id: int) -> tuple[WebhookEndpoint, str]:
    """A new secret; the current one stays valid (both signatures sent) for 24 hours."""
    endpoint = get_endpoint(endpoint_id, lock=True)
    secret = new_secret()
    endpoint.sealed_previous_secret = endpoint.sealed_secret
    endpoint.previous_secret_expires_at = utcnow() + ROTATION_OVERLAP
    endpoint.sealed_secret = seal(secret)
    db.session.flush()
    return endpoint, secret


def reseal_secrets() -> int:
    """Seal every stored signing secret again with the first of ENCRYPTION_KEYS (after a
    new key was put first); how many endpoints. Commits. SecretUnreadable, and nothing
    changed, if a key that sealed one still in use is no longer listed. A rotated-out
    secret past its overlap is dropped rather than sealed again: nothing signs with it."""
    now = utcnow()
    endpoints = list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)
                                        .with_for_update()))
    for endpoint in endpoints:
        endpoint.sealed_secret = reseal(endpoint.sealed_secret)
        expires = endpoint.previous_secret_expires_at
        if endpoint.sealed_previous_secret and expires is not None and expires > now:
            endpoint.sealed_previous_secret = reseal(endpoint.sealed_previous_secret)
        else:
            endpoint.sealed_previous_secret, endpoint.previous_secret_expires_at = None, None
    db.session.commit()
    return len(endpoints)


def send_test_event(endpoint_id: int) -> WebhookDelivery:
    """Queue a `webhook.test` event to this endpoint only, in its sequence."""
    endpoint = get_endpoint(endpoint_id)
    if not endpoint.enabled:
        raise ValidationFailed({"enabled": ["Enable the endpoint to send it a test event."]})
    (delivery_id,) = record_event(TEST_EVENT, {"message": "A test event from "
                                               "returns-service."}, endpoint_id=endpoint.id)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert delivery is not None
    return delivery


def list_deliveries(endpoint_id: int, *, limit: int = 100) -> list[WebhookDelivery]:
    """The endpoint's delivery log, newest first."""
    get_endpoint(endpoint_id)
    return list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.sequence.desc()).limit(limit)))


def resend(delivery_id: int, *, endpoint_id: int | None = None) -> WebhookDelivery:
    """Send an event again, as it was (same payload, same `webhook-id`), signed afresh. It
    goes before the endpoint's later pending events (its sequence is lower)."""
    if not is_row_id(delivery_id):
        raise NotFound(f"No webhook delivery {delivery_id}.")
    delivery = db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id).with_for_update())
    if delivery is None or endpoint_id not in (None, delivery.endpoint_id):
        raise NotFound(f"No webhook delivery {delivery_id}.")
    if not delivery.endpoint.enabled:
        raise ValidationFailed({"endpoint": ["The endpoint is disabled: enable it first."]})
    if not can_fire(delivery.status, "resend"):
        raise ValidationFailed({"status": ["The event is already waiting to be sent."]})
    fire(delivery, "resend")
    delivery.next_attempt_at, delivery.delivered_at = utcnow(), None
    db.session.flush()
    emit(DELIVER_TOPIC, {"endpoint_id": delivery.endpoint_id})
    return delivery
