"""Conversations: the messages between a customer and the store about a return (status page,
email, SMS), the staff's internal notes kept apart, assignment and the queue's views, macros,
and the inbound mail receiver. Sending is left to notifications, through the signals."""

from flask import Flask

from returns_service.conversations import models
from returns_service.conversations.cli import conversations

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Register the `flask conversations` commands (the tables come with `models`)."""
    app.cli.add_command(conversations)
