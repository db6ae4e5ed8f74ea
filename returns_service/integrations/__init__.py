"""Integrations: signed outbound webhooks (an endpoint registry, events recorded with the
change that caused them, delivered in order by jobs, retried for days, a delivery log) and
orders imported from Stripe Checkout. Reacts to the returns and refunds domains' signals;
above notifications, which email the admins when an endpoint is disabled."""

from typing import Any

from flask import Flask

from returns_service.exchanges.signals import exchange_ordered
from returns_service.integrations import checkout, delivery, events, models, personal_data
from returns_service.outbox.registry import register_handler
from returns_service.privacy import register_eraser, register_exporter
from returns_service.refunds.signals import refund_outcome
from returns_service.returns.signals import status_changed
from returns_service.scheduler import register_periodic
from returns_service.shipping.signals import shipment_changed

__all__ = ["init_app", "models"]


def _deliver(payload: dict[str, Any]) -> str:
    return delivery.deliver_endpoint(int(payload["endpoint_id"]))


def _import(payload: dict[str, Any]) -> str:
    return checkout.import_session(int(payload["stripe_event_id"]))


def init_app(app: Flask) -> None:
    """Record webhook events on return and refund changes, deliver them from jobs, retry
    what is due on every scheduler pass, import Checkout orders; erase the customer's email
    from the delivery log."""
    status_changed.connect(events.on_status_changed)
    refund_outcome.connect(events.on_refund_outcome)
    exchange_ordered.connect(events.on_exchange_ordered)
    shipment_changed.connect(events.on_shipment_changed)
    register_handler(events.DELIVER_TOPIC, _deliver)
    register_handler(checkout.IMPORT_TOPIC, _import)
    register_periodic(app, "webhooks_due", delivery.retry_due, position=60)
    register_eraser(app, "webhook_deliveries", personal_data.erase_deliveries, position=25)
    register_exporter(app, "webhook_deliveries", personal_data.export_deliveries)
