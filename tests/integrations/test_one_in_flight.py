"""One delivery in flight per endpoint, on PostgreSQL: two jobs started at once for the same
endpoint never send two requests at the same time, and every event arrives once, in order."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from returns_service.integrations.delivery import deliver_endpoint
from tests.integrations.conftest import deliveries, register
from tests.support.receiver import Answer
from tests.support.stripe import free_port

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # Redis that does not answer: the changes commit, their jobs wait for the relay, so
    # this test starts the jobs itself.
    app_config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    return app_config


def test_two_jobs_for_one_endpoint_send_one_request_at_a_time(app, api, make_return,
                                                              receiver):
    endpoint = register(api, receiver, ["return.requested", "return.approved"])
    rma = make_return()["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    make_return("A1002")
    assert [d.status for d in deliveries(app)] == ["pending"] * 3
    receiver.script = [Answer(delay=0.3) for _ in range(3)]
    results: list[str] = []
    start = threading.Barrier(2)

    def job() -> None:
        with app.app_context():
            start.wait()
            results.append(deliver_endpoint(endpoint["id"]))

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert receiver.max_in_flight == 1
    assert [r.payload["sequence"] for r in receiver.accepted()] == [1, 2, 3]
    assert [d.status for d in deliveries(app)] == ["delivered"] * 3
    assert sorted(results) == ["3 delivered", "busy or disabled (0 delivered)"] \
        or sorted(results) == ["0 delivered", "3 delivered"]
