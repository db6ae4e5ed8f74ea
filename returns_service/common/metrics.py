"""Prometheus metric families of one app and the helpers every domain counts with.

Other domains count through the helpers (`refund_outcome`, `webhook_event`, `job_failed`,
`return_label`);
they do nothing outside an app context, so a helper can never break the caller.

Status transitions are counted *after commit*: the `status_changed` signal (sent inside the
transaction) parks the change on the SQLAlchemy session, `after_commit` counts it, and the end
of a transaction that did not commit (rollback, close) drops it. A rolled-back transition is
therefore never counted. The registry and GET /metrics are set up by returns_service.http.metrics.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from returns_service.db import db

_PENDING = "metrics_pending_transitions"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

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
        self.labels = Counter(
            "returns_shipping_labels", "Return labels by outcome (bought, failed, voided)",
            ["outcome", "carrier"], registry=self.registry)
        self.label_spend = Counter(
            "returns_shipping_label_spend", "What return labels cost, in minor units",
            ["currency", "carrier"], registry=self.registry)
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


def return_label(outcome: str, carrier: str | None = None, *, cost: int | None = None,
                 currency: str | None = None) -> None:
    """Count one return label outcome, and what a bought one cost."""
    if (metrics := _current()) is not None:
        metrics.labels.labels(outcome, carrier or "none").inc()
        if cost and currency:
            metrics.label_spend.labels(currency, carrier or "none").inc(cost)


def job_failed(topic: str) -> None:
    """Count one failed run of a background job (outbox topic)."""
    if (metrics := _current()) is not None:
        metrics.job_failures.labels(topic).inc()


# --- transitions, after commit --------------------------------------------------------------

def on_status_changed(sender: Any, event: Any = None, **_: Any) -> None:
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


def install_listeners() -> None:
    """Count transitions after commit (the returns domain connects on_status_changed)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
