"""Exchanges: a returned line swapped for another variant (size, colour) instead of a refund.
Owns the catalog the store keeps us told of (products, variants, stock on hand and reserved),
the exchange and its state machine (`workflows/exchanges.py`), and the exchange order the
store ships once the original is received. Its API is in `api/exchanges.py`."""

from flask import Flask

from returns_service.exchanges import instant, jobs, models, payment, receivers
from returns_service.outbox.registry import register_handler
from returns_service.refunds.signals import exchanged_items_asked, return_settling
from returns_service.returns.signals import status_changed
from returns_service.scheduler import register_periodic
from returns_service.shipping.signals import parcel_sizes_asked

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Order the new items when a return is settled, end exchanges with their return, and
    tell refunds which lines are exchanged rather than refunded; charge instant exchanges
    whose original never came."""
    return_settling.connect(receivers.on_return_settling)
    status_changed.connect(receivers.on_status_changed)
    exchanged_items_asked.connect(receivers.exchanged_items)
    register_handler(instant.CHARGE_TOPIC, jobs.run_charge_missing_item)
    register_periodic(app, "exchanges_charged", instant.queue_due_charges, position=80)
    register_periodic(app, "exchange_payments_polled", payment.poll_stale, position=82)
    parcel_sizes_asked.connect(receivers.parcel_sizes)
