"""Orders: what the store sold (imported idempotently by number), looked up by customers and
staff, and row-locked while returns claim or refund against it. Knows nothing of returns: it
asks the domains above through `orders.signals`."""

from flask import Flask

from returns_service.orders import models, personal_data
from returns_service.privacy import register_eraser, register_exporter

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Orders register no receivers or jobs; their tables come with `models`. The customer's
    email, name and address are erased last (the other domains find rows through them)."""
    register_eraser(app, "orders", personal_data.erase_orders, position=90)
    register_exporter(app, "orders", personal_data.export_orders)
