"""Customer return portal: server-rendered pages to request and follow a return."""

from __future__ import annotations

from flask import Flask

from returns_service.extensions import limiter


def init_portal(app: Flask) -> None:
    """Bind the lookup rate limiter (Redis when configured, memory otherwise) and the pages."""
    from returns_service.portal.views import bp

    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "returns-portal")
    # Redis down must not stop customers: count in memory until it is back.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)  # Retry-After on a 429
    limiter.init_app(app)
    app.register_blueprint(bp)
    # Browsers ask for /favicon.ico on every site: a small icon instead of a 404.
    app.add_url_rule("/favicon.ico", "favicon",
                     lambda: app.send_static_file("favicon.ico"))
