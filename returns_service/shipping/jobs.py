"""Background entry points of return shipping (outbox handlers): thin wrappers that call a
shipping service by id. Registered by `returns_service.shipping.init_app`."""

from typing import Any

from returns_service.shipping.labels import buy_label, void_label
from returns_service.shipping.tracking import apply_event


def run_buy_label(payload: dict[str, Any]) -> str:
    """Buy one return label, once (topic `shipping.buy_label`)."""
    return buy_label(int(payload["shipment_id"]))


def run_void_label(payload: dict[str, Any]) -> str:
    """Void one unused label (topic `shipping.void_label`)."""
    return void_label(int(payload["shipment_id"]))


def run_easypost_event(payload: dict[str, Any]) -> str:
    """Apply one stored EasyPost tracker event (topic `easypost.event`)."""
    return apply_event(int(payload["carrier_event_id"]))
