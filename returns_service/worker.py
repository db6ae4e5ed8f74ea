"""Background job runtime: the RQ entry points (an outbox message, a pass of the scheduler)
and the app a worker process runs them in.

Jobs take ids, not objects; the app is created once per worker process from the
environment (or handed over by `flask worker`), and DB connections inherited across a
fork are discarded before use.

`Worker` and `SimpleWorker` are rq's, with a prompt exit: rq stops its pub/sub thread after
unsubscribing, and the server's reply to the unsubscribe often wakes that thread before it is
told to stop, so it waits for the next message up to 60 s (rq's `sleep_time`) while redis-py's
`stop()` waits for it. A burst worker then took 61 s to exit after "done, quitting". Here the
thread is told to stop first, so the reply ends it at once.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import rq
from flask import Flask
from redis.exceptions import RedisError

from returns_service import create_app
from returns_service.db import db, one_connection
from returns_service.outbox import relay, service
from returns_service.scheduler import tick_if_leader

log = logging.getLogger(__name__)

UNSUBSCRIBE_WAIT_SECONDS = 5


class PromptUnsubscribe:
    """Mixin for rq workers: stop the pub/sub thread, then unsubscribe (whose reply wakes
    it), and wait a bounded time."""

    pubsub: Any
    pubsub_thread: Any
    name: str
    log: Any

    def unsubscribe(self) -> None:
        thread, pubsub = self.pubsub_thread, self.pubsub
        if not thread:
            return
        self.log.info("Worker %s: unsubscribing", self.name)
        thread.stop(timeout=0)  # clears its flag: it ends at its next wake-up...
        pubsub.unsubscribe()  # ...which the server's reply to this is
        thread.join(timeout=UNSUBSCRIBE_WAIT_SECONDS)
        if not thread.is_alive():  # (a daemon thread still waiting ends with the process)
            pubsub.close()


class FewerRoundTrips:
    """Mixin for rq workers: the same Redis writes in fewer round trips. A heartbeat rq
    sends on its own (the worker's timestamp and two expiries) goes as one pipeline, and a
    state already set ("idle" after a job, then again when the worker next listens) is not
    sent again. About 0.9 M instructions of a return's 90 M (bench.instructions)."""

    connection: Any
    _state: Any

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)  # type: ignore[misc]
            return
        with self.connection.pipeline(transaction=False) as own:
            super().heartbeat(timeout, pipeline=own)  # type: ignore[misc]
            own.execute()

    def set_state(self, state: str, pipeline: Any = None) -> None:
        if pipeline is None and state == self._state:
            return
        super().set_state(state, pipeline=pipeline)  # type: ignore[misc]


class Worker(FewerRoundTrips, PromptUnsubscribe, rq.Worker):
    """rq's forking Worker, exiting promptly."""


class SimpleWorker(FewerRoundTrips, PromptUnsubscribe, rq.SimpleWorker):
    """rq's SimpleWorker (jobs in the worker process), exiting promptly."""


_app: Flask | None = None
_pid: int | None = None


def set_app(app: Flask) -> None:
    global _app, _pid
    _app, _pid = app, os.getpid()


def get_app() -> Flask:
    """The worker's app; after a fork, drop pooled connections the parent opened."""
    global _app, _pid
    if _app is None:
        _app, _pid = create_app(), os.getpid()
    elif _pid != os.getpid():
        with _app.app_context():
            db.engine.dispose(close=False)
        _pid = os.getpid()
    return _app


def run_outbox_message(message_id: int) -> str:
    """RQ job: process one outbox message. Safe to run twice. (Jobs are handed out in
    batches now; this one still runs jobs queued by an earlier release.)"""
    with get_app().app_context():
        return service.process(message_id)


def run_outbox_batch(message_ids: list[int]) -> list[str]:
    """RQ job: process these outbox messages in turn, each in its own transactions (see
    `service.process_batch`). Safe to run twice."""
    with get_app().app_context(), one_connection():
        return service.process_batch(message_ids)


def run_outbox_due() -> list[str]:
    """RQ job: process the queue's due outbox messages, a batch at a time (see
    `relay.take_due`), coming back for more until none is left (the messages this work
    queues, like the email a refund's outcome sends, included) or MAX_TAKES batches are
    done. Messages that fail are retried by a job of their own; what the job's own work
    queues it takes before the due list, without a round trip to Redis
    (`relay.own_messages`)."""
    app = get_app()
    queue = app.extensions["rq_queue"]
    results: list[str] = []
    # One session and one database connection for all the batches: each message still
    # commits on its own (service.process). What that work queues is taken first.
    with relay.own_messages(app) as own, app.app_context(), one_connection():
        for take in range(relay.MAX_TAKES):
            message_ids = relay.take_own(own) or relay.take_due(queue, share=take == 0)
            if not message_ids:
                return results
            failed: list[int] = []
            results += service.process_batch(message_ids, failed=failed)
            if failed:
                try:
                    relay.retry_later(queue, failed)
                except RedisError:  # their rows stay unprocessed: the relay re-sends them
                    log.warning("could not queue the retry of outbox messages %s", failed)
    relay.release_due(queue)
    return results


def scheduled_tick() -> dict[str, int] | None:
    """RQ job (RQ's cron, see deploy/rq_cron.py): one pass of every periodic job; None
    when another host is running one."""
    return tick_if_leader(get_app())
