"""A worker SIGKILLed while a webhook is on the wire (real `rq worker`, PostgreSQL, Redis):
the event is delivered later by another worker, with the same `webhook-id`, so the receiver
can drop the duplicate the spec allows."""

from __future__ import annotations

from typing import Any

import pytest

from returns_service.outbox.relay import relay_pending
from tests.conftest import TEST_REDIS_URL
from tests.integrations.conftest import deliveries, register
from tests.support.receiver import Answer
from tests.support.workers import kill_hard, process_tree, start_worker, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def app_config(app_config: dict[str, Any], queue_name: str) -> dict[str, Any]:
    app_config.update(REDIS_URL=TEST_REDIS_URL, RQ_QUEUE=queue_name)
    return app_config


def test_killed_mid_delivery_is_delivered_later_with_the_same_id(app, app_config, api,
                                                                 make_return, receiver,
                                                                 queue_name,
                                                                 tmp_path):
    register(api, receiver, ["return.requested"])
    receiver.script = [Answer(delay=20)]  # the first request is held: the worker waits
    env = {"WEBHOOK_ALLOW_PRIVATE_TARGETS": "1", "WEBHOOK_TIMEOUT_SECONDS": "30"}
    worker = start_worker(app_config, "http://127.0.0.1:9", queue_name, burst=False,
                          log=tmp_path / "worker1.log", **env)
    try:
        make_return()
        assert wait_for(lambda: len(receiver.received) == 1), \
            (tmp_path / "worker1.log").read_text()
        assert process_tree(worker.pid)[1:], "the job should be running in a work horse"
        assert kill_hard(worker) == []
    finally:
        if worker.poll() is None:
            kill_hard(worker)
    (delivery,) = deliveries(app)
    assert (delivery.status, delivery.attempts) == ("pending", 1)

    # The relay re-sends the job; the next worker takes the endpoint over once the dead
    # worker's claim has run out (lease 0 stands in for waiting WEBHOOK_LEASE_SECONDS).
    assert relay_pending(app, stale_after_seconds=0) >= 1
    again = start_worker(app_config, "http://127.0.0.1:9", queue_name, burst=True,
                         log=tmp_path / "worker2.log", WEBHOOK_LEASE_SECONDS="0", **env)
    assert again.wait(timeout=60) == 0, (tmp_path / "worker2.log").read_text()
    (delivery,) = deliveries(app)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        "delivered", 2, 200)
    first, second = receiver.received
    assert first.webhook_id == second.webhook_id == delivery.message_id
    assert first.verified_by == second.verified_by == [0]
    assert first.payload == second.payload
