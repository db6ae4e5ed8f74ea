"""rq-dashboard (queues, workers, failed jobs) mounted at /staff/rq for admins, when Redis is
configured. Its pages carry inline scripts, so they get a CSP of their own that allows them;
every other page keeps the strict one."""

from __future__ import annotations

from flask import Flask, Response, abort, redirect, request, url_for
from flask_login import current_user
from rq_dashboard.web import blueprint as rq_blueprint
from rq_dashboard.web import setup_rq_connection

from returns_service.http.extensions import csrf
from returns_service.staff.permissions import user_may

URL_PREFIX = "/staff/rq"
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def init_app(app: Flask) -> None:
    """Mount the dashboard when REDIS_URL is set (without Redis there are no queues)."""
    if not app.config.get("REDIS_URL"):
        return
    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    app.register_blueprint(rq_blueprint, url_prefix=URL_PREFIX)
    # Its buttons POST without a CSRF token; the session cookie is SameSite=Lax, so another
    # site cannot make an admin's browser send them, and only admins get this far.
    csrf.exempt(rq_blueprint)
    app.before_request_funcs.setdefault(rq_blueprint.name, []).insert(0, _admins_only)
    app.after_request_funcs.setdefault(rq_blueprint.name, []).append(_own_csp)
    with app.app_context():
        setup_rq_connection(app)


def _admins_only() -> Response | None:
    if not current_user.is_authenticated or not current_user.is_active:
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    if not user_may(current_user, "jobs.monitor"):
        abort(403)
    return None


def _own_csp(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    return response
