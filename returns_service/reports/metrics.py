"""Prometheus metrics: one CollectorRegistry per app, counting helpers, and GET /metrics.

Other domains count through the helpers (`refund_outcome`, `webhook_event`, `job_failed`);
they do nothing outside an app context, so a helper can never break the caller.

Status transitions are counted *after commit*: the `status_changed` signal (sent inside the
transaction) parks the change on the SQLAlchemy session, `after_commit` counts it, and the end
of a transaction that did not commit (rollback, close) drops it. A rolled-back transition is
therefore never counted.
"""

from __future__ import annotations

import hmac
import os
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, has_app_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from returns_service.errors import Unauthorized
from returns_service.extensions import db

_PENDING = "metrics_pending_transitions"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

bp = Blueprint("metrics", __name__)


class AppMetrics:
    """The app's own registry and metric families (tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.transitions = Counter(
            "returns_status_transitions", "Return status changes, counted after commit",
            ["from_status", "to_status"], registry=self.registry)
        self.refunds = Counter(
            "returns_refund_outcomes", "Refund attempts by recorded outcome",
            ["outcome"], registry=self.registry)
        self.webhooks = Counter(
            "returns_webhook_events", "Webhook events received, by type and result",
            ["type", "result"], registry=self.registry)
        self.job_failures = Counter(
            "returns_job_failures", "Background job (outbox message) failures, by topic",
            ["topic"], registry=self.registry)
        self.latency = Histogram(
            "returns_http_request_duration_seconds", "HTTP request latency by endpoint",
            ["method", "endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry)


def _current() -> AppMetrics | None:
    if not has_app_context():
        return None
    return current_app.extensions.get("metrics")


def refund_outcome(outcome: str) -> None:
    """Count one refund outcome (succeeded, failed, canceled, requires_action…)."""
    if (metrics := _current()) is not None:
        metrics.refunds.labels(outcome).inc()


def webhook_event(type_: str, result: str) -> None:
    """Count one webhook event, e.g. ("charge.refund.updated", "processed" | "ignored")."""
    if (metrics := _current()) is not None:
        metrics.webhooks.labels(type_, result).inc()


def job_failed(topic: str) -> None:
    """Count one failed run of a background job (outbox topic)."""
    if (metrics := _current()) is not None:
        metrics.job_failures.labels(topic).inc()


# --- transitions, after commit --------------------------------------------------------------

def _on_status_changed(sender: Any, event: Any = None, **_: Any) -> None:
    metrics = _current()
    if metrics is None or event is None:
        return
    session = object_session(sender) or db.session()
    session.info.setdefault(_PENDING, []).append(
        (metrics, event.from_status or "none", event.to_status))


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # SQLAlchemy also calls this when a SAVEPOINT ends
        return
    for metrics, from_status, to_status in session.info.pop(_PENDING, ()):
        metrics.transitions.labels(from_status, to_status).inc()


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended without (or after) commit
        session.info.pop(_PENDING, None)


def _install_listeners() -> None:
    from returns_service.returns.signals import status_changed

    status_changed.connect(_on_status_changed)  # blinker keeps one connection per receiver
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)


# --- the app ----------------------------------------------------------------------------------

def init_metrics(app: Flask) -> None:
    """Give the app its registry, time every request, and serve /metrics."""
    app.extensions["metrics"] = AppMetrics()
    # gunicorn/RQ with several processes: see README ("Service-quality metrics").
    app.extensions["metrics_multiprocess"] = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    _install_listeners()

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
