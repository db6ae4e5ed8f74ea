"""GET /metrics: Prometheus text that parses, counters that move after commits, the token."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from returns_service.common import metrics
from returns_service.db import db
from returns_service.returns import services
from workflows.returns import Actor


def scrape(client: Any, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def transitions(samples: dict[Any, float], from_status: str, to_status: str) -> float:
    key = ("returns_status_transitions_total",
           (("from_status", from_status), ("to_status", to_status)))
    return samples.get(key, 0.0)


def test_transition_counters_move_after_a_committed_change(client, api, make_return):
    rma = make_return()["rma"]
    before = scrape(client)
    assert transitions(before, "none", "requested") == 1
    assert transitions(before, "requested", "approved") == 0

    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200

    after = scrape(client)
    assert transitions(after, "requested", "approved") == 1
    assert transitions(after, "none", "requested") == 1


def test_a_rolled_back_transition_is_not_counted(app, client, make_return):
    rma = make_return()["rma"]
    agent = Actor("staff", None, "agent")
    with app.app_context():
        services.approve_return(rma, agent)
        db.session.rollback()
        assert services.get_return(rma).status == "requested"
    assert transitions(scrape(client), "requested", "approved") == 0

    with app.app_context():
        services.approve_return(rma, agent)
        db.session.commit()
        # Receiving starts the refund, whose outbox row is written in a SAVEPOINT; its
        # release is not the commit, so nothing may be counted before the rollback.
        services.receive_return(rma, [{"sku": "SHIRT", "quantity": 1,
                                       "condition": "resellable"}], agent)
        db.session.rollback()
    samples = scrape(client)
    assert transitions(samples, "requested", "approved") == 1
    assert transitions(samples, "approved", "received") == 0
    assert transitions(samples, "received", "refund_pending") == 0


def test_request_latency_is_observed_per_endpoint(client, api, make_return):
    make_return()
    samples = scrape(client)
    count = samples[("returns_http_request_duration_seconds_count",
                     (("endpoint", "returns.create_return"), ("method", "POST")))]
    assert count == 1


def test_failed_jobs_are_counted_by_topic(client, api, make_return):
    # Without STRIPE_API_KEY the refund job cannot run yet: it fails (and will be retried).
    rma = make_return()["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    assert received.json["status"] == "refund_pending"
    samples = scrape(client)
    assert samples[("returns_job_failures_total", (("topic", "refund.execute"),))] == 1


def test_helpers_for_other_domains_count_refunds_and_webhooks(app, client):
    with app.app_context():
        metrics.refund_outcome("succeeded")
        metrics.refund_outcome("succeeded")
        metrics.webhook_event("charge.refund.updated", "processed")
    metrics.refund_outcome("failed")  # outside an app: ignored, never raises
    samples = scrape(client)
    assert samples[("returns_refund_outcomes_total", (("outcome", "succeeded"),))] == 2
    assert ("returns_refund_outcomes_total", (("outcome", "failed"),)) not in samples
    assert samples[("returns_webhook_events_total",
                    (("result", "processed"), ("type", "charge.refund.updated")))] == 1


def test_each_app_has_its_own_registry(app, client, make_return):
    from returns_service import create_app

    other = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "x"})
    make_return()
    assert transitions(scrape(client), "none", "requested") == 1
    assert transitions(scrape(other.test_client()), "none", "requested") == 0
    with other.app_context():
        db.engine.dispose()


class TestToken:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        app_config["METRICS_TOKEN"] = "scrape-me"
        return app_config

    def test_metrics_need_the_bearer_token_when_one_is_set(self, client):
        missing = client.get("/metrics")
        assert missing.status_code == 401
        assert missing.mimetype == "application/problem+json"
        assert client.get("/metrics", headers={
            "Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers={
            "Authorization": "Bearer scrape-me"}).status_code == 200
