"""What rq's monitoring (rq info, rq-dashboard) sees of our workers and outbox jobs stays
true although the worker sends its bookkeeping in fewer round trips: the worker's state
while a job runs and after it, its heartbeat and expiry; a finished outbox job kept for a
minute, then gone on its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from rq import Worker as RqWorker
from rq.job import Job

from returns_service import worker
from returns_service.db import db
from returns_service.outbox.registry import HANDLERS, register_handler
from returns_service.outbox.relay import FINISHED_JOB_TTL, due_keys
from returns_service.outbox.service import emit
from returns_service.worker import SimpleWorker
from tests.conftest import TEST_REDIS_URL

pytestmark = pytest.mark.redis


@pytest.fixture
def queued_app(build_app: Any) -> Iterator[Any]:
    """An app handing its jobs to a queue of this test's own; the queue removed after."""
    app = build_app(REDIS_URL=TEST_REDIS_URL, RQ_QUEUE=f"bookkeeping-{uuid.uuid4().hex[:8]}")
    queue = app.extensions["rq_queue"]
    worker.set_app(app)
    yield app
    HANDLERS.pop("test.bookkeeping", None)
    queue.delete(delete_jobs=True)
    queue.connection.delete(*due_keys(queue.name))


def queue_one_message(app: Any, seen: list[str], rq_worker: SimpleWorker) -> None:
    """A message whose handler notes the worker's state as Redis shows it."""
    register_handler("test.bookkeeping", lambda payload: seen.append(
        RqWorker.find_by_key(rq_worker.key, connection=rq_worker.connection).get_state()))
    with app.app_context():
        emit("test.bookkeeping", {})
        db.session.commit()


def test_monitoring_sees_the_worker_busy_during_a_job_then_idle_and_alive(queued_app):
    queue = queued_app.extensions["rq_queue"]
    rq_worker = SimpleWorker([queue], connection=queue.connection)
    rq_worker.register_birth()
    try:
        seen: list[str] = []
        queue_one_message(queued_app, seen, rq_worker)
        job, job_queue = rq_worker.dequeue_job_and_maintain_ttl(None)
        rq_worker.execute_job(job, job_queue)
        assert seen == ["busy"]
        listening_from = datetime.now(UTC)
        assert rq_worker.dequeue_job_and_maintain_ttl(None) is None  # the queue is empty
        shown = RqWorker.find_by_key(rq_worker.key, connection=queue.connection)
        assert shown.get_state() == "idle"
        assert shown.successful_job_count == 1
        # The heartbeats of a worker listening for work (not only those sent with a job).
        assert shown.last_heartbeat.replace(tzinfo=UTC) >= listening_from
        # Alive for rq's monitoring: the heartbeat's expiry was set with it.
        assert 0 < queue.connection.ttl(rq_worker.key) <= rq_worker.worker_ttl + 60
    finally:
        rq_worker.register_death()


def test_a_finished_outbox_job_is_kept_a_minute_then_expires(queued_app):
    queue = queued_app.extensions["rq_queue"]
    seen: list[str] = []
    rq_worker = SimpleWorker([queue], connection=queue.connection)
    queue_one_message(queued_app, seen, rq_worker)
    job_id = queue.job_ids[0]
    rq_worker.work(burst=True)
    assert seen == ["busy"]
    job = Job.fetch(job_id, connection=queue.connection)
    assert job.get_status() == "finished"
    assert job_id in queue.finished_job_registry.get_job_ids()
    assert 0 < queue.connection.ttl(job.key) <= FINISHED_JOB_TTL
