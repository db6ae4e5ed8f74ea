"""Import every model so metadata (and Alembic autogenerate) sees all tables."""

from returns_service.feedback.models import Feedback
from returns_service.notifications.models import Notification
from returns_service.orders.models import Order, OrderLine
from returns_service.outbox.models import OutboxMessage
from returns_service.payments.models import StripeEvent
from returns_service.refunds.models import Refund
from returns_service.returns.models import Return, ReturnEvent, ReturnItem
from returns_service.staff.models import ApiToken, StaffUser

__all__ = [
    "ApiToken",
    "Feedback",
    "Notification",
    "Order",
    "OrderLine",
    "OutboxMessage",
    "Refund",
    "Return",
    "ReturnEvent",
    "ReturnItem",
    "StaffUser",
    "StripeEvent",
]
