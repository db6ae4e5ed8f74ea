"""Exchanges: a returned line swapped for another variant (size, colour) instead of a refund.
Owns the catalog the store keeps us told of (products, variants, stock on hand and reserved),
the exchange and its state machine (`workflows/exchanges.py`), and the exchange order the
store ships once the original is received. Its API is in `api/exchanges.py`."""

from flask import Flask

from returns_service.exchanges import models, receivers
from returns_service.refunds.signals import exchanged_items_asked, return_settling
from returns_service.returns.signals import status_changed
from returns_service.shipping.signals import parcel_sizes_asked

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Order the new items when a return is settled, end exchanges with their return, and
    tell refunds which lines are exchanged rather than refunded."""
    return_settling.connect(receivers.on_return_settling)
    status_changed.connect(receivers.on_status_changed)
    exchanged_items_asked.connect(receivers.exchanged_items)
    parcel_sizes_asked.connect(receivers.parcel_sizes)
