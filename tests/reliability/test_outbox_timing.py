"""Jobs are handed over only after the whole transaction commits, never at a savepoint.

SQLAlchemy also fires `after_commit` when a SAVEPOINT is released; handing jobs over then
meant a worker (or the in-process runner) looked for rows not yet committed and found none.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from returns_service import create_app
from returns_service.extensions import db
from returns_service.outbox.models import OutboxMessage
from tests.conftest import TEST_REDIS_URL

RECEIVED = {"items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]}


def test_in_process_job_runs_after_commit_and_sees_the_refund(app, api, make_return):
    rma = make_return()["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    assert api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse",
                    json=RECEIVED).status_code == 200
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.topic == "refund.execute"))
        # The refund job ran and found its refund (it waits for a Stripe key): not "missing".
        assert message.attempts == 1
        assert "STRIPE_API_KEY" in (message.last_error or "")


@pytest.mark.redis
def test_job_is_enqueued_after_commit_and_marked_enqueued(app_config, tokens, make_return,
                                                          api):
    from redis import Redis
    from rq import Queue

    queue_name = f"test-timing-{uuid.uuid4().hex[:8]}"
    rma = make_return()["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    app = create_app({**app_config, "REDIS_URL": TEST_REDIS_URL, "RQ_QUEUE": queue_name})
    queue = Queue(queue_name, connection=Redis.from_url(TEST_REDIS_URL))
    try:
        response = app.test_client().post(
            f"/api/v1/returns/{rma}/receive", json=RECEIVED,
            headers={"Authorization": f"Bearer {tokens['warehouse']}"})
        assert response.status_code == 200
        with app.app_context():
            message = db.session.scalar(select(OutboxMessage).where(
                OutboxMessage.topic == "refund.execute"))
            assert f"outbox-{message.id}" in queue.job_ids
            assert message.enqueued_at is not None  # the update ran after the row existed
            db.session.remove()
            db.engine.dispose()
    finally:
        queue.delete(delete_jobs=True)
