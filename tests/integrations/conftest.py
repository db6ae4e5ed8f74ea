"""Fixtures of the webhook tests: receivers on loopback are allowed as targets, Stripe's
webhook is configured, and an endpoint is registered through the API for `receiver`."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.integrations.models import WebhookDelivery
from tests.support.stripe import WEBHOOK_SECRET


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = True
    app_config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET  # Stripe's news moves refunds
    return app_config


def register(api: Any, receiver: Any, event_types: list[str] | None = None) -> dict[str, Any]:
    """Register the receiver's URL as an admin; the receiver learns the secret."""
    response = api.post("/api/v1/webhook-endpoints", as_="admin", json={
        "url": receiver.url, "description": "warehouse system",
        "event_types": event_types or ["*"]})
    assert response.status_code == 201, response.json
    receiver.secrets.append(response.json["secret"])
    return response.json


@pytest.fixture
def endpoint(api: Any, receiver: Any) -> dict[str, Any]:
    return register(api, receiver)


def deliveries(app: Any) -> list[WebhookDelivery]:
    with app.app_context():
        rows = list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        db.session.expunge_all()
        return rows
