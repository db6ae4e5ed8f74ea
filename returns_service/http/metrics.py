"""GET /metrics and request timing: each app gets its own registry (returns_service.common.metrics
holds the metric families and the counting helpers)."""

from __future__ import annotations

import hmac
import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from returns_service.common import metrics
from returns_service.common.errors import Unauthorized

bp = Blueprint("metrics", __name__)


def init_metrics(app: Flask) -> None:
    """Give the app its registry, time every request, and serve /metrics."""
    app.extensions["metrics"] = metrics.AppMetrics()
    # gunicorn/RQ with several processes: see README ("Service-quality metrics").
    app.extensions["metrics_multiprocess"] = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    metrics.install_listeners()

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            app.extensions["metrics"].latency.labels(
                request.method, request.endpoint or "unmatched").observe(
                time.perf_counter() - started)
        return response

    app.register_blueprint(bp)


def _check_token() -> None:
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                             str(expected).encode()):
        raise Unauthorized("Scraping /metrics needs 'Authorization: Bearer <METRICS_TOKEN>'.")


@bp.get("/metrics")
def metrics_view() -> Response:
    """Prometheus text format. Open unless METRICS_TOKEN is set (then Bearer required)."""
    _check_token()
    if current_app.extensions.get("metrics_multiprocess"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = current_app.extensions["metrics"].registry
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
