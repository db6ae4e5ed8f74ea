"""Notifications: the customer's email at every customer-visible step (queued in the same
transaction as the change, sent once by a job), reminders, the agents' escalation digest."""

from flask import Flask

from returns_service.conversations.signals import agent_replied, staff_mentioned
from returns_service.notifications import jobs, models, personal_data, schedule, services
from returns_service.notifications.cli import notify
from returns_service.outbox.registry import register_handler
from returns_service.privacy import register_eraser, register_exporter
from returns_service.returns.signals import status_changed
from returns_service.scheduler import register_periodic
from returns_service.shipping.signals import shipment_changed

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Queue an email on each status change (a return's, a return parcel's), send it from a
    job, remind and escalate; erase and export what the emails kept of the customer."""
    status_changed.connect(services.on_status_changed)
    agent_replied.connect(services.on_agent_replied)
    staff_mentioned.connect(services.on_staff_mentioned)
    shipment_changed.connect(services.on_shipment_changed)
    register_handler(services.TOPIC, jobs.send_notification)
    register_periodic(app, "reminded", schedule.remind_unshipped, position=20)
    register_periodic(app, "escalated", schedule.escalate_waiting, position=30)
    register_periodic(app, "requeued_notifications", lambda _now: services.resend_stuck(),
                      position=40)
    app.cli.add_command(notify)
    register_eraser(app, "notifications", personal_data.erase_notifications, position=20)
    register_exporter(app, "notifications", personal_data.export_notifications)
