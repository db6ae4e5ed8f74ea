"""Conversations: the messages between a customer and the store about a return (status page,
email, SMS), the staff's internal notes kept apart, assignment and the queue's views, macros,
the inbound mail receiver, and SMS through Twilio. Emails are left to notifications,
through the signals."""

from flask import Flask

from returns_service.conversations import models, round_robin, sms
from returns_service.conversations.cli import conversations
from returns_service.conversations.personal_data import (
    erase_attachment_files,
    erase_conversations,
    export_conversations,
)
from returns_service.conversations.signals import customer_wrote
from returns_service.outbox.registry import register_handler
from returns_service.privacy import register_eraser, register_exporter
from returns_service.returns.signals import status_changed

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Send SMS status updates, hand new work to the round robin, register the SMS job and
    the `flask conversations` commands (the tables come with `models`)."""
    status_changed.connect(sms.on_status_changed)
    status_changed.connect(round_robin.on_status_changed)
    customer_wrote.connect(round_robin.on_customer_wrote)
    register_handler(sms.TOPIC, lambda payload: sms.deliver(int(payload["sms_id"])))
    app.cli.add_command(conversations)
    # The conversation's personal data: erased and exported with the customer's.
    register_eraser(app, "attachments", erase_attachment_files, position=28)
    register_eraser(app, "conversations", erase_conversations, position=30)
    register_exporter(app, "conversations", export_conversations)
