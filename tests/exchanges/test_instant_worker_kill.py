"""The instant-exchange charge on a real `rq worker` (PostgreSQL, Redis): the worker is
SIGKILLed while Stripe has made the charge but not answered. Another worker runs the job
again and the card is charged once: the service finds the payment intent it made (by its
metadata) even when Stripe no longer remembers the idempotency key."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.exchanges import instant
from returns_service.exchanges.models import Exchange
from returns_service.outbox.relay import relay_pending
from tests.conftest import TEST_REDIS_URL
from tests.exchanges.test_instant_exchange import (  # noqa: F401 (shipped_instant: fixture)
    instant_config,
    row,
    shipped_instant,
)
from tests.support.workers import kill_hard, process_tree, start_worker

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def app_config(app_config: dict[str, Any], fake_checkout: Any,
               queue_name: str) -> dict[str, Any]:
    app_config.update(REDIS_URL=TEST_REDIS_URL, RQ_QUEUE=queue_name)
    return instant_config(app_config, fake_checkout)


def test_a_worker_killed_mid_charge_charges_the_card_once(app, app_config, api,
                                                          shipped_instant,  # noqa: F811
                                                          fake_checkout, queue_name,
                                                          tmp_path) -> None:
    rma = shipped_instant()
    fake_checkout.hold_payment_intent = hold = threading.Event()
    worker = start_worker(app_config, fake_checkout.url, queue_name, burst=False,
                          log=tmp_path / "worker1.log")
    try:
        with app.app_context():
            assert instant.queue_due_charges(utcnow() + timedelta(days=22)) == 1
        # The worker asked Stripe; the card is charged but the answer never comes back.
        assert fake_checkout.payment_intent_arrived.wait(timeout=60), \
            (tmp_path / "worker1.log").read_text()
        assert len(fake_checkout.charges()) == 1
        assert process_tree(worker.pid)[1:], "the job should be running in a work horse"
        assert kill_hard(worker) == []
    finally:
        if worker.poll() is None:
            kill_hard(worker)
        hold.set()
    assert row(app).status == "shipped"  # nothing was recorded

    # A day later Stripe has forgotten the idempotency key: only the service's own look-up
    # stands between the retried job and a second charge.
    fake_checkout.idempotent.clear()
    assert relay_pending(app, stale_after_seconds=0) >= 1
    again = start_worker(app_config, fake_checkout.url, queue_name, burst=True,
                         log=tmp_path / "worker2.log")
    assert again.wait(timeout=60) == 0, (tmp_path / "worker2.log").read_text()

    (charge,) = fake_checkout.charges()
    assert charge["metadata"] == {"exchange_charge": str(row(app).id), "rma": rma}
    assert [p for m, p in fake_checkout.requests
            if (m, p) == ("POST", "/v1/payment_intents")] == ["/v1/payment_intents"]
    with app.app_context():
        charged = db.session.query(Exchange).one()
        assert (charged.status, charged.charge_payment_intent) == (
            "charged_for_missing_item", charge["id"])
