"""Store credit: codes issued for returns, an append-only ledger of what each holds, and
redeeming it from the store (see `services` for the interface the rest of the service calls).
Its API is in `api/credits.py`, its console page in `console/credit_views.py`."""

from flask import Flask

from returns_service.credits import expiry, models, personal_data
from returns_service.privacy import register_eraser, register_exporter, register_hold
from returns_service.scheduler import register_periodic

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Expire credit past its date on every scheduler pass (CREDIT_EXPIRY_DAYS); erase,
    export or hold back the email a code was issued to."""
    register_periodic(app, "credits_expired", expiry.expire_credits, position=15)
    register_eraser(app, "credits", personal_data.erase_codes, position=60)
    register_exporter(app, "credits", personal_data.export_codes)
    register_hold(app, "unspent_credit", personal_data.unspent_credit)
