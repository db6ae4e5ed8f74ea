"""The demo (`bin/demo`): demo orders and staff, 90 days of history, the Demo mailbox page
and the SMTP sink behind it. A top layer beside the commands: it drives the domains through
their services, as a store and its staff would."""

from __future__ import annotations

from flask import Flask

from returns_service.demo.data import seed

__all__ = ["init_app", "seed"]


def init_app(app: Flask) -> None:
    """Mount the Demo mailbox page (it answers 404 unless DEMO_MODE is on)."""
    from returns_service.demo.views import bp

    app.register_blueprint(bp)
