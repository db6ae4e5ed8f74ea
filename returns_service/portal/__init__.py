"""Customer pages: ask for a return, follow it on its status page, rate the service, read the
Help page."""

from __future__ import annotations

from flask import Flask

from returns_service.common.i18n import customer_page
from returns_service.http.extensions import limiter
from returns_service.http.page_input import drop_nul_characters
from returns_service.portal import brand_assets, feedback_views, help, status_views

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Bind the lookup rate limiter (Redis when configured, memory otherwise), mount the
    pages at / and /returns/…, the feedback pages at /feedback/… and the Help page at /help"""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "returns-portal")
    # Redis down must not stop customers: count in memory until it is back.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)  # Retry-After on a 429
    # A moving window: "10 per minute" means any 60 seconds. Fixed windows let a client
    # spend twice its budget across a minute's boundary (and reset a count mid-burst).
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    limiter.init_app(app)
    # status_views adds its pages to the request pages' blueprint (views.bp: one `portal.`
    # namespace); importing it imports views.
    for bp in (status_views.bp, feedback_views.bp, help.bp):
        app.register_blueprint(bp)
        app.before_request_funcs.setdefault(bp.name, []).extend(
            (drop_nul_characters, customer_page))  # customer pages: the customer's language
    app.register_blueprint(brand_assets.bp)  # /brand.css and /brand/logo
    # Browsers ask for /favicon.ico on every site: a small icon instead of a 404.
    app.add_url_rule("/favicon.ico", "favicon",
                     lambda: app.send_static_file("favicon.ico"))
