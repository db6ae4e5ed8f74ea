"""Returns: the return aggregate — request (with the eligibility rules and the return policy),
decide, receive, expire — its audit trail, RMA codes and the customer's signed status links.
Status changes go through workflows/returns.py; the domains above hear of them by signal."""

from flask import Flask

from returns_service.common import metrics
from returns_service.orders.signals import order_pins_asked
from returns_service.privacy import register_eraser, register_exporter, register_hold
from returns_service.returns import expiry, models, personal_data, writes
from returns_service.returns.eligibility import pins_of_returns
from returns_service.returns.policy import load_policy
from returns_service.returns.signals import status_changed
from returns_service.scheduler import register_periodic

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Load the return policy, count transitions after commit, answer what returns pin on an
    order, expire returns whose parcel never came, anonymise returns closed longer ago than
    the retention setting (and erase, export or hold back a customer's returns)."""
    app.extensions["return_policy"] = load_policy(app.config["RETURN_POLICY_FILE"])
    writes.install()
    status_changed.connect(metrics.on_status_changed)
    order_pins_asked.connect(pins_of_returns)
    register_periodic(app, "expired", expiry.expire_overdue, position=10)
    register_periodic(app, "personal_data_erased", personal_data.anonymise_due, position=85)
    register_eraser(app, "returns", personal_data.erase_returns, position=50)
    register_exporter(app, "returns", personal_data.export_returns)
    register_hold(app, "open_returns", personal_data.open_returns)
