"""HTTP endpoints for outbound webhooks: register endpoints, rotate secrets, read the
delivery log, resend an event, send a test event."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from returns_service.db import db
from returns_service.http.auth import require
from returns_service.http.openapi import BEARER, PROBLEMS
from returns_service.integrations import endpoints as service
from returns_service.integrations.schemas import (
    DeliveryListOut,
    DeliveryOut,
    EndpointIn,
    EndpointListOut,
    EndpointOut,
    EndpointPatch,
    EndpointWithSecretOut,
)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhook-endpoints",
                description="Outbound webhooks: endpoints, delivery log (see the "
                            "Integrations page of the docs for the events and signatures)")


def _with_secret(endpoint: Any, secret: str) -> dict[str, Any]:
    """The endpoint's fields and its secret, for the one answer that shows it."""
    return {**{name: getattr(endpoint, name) for name in EndpointOut().fields},
            "secret": secret}


@blp.route("", methods=["GET"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, EndpointListOut)
@require("webhooks.read")
def list_endpoints() -> Any:
    """Every registered endpoint (secrets are never shown again)."""
    return {"items": service.list_endpoints()}


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.arguments(EndpointIn)
@blp.response(201, EndpointWithSecretOut)
@require("webhooks.manage")
def create_endpoint(data: dict[str, Any]) -> Any:
    """Register an endpoint; the answer holds its signing secret, shown this once."""
    endpoint, secret = service.create_endpoint(
        data["url"], data["event_types"], description=data["description"],
        enabled=data["enabled"])
    db.session.commit()
    return _with_secret(endpoint, secret)


@blp.route("/<int:endpoint_id>", methods=["GET"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, EndpointOut)
@require("webhooks.read")
def get_endpoint(endpoint_id: int) -> Any:
    """One endpoint."""
    return service.get_endpoint(endpoint_id)


@blp.route("/<int:endpoint_id>", methods=["PATCH"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.arguments(EndpointPatch)
@blp.response(200, EndpointOut)
@require("webhooks.manage")
def update_endpoint(data: dict[str, Any], endpoint_id: int) -> Any:
    """Change the URL, description, event types, or enable/disable it."""
    endpoint = service.update_endpoint(endpoint_id, data)
    db.session.commit()
    return endpoint


@blp.route("/<int:endpoint_id>/rotate-secret", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, EndpointWithSecretOut)
@require("webhooks.manage")
def rotate_secret(endpoint_id: int) -> Any:
    """A new signing secret (shown once); the old one stays valid for 24 hours, and both
    signatures are sent meanwhile."""
    endpoint, secret = service.rotate_secret(endpoint_id)
    db.session.commit()
    return _with_secret(endpoint, secret)


@blp.route("/<int:endpoint_id>/test", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(202, DeliveryOut)
@require("webhooks.send")
def send_test(endpoint_id: int) -> Any:
    """Queue a `webhook.test` event to this endpoint."""
    delivery = service.send_test_event(endpoint_id)
    db.session.commit()
    return delivery


@blp.route("/<int:endpoint_id>/deliveries", methods=["GET"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, DeliveryListOut)
@require("webhooks.read")
def deliveries(endpoint_id: int) -> Any:
    """The endpoint's delivery log, newest first (the last 100)."""
    return {"items": service.list_deliveries(endpoint_id)}


@blp.route("/<int:endpoint_id>/deliveries/<int:delivery_id>/resend", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(202, DeliveryOut)
@require("webhooks.send")
def resend(endpoint_id: int, delivery_id: int) -> Any:
    """Send an event again, as it was (same webhook-id), signed afresh."""
    delivery = service.resend(delivery_id, endpoint_id=endpoint_id)
    db.session.commit()
    return delivery
