"""Store credit: codes issued for returns, an append-only ledger of what each holds, and
redeeming it from the store (see `services` for the interface the rest of the service calls).
Its API is in `api/credits.py`, its console page in `console/credit_views.py`."""

from flask import Flask

from returns_service.credits import expiry, models
from returns_service.scheduler import register_periodic

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Expire credit past its date on every scheduler pass (CREDIT_EXPIRY_DAYS)."""
    register_periodic(app, "credits_expired", expiry.expire_credits, position=15)
