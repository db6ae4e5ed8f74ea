"""Refund jobs on a real `rq worker` and real Redis: a worker killed mid-call, Redis down at
commit. Either way the refund happens, once (counted at localstripe, which does not dedupe
idempotency keys)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from returns_service import create_app
from returns_service.db import db
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.relay import relay_pending
from returns_service.refunds.models import Refund
from returns_service.returns.models import Return
from tests.conftest import TEST_REDIS_URL, order_payload
from tests.support.stripe import API_KEY, Hold, StubStripe, free_port
from tests.support.workers import kill_hard, process_tree, start_worker


def received_return(api: Any, localstripe: Any) -> tuple[str, str]:
    """A paid order (at localstripe) and its return, received: refund of 8,000 queued."""
    intent = localstripe.paid_payment_intent(15000)
    payload = order_payload("A1001")
    payload["payment"] = {"provider": "stripe", "payment_intent": intent}
    assert api.post("/api/v1/orders", as_="integration", json=payload).status_code == 201
    rma = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "JEANS", "quantity": 1, "condition": "resellable"}]})
    assert received.status_code == 200, received.json
    assert received.json["status"] == "refund_pending"
    return rma, intent


def state(app: Any, rma: str) -> tuple[str, list[tuple[str, str | None]]]:
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        refunds = db.session.scalars(select(Refund).order_by(Refund.id)).all()
        return ret.status, [(r.status, r.provider_refund_id) for r in refunds]


class TestWorkerKilledMidCall:
    pytestmark = [pytest.mark.redis, pytest.mark.postgres]

    @pytest.fixture
    def proxy(self, localstripe: Any) -> Any:
        """Forwards to localstripe; holds the answer to the first refund call."""
        with StubStripe(upstream=localstripe.url) as stub:
            stub.script = [Hold()]
            yield stub

    @pytest.fixture
    def app_config(self, app_config: dict[str, Any], proxy: Any,
                   queue_name: str) -> dict[str, Any]:
        app_config.update(REDIS_URL=TEST_REDIS_URL, RQ_QUEUE=queue_name,
                          STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=proxy.url)
        return app_config

    def test_killed_worker_is_retried_and_refunds_once(self, app, app_config, api, proxy,
                                                       localstripe, queue_name, tmp_path):
        hold = proxy.script[0]
        rma, intent = received_return(api, localstripe)
        worker = start_worker(app_config, proxy.url, queue_name, burst=False,
                              log=tmp_path / "worker1.log")
        try:
            # The worker has sent the refund; Stripe made it but the answer never comes back.
            assert hold.arrived.wait(timeout=60), (tmp_path / "worker1.log").read_text()
            assert len(localstripe.refunds_for(intent)) == 1
            horse = process_tree(worker.pid)[1:]
            assert horse, "the job should be running in a work horse"
            assert kill_hard(worker) == []
        finally:
            if worker.poll() is None:
                kill_hard(worker)
            hold.release.set()
        assert state(app, rma) == ("refund_pending", [("pending", None)])

        # The relay re-sends work not done in time; a new worker runs it once the dead
        # worker's claim has run out (lease 0 stands in for waiting the two minutes).
        assert relay_pending(app, stale_after_seconds=0) == 1
        again = start_worker(app_config, proxy.url, queue_name, burst=True,
                             log=tmp_path / "worker2.log", REFUND_SUBMIT_LEASE_SECONDS="0")
        assert again.wait(timeout=60) == 0, (tmp_path / "worker2.log").read_text()

        at_stripe = localstripe.refunds_for(intent)
        assert len(at_stripe) == 1, at_stripe
        assert at_stripe[0]["amount"] == 8000
        assert state(app, rma) == ("refunded", [("succeeded", at_stripe[0]["id"])])
        # It was found by our metadata, not created again.
        assert len(proxy.creates()) == 1
        with app.app_context():
            message = db.session.scalar(select(OutboxMessage).where(
                OutboxMessage.topic == "refund.execute"))
            assert message.processed_at is not None


class TestRedisDownAtCommit:
    pytestmark = pytest.mark.redis

    @pytest.fixture
    def app_config(self, stripe_app_config: dict[str, Any],
                   queue_name: str) -> dict[str, Any]:
        stripe_app_config.update(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
                                 RQ_QUEUE=queue_name)
        return stripe_app_config

    def test_outbox_keeps_the_job_until_redis_is_back(self, app, app_config, api,
                                                      localstripe, queue_name, tmp_path):
        rma, intent = received_return(api, localstripe)  # commit fine, enqueue failed
        with app.app_context():
            message = db.session.scalar(select(OutboxMessage).where(
                OutboxMessage.topic == "refund.execute"))
            assert (message.topic, message.enqueued_at, message.processed_at) == (
                "refund.execute", None, None)
        assert state(app, rma) == ("refund_pending", [("pending", None)])
        assert localstripe.refunds_for(intent) == []
        relay_pending(app)  # Redis still down: the relay tries, the row stays
        with app.app_context():
            message = db.session.scalar(select(OutboxMessage).where(
                OutboxMessage.topic == "refund.execute"))
            assert (message.enqueued_at, message.processed_at) == (None, None)
            waiting = len(db.session.scalars(select(OutboxMessage).where(
                OutboxMessage.enqueued_at.is_(None))).all())  # the refund and customer emails

        back = create_app({**app_config, "REDIS_URL": TEST_REDIS_URL})
        assert relay_pending(back) == waiting
        worker = start_worker(app_config, localstripe.url, queue_name, burst=True,
                              log=tmp_path / "worker.log")
        assert worker.wait(timeout=60) == 0, (tmp_path / "worker.log").read_text()

        at_stripe = localstripe.refunds_for(intent)
        assert [r["amount"] for r in at_stripe] == [8000]
        assert state(app, rma) == ("refunded", [("succeeded", at_stripe[0]["id"])])
        assert relay_pending(back) == 0
        with back.app_context():
            db.engine.dispose()
