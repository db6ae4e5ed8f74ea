"""Feedback: CSAT ratings and NPS answers a customer leaves on a finished return (signed links,
every answer kept as given). Its pages live in the portal."""

from flask import Flask

from returns_service.feedback import models, personal_data
from returns_service.privacy import register_eraser, register_exporter

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Feedback registers no receivers or jobs; its tables come with `models`. Comments are
    erased with the customer's personal data."""
    register_eraser(app, "feedback", personal_data.erase_comments, position=40)
    register_exporter(app, "feedback", personal_data.export_feedback)
