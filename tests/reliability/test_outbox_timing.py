"""Jobs are handed over only after the whole transaction commits, never at a savepoint.

SQLAlchemy also fires `after_commit` when a SAVEPOINT is released; handing jobs over then
meant a worker (or the in-process runner) looked for rows not yet committed and found none.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from returns_service import create_app
from returns_service.db import db
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


@contextmanager
def received_through_a_queue(app_config, tokens, make_return, api) -> Iterator[tuple[Any, Any]]:
    """A return received through an app that hands jobs to a fresh RQ queue: (app, queue)."""
    from redis import Redis
    from rq import Queue

    queue_name = f"test-outbox-{uuid.uuid4().hex[:8]}"
    rma = make_return()["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    app = create_app({**app_config, "REDIS_URL": TEST_REDIS_URL, "RQ_QUEUE": queue_name})
    queue = Queue(queue_name, connection=Redis.from_url(TEST_REDIS_URL))
    try:
        response = app.test_client().post(
            f"/api/v1/returns/{rma}/receive", json=RECEIVED,
            headers={"Authorization": f"Bearer {tokens['warehouse']}"})
        assert response.status_code == 200
        yield app, queue
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        from returns_service.outbox.relay import due_keys

        queue.connection.delete(*due_keys(queue_name))
        queue.delete(delete_jobs=True)


def refund_message(app: Any) -> OutboxMessage:
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.topic == "refund.execute"))
        db.session.expunge_all()
        return message


@pytest.mark.redis
def test_job_is_enqueued_after_commit_and_marked_enqueued(app_config, tokens, make_return,
                                                          api):
    with received_through_a_queue(app_config, tokens, make_return, api) as (app, queue):
        message = refund_message(app)
        assert message.id in queued_ids(queue)
        assert message.enqueued_at is not None  # marked in the INSERT itself


@pytest.mark.redis
def test_message_lost_between_commit_and_hand_over_is_resent_once_stale(app_config, tokens,
                                                                         make_return, api):
    """Messages are written already marked as enqueued (no second transaction per change).
    If the process dies after commit but before Redis has the job, the relay re-sends the
    message once it is older than the stale limit, and not before."""
    from returns_service.outbox.relay import relay_pending

    with received_through_a_queue(app_config, tokens, make_return, api) as (app, queue):
        from returns_service.outbox.relay import due_keys

        queue.empty()  # the hand-over never happened
        queue.connection.delete(*due_keys(queue.name))
        message = refund_message(app)
        assert message.enqueued_at is not None and message.processed_at is None
        assert relay_pending(app) == 0  # still within the stale limit: maybe in a queue
        assert relay_pending(app, stale_after_seconds=0) >= 1
        assert message.id in queued_ids(queue)


def test_savepoints_neither_hand_out_jobs_nor_lose_them(app):
    """Releasing a SAVEPOINT is not a commit (nothing is handed out yet), and rolling one
    back does not forget messages written before it in the same transaction."""
    from returns_service.outbox.registry import HANDLERS, register_handler
    from returns_service.outbox.service import emit

    ran: list[int] = []
    register_handler("test.savepoint", lambda payload: ran.append(payload["n"]))
    try:
        with app.app_context():
            emit("test.savepoint", {"n": 1})
            with db.session.begin_nested():
                emit("test.savepoint", {"n": 2})
            assert ran == []  # released, not committed
            with pytest.raises(LookupError), db.session.begin_nested():
                emit("test.savepoint", {"n": 3})
                raise LookupError("a twin got there first")
            assert ran == []
            db.session.commit()
            assert sorted(ran) == [1, 2]  # 3 was rolled back with its savepoint
    finally:
        HANDLERS.pop("test.savepoint", None)


def queued_ids(queue: Any) -> list[int]:
    """The outbox messages handed to the queue: on its due list (taken by its batch job) or
    carried by a job of their own (the relay's)."""
    from returns_service.outbox.relay import due_keys, message_ids_of

    due = [int(i) for i in queue.connection.lrange(due_keys(queue.name)[0], 0, -1)]
    return due + [i for job_id in queue.job_ids for i in message_ids_of(job_id)]


@contextmanager
def chained_queue(app_config: dict[str, Any], last: int) -> Iterator[tuple[Any, Any, list[int]]]:
    """An app handing jobs to a fresh RQ queue, and a topic `test.chain` whose message n
    queues message n + 1 up to `last`: (app, queue, the numbers run, in order)."""
    from redis import Redis
    from rq import Queue

    from returns_service.outbox.registry import HANDLERS, register_handler
    from returns_service.outbox.relay import due_keys
    from returns_service.outbox.service import emit
    from returns_service.worker import set_app

    queue_name = f"test-outbox-{uuid.uuid4().hex[:8]}"
    queued = create_app({**app_config, "REDIS_URL": TEST_REDIS_URL, "RQ_QUEUE": queue_name})
    queue = Queue(queue_name, connection=Redis.from_url(TEST_REDIS_URL))
    ran: list[int] = []

    def chain(payload: dict[str, Any]) -> None:
        ran.append(payload["n"])
        if payload["n"] < last:
            emit("test.chain", {"n": payload["n"] + 1})

    register_handler("test.chain", chain)
    try:
        set_app(queued)
        yield queued, queue, ran
    finally:
        HANDLERS.pop("test.chain", None)
        queue.connection.delete(*due_keys(queue_name))
        queue.delete(delete_jobs=True)
        with queued.app_context():
            db.session.remove()
            db.engine.dispose()


def run_one_job(queue: Any) -> None:
    from returns_service.worker import SimpleWorker

    worker = SimpleWorker([queue], connection=queue.connection)
    worker.register_birth()
    job, job_queue = worker.dequeue_job_and_maintain_ttl(None)
    worker.execute_job(job, job_queue)
    worker.register_death()


@pytest.mark.redis
def test_a_batch_job_sends_what_its_own_work_queued_then_lets_the_next_commit_queue_a_job(
        app_config, app):
    """A refund's outcome queues its email while the batch job that made the refund still
    runs: the same job takes it (no RQ job of its own). Once the job has found nothing left,
    the next commit queues a new job, so nothing waits for the relay."""
    from returns_service.outbox.service import emit
    from returns_service.worker import SimpleWorker

    with chained_queue(app_config, last=3) as (queued, queue, ran):
        with queued.app_context():
            emit("test.chain", {"n": 1})
            db.session.commit()
        assert queue.count == 1
        run_one_job(queue)  # one job...
        assert ran == [1, 2, 3]  # ...ran the follow-ups too
        assert queue.count == 0

        with queued.app_context():
            emit("test.chain", {"n": 10})
            db.session.commit()
        assert queue.count == 1  # the job let go of the due list: a new one is queued
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert ran == [1, 2, 3, 10]
        with queued.app_context():
            assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.processed_at.is_(None))) == 0


@pytest.mark.redis
def test_a_batch_job_that_stops_early_hands_its_own_follow_ups_to_the_next_job(
        app_config, app, monkeypatch):
    """What a batch job's own work queued is kept in the worker for that job to take: when
    the job stops before taking it (here after its one allowed batch), it is handed to the
    queue as any commit's messages are, and the next job runs it."""
    from returns_service.outbox import relay
    from returns_service.outbox.service import emit

    monkeypatch.setattr(relay, "MAX_TAKES", 1)
    with chained_queue(app_config, last=3) as (queued, queue, ran):
        with queued.app_context():
            emit("test.chain", {"n": 1})
            db.session.commit()
        run_one_job(queue)
        assert ran == [1]
        assert queued_ids(queue) and queue.count == 1  # message 2 waits, with its job
        run_one_job(queue)
        assert ran == [1, 2]  # one batch per job here: 3 is left to the next job
        run_one_job(queue)
        assert ran == [1, 2, 3] and queue.count == 0
        with queued.app_context():
            assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.processed_at.is_(None))) == 0


@pytest.mark.postgres
@pytest.mark.redis
def test_a_database_connection_lost_between_two_messages_fails_only_the_one_that_met_it(
        app_config, app):
    """A batch job keeps one database connection for all its messages. When it goes away
    (a database restart) between two of them, the message that meets the loss is recorded
    as failed and retried, and the job goes on with the next one on a new connection."""
    import gc
    import warnings

    import psycopg
    from sqlalchemy import text

    from returns_service.outbox.registry import HANDLERS, register_handler
    from returns_service.outbox.service import emit
    from tests.conftest import TEST_DATABASE_URL

    def lose_the_connection(payload: dict[str, Any]) -> None:
        if not payload.get("retried"):
            backend = db.session.scalar(text("SELECT pg_backend_pid()"))
            with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
            db.session.scalar(text("SELECT 1"))  # meets the loss

    register_handler("test.lose", lose_the_connection)
    try:
        with chained_queue(app_config, last=1) as (queued, queue, ran):
            with queued.app_context():
                emit("test.chain", {"n": 1})
                lost = emit("test.lose", {})
                emit("test.chain", {"n": 1})
                db.session.commit()
            run_one_job(queue)
            assert ran == [1, 1]  # the message after the loss ran
            with queued.app_context():
                failed = db.session.get(OutboxMessage, lost)
                assert failed.processed_at is None and failed.attempts == 1
                assert "OperationalError" in failed.last_error
                retries = [queue.fetch_job(job_id) for job_id
                           in queue.scheduled_job_registry.get_job_ids()]
                assert [(job.func_name, job.args) for job in retries] == [
                    ("returns_service.worker.run_outbox_batch", ([lost],))]
                failed.payload = {"retried": True}
                db.session.commit()
                db.engine.dispose()
            from returns_service.worker import run_outbox_batch

            assert run_outbox_batch([lost]) == ["done"]
    finally:
        HANDLERS.pop("test.lose", None)
        with warnings.catch_warnings():  # the killed connection, dropped without close()
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


@pytest.mark.redis
def test_a_commit_of_thousands_of_messages_hands_every_one_over_with_one_job(build_app):
    """More ids than Lua's unpack takes at once (about 8 000) go onto the due list in one
    step, in order, and one batch job is queued for them."""
    from returns_service.outbox.registry import HANDLERS, register_handler
    from returns_service.outbox.relay import due_keys
    from returns_service.outbox.service import emit

    app = build_app(REDIS_URL=TEST_REDIS_URL, RQ_QUEUE=f"test-many-{uuid.uuid4().hex[:8]}")
    queue = app.extensions["rq_queue"]
    register_handler("test.many", lambda payload: None)  # (never run here)
    try:
        with app.app_context():
            for n in range(8200):
                emit("test.many", {"n": n})
            db.session.commit()
            ids = db.session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.topic == "test.many").order_by(OutboxMessage.id)).all()
        assert len(ids) == 8200
        assert queued_ids(queue) == list(ids)
        assert queue.count == 1
    finally:
        HANDLERS.pop("test.many", None)
        queue.connection.delete(*due_keys(queue.name))
        queue.delete(delete_jobs=True)
