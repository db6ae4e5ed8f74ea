"""Web plumbing shared by the JSON API, the pages and the webhooks: problem+json and error
pages, Bearer-token auth against the permissions table, the OpenAPI components, rate limits,
request-input hooks, security headers, template filters, health and metrics endpoints."""

from flask import Flask, Response, g

from returns_service.common.logs import request_id_from_header
from returns_service.http import health, metrics
from returns_service.http.problems import register_error_handlers
from returns_service.http.proxies import trust_proxies
from returns_service.http.request_limits import install_body_limits
from returns_service.http.security_headers import install_security_headers
from returns_service.http.templating import install_filters

__all__ = ["init_app", "register_error_handlers"]


def init_app(app: Flask) -> None:
    """A request id for every request, GET /healthz and /metrics, security headers on every
    answer, request body limits, template filters."""
    app.before_request(_start_request)
    app.after_request(_answer_request_id)
    app.register_blueprint(health.bp)
    metrics.init_metrics(app)
    install_security_headers(app)
    install_body_limits(app)
    trust_proxies(app)
    install_filters(app)


def _start_request() -> None:
    g.request_id = request_id_from_header()


def _answer_request_id(response: Response) -> Response:
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response
