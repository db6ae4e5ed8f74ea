"""Feedback: CSAT ratings and NPS answers a customer leaves on a finished return (signed links,
every answer kept as given). Its pages live in the portal."""

from flask import Flask

from returns_service.feedback import models

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Feedback registers no receivers or jobs; its tables come with `models`."""
