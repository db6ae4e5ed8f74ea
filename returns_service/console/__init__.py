"""Staff console: server-rendered pages behind login for agents, warehouse staff and admins."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

from returns_service.console import jobs_dashboard
from returns_service.http.extensions import login_manager
from returns_service.http.page_input import drop_nul_characters
from returns_service.staff.services import user_for_session

bp = Blueprint("console", __name__, url_prefix="/staff")


def init_app(app: Flask) -> None:
    """Mount the console at /staff (and its dashboard) and send anonymous visitors to its
    login page."""
    # The view modules add their routes to `bp` as they are imported; imported here because
    # they import `bp` from this module.
    from returns_service.console import (  # noqa: F401
        admin_views,
        assisted_views,
        auth_views,
        brand_views,
        bulk_views,
        conversation_views,
        credit_views,
        dashboard_views,
        file_views,
        privacy_views,
        refund_views,
        return_views,
        shipping_views,
        warehouse_views,
        webhook_views,
    )

    login_manager.user_loader(_load_user)
    jobs_dashboard.init_app(app)
    login_manager.login_view = "console.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    for blueprint in (bp, dashboard_views.bp):
        app.register_blueprint(blueprint)
        app.before_request_funcs.setdefault(blueprint.name, []).append(drop_nul_characters)


def _load_user(user_id: str) -> Any:
    """Flask-Login's session id is "<user id>:<session token>" (sessions are recorded)."""
    user_key, _, token = user_id.partition(":")
    if not user_key.isdigit() or not token:
        return None  # a cookie from before sessions were recorded: sign in again
    return user_for_session(int(user_key), token)
