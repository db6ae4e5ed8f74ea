"""Orders: what the store sold (imported idempotently by number), looked up by customers and
staff, and row-locked while returns claim or refund against it. Knows nothing of returns: it
asks the domains above through `orders.signals`."""

from flask import Flask

from returns_service.orders import models

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Orders register no receivers or jobs; their tables come with `models`."""
