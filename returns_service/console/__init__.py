"""Staff console: server-rendered pages behind login for agents, warehouse staff and admins."""

from __future__ import annotations

from flask import Blueprint, Flask

from returns_service.extensions import login_manager

bp = Blueprint("console", __name__, url_prefix="/staff")


def init_app(app: Flask) -> None:
    """Mount the console at /staff and send anonymous visitors to its login page."""
    from returns_service.console import (  # noqa: F401  (routes register on import)
        admin_views,
        assisted_views,
        auth_views,
        return_views,
        warehouse_views,
    )

    login_manager.login_view = "console.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    app.register_blueprint(bp)
