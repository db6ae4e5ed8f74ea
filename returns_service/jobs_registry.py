"""Import every domain's outbox handlers so a web process and a worker know the same topics."""

from returns_service.notifications import jobs as notification_jobs
from returns_service.payments import jobs as payment_jobs
from returns_service.refunds import jobs as refund_jobs

__all__ = ["notification_jobs", "payment_jobs", "refund_jobs"]
