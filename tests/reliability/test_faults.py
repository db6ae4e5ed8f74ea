"""Fault injection: the database connection dies mid-request, Redis is down at commit.

What a user must see: a clean problem+json 500 (never a half-done change), and background
work that is never lost (the outbox row waits for the relay).
"""

from __future__ import annotations

import gc
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from returns_service import create_app
from returns_service.db import db
from returns_service.outbox.models import OutboxMessage
from returns_service.refunds.models import Refund
from returns_service.returns.models import Return, ReturnEvent
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL

RECEIVED = {"items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]}


@contextmanager
def failing_statement(app: Any, prefix: str, fail: Any) -> Iterator[list[str]]:
    """Call `fail(conn)` when the first statement starting with `prefix` is about to run."""
    fired: list[str] = []
    with app.app_context():
        engine = db.engine

    def before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not fired and statement.lstrip().upper().startswith(prefix):
            fired.append(statement)
            fail(conn)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", before)


def raise_connection_lost(_conn: Any) -> None:
    raise OperationalError("(injected)", {}, Exception("server closed the connection "
                                                         "unexpectedly"))


def snapshot(app: Any, rma: str) -> dict[str, Any]:
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        return {
            "status": ret.status, "version": ret.version,
            "events": db.session.scalar(select(func.count()).select_from(ReturnEvent)
                                        .where(ReturnEvent.return_id == ret.id)),
            "refunds": db.session.scalar(select(func.count()).select_from(Refund)),
            "outbox": db.session.scalar(select(func.count()).select_from(OutboxMessage)),
            "refund_jobs": db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                             .where(OutboxMessage.topic == "refund.execute")),
        }


def assert_clean_500(response: Any) -> None:
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 500
    assert "nothing was changed" in response.json["detail"]


@pytest.mark.parametrize("prefix", ["INSERT INTO REFUNDS", "INSERT INTO OUTBOX_MESSAGES",
                                    "UPDATE RETURN_ITEMS"])
def test_database_failure_while_receiving_leaves_nothing_half_done(app, api, make_return,
                                                                    prefix):
    rma = make_return()["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    before = snapshot(app, rma)
    with failing_statement(app, prefix, raise_connection_lost) as fired:
        response = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json=RECEIVED)
    assert fired, f"the receive never ran {prefix}"
    assert_clean_500(response)
    assert snapshot(app, rma) == before
    # The service recovers: the same request now succeeds, exactly once.
    again = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json=RECEIVED)
    assert again.status_code == 200 and again.json["status"] == "refund_pending"
    after = snapshot(app, rma)
    assert (after["refunds"], after["refund_jobs"]) == (1, 1)


def test_database_failure_while_requesting_creates_no_return(app, api, make_order):
    make_order("F1")
    body = {"order_number": "F1", "email": "jane@example.com",
            "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}
    with failing_statement(app, "INSERT INTO RETURN_EVENTS", raise_connection_lost):
        assert_clean_500(api.post("/api/v1/returns", json=body))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Return)) == 0
    assert api.post("/api/v1/returns", json=body).status_code == 201


@pytest.mark.postgres
def test_backend_terminated_mid_request_answers_500_and_next_request_works(app, api,
                                                                         make_return):
    """A real dropped connection: pg_terminate_backend from another session."""
    rma = make_return()["rma"]
    before = snapshot(app, rma)

    def terminate(conn: Any) -> None:
        pid = conn.connection.dbapi_connection.info.backend_pid
        with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    with failing_statement(app, "UPDATE RETURNS", terminate) as fired:
        response = api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    assert fired
    assert_clean_500(response)
    assert snapshot(app, rma) == before
    ok = api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    assert ok.status_code == 200 and ok.json["status"] == "approved"
    # The killed connection is dropped by the pool without close(); collect it here, where
    # its ResourceWarning is expected, rather than during some later test.
    del response
    with app.app_context():
        db.engine.dispose()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.mark.redis
def test_redis_down_at_commit_keeps_the_job_for_the_relay(app_config, tokens, api, make_return):
    """Redis unreachable when the refund job is handed over: the change still succeeds, the
    outbox row stays undelivered, and the relay delivers it once Redis is back."""
    from redis import Redis
    from rq import Queue

    from returns_service.outbox.relay import relay_pending

    queue_name = f"test-outbox-{uuid.uuid4().hex[:8]}"
    rma = make_return()["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    down = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0",
                       "RQ_QUEUE": queue_name})
    response = down.test_client().post(f"/api/v1/returns/{rma}/receive", json=RECEIVED,
                                       headers={"Authorization": f"Bearer {tokens['warehouse']}"})
    assert response.status_code == 200 and response.json["status"] == "refund_pending"
    with down.app_context():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.topic == "refund.execute"))
        assert (message.enqueued_at, message.processed_at) == (None, None)
        kept = db.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.enqueued_at.is_(None),
            OutboxMessage.processed_at.is_(None))).all()  # the refund and customer emails
        db.session.remove()  # give the connection back before closing the pool
        db.engine.dispose()

    up = create_app({**app_config, "REDIS_URL": TEST_REDIS_URL, "RQ_QUEUE": queue_name})
    queue = Queue(queue_name, connection=Redis.from_url(TEST_REDIS_URL))
    try:
        assert relay_pending(up) == len(kept)
        assert sorted(queued_ids(queue)) == sorted(kept)
        assert message.id in queued_ids(queue)
        assert relay_pending(up) == 0  # delivered once, not again
        with up.app_context():
            assert db.session.get(OutboxMessage, message.id).enqueued_at is not None
            db.session.remove()
            db.engine.dispose()
    finally:
        queue.delete(delete_jobs=True)


def queued_ids(queue: Any) -> list[int]:
    """The outbox messages handed to the queue: on its due list (taken by its batch job) or
    carried by a job of their own (the relay's)."""
    from returns_service.outbox.relay import due_keys, message_ids_of

    due = [int(i) for i in queue.connection.lrange(due_keys(queue.name)[0], 0, -1)]
    return due + [i for job_id in queue.job_ids for i in message_ids_of(job_id)]
