"""Background job runtime: the RQ entry points (an outbox message, a pass of the scheduler)
and the app a worker process runs them in.

Jobs take ids, not objects; the app is created once per worker process from the
environment (or handed over by `flask worker`), and DB connections inherited across a
fork are discarded before use.
"""

from __future__ import annotations

import os

from flask import Flask
from rq import SimpleWorker, Worker

from returns_service import create_app
from returns_service.db import db
from returns_service.outbox import service
from returns_service.scheduler import tick_if_leader

# How long the thread listening for commands (rq's pubsub) blocks between checks. rq asks
# for 60 s, and redis-py 8.2's stop() waits for that read to end: a worker told to stop (a
# deploy's SIGTERM, a --burst run) then hung for up to a minute after its last job.
COMMAND_POLL_SECONDS = 1


class _QuickToStop:
    """rq's command listener, polling every COMMAND_POLL_SECONDS instead of every 60 s."""

    def subscribe(self) -> None:
        """rq's own subscribe (rq 3.0), with the shorter poll."""
        self.pubsub = self.connection.pubsub()  # type: ignore[attr-defined]
        self.pubsub.subscribe(**{self.pubsub_channel_name:  # type: ignore[attr-defined]
                                 self.handle_payload})  # type: ignore[attr-defined]
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=COMMAND_POLL_SECONDS, daemon=True,
            exception_handler=self._pubsub_exception_handler)  # type: ignore[attr-defined]


class InProcessWorker(_QuickToStop, SimpleWorker):
    """Runs each job in the worker process itself (the app and its pool stay warm)."""


class ForkingWorker(_QuickToStop, Worker):
    """Runs each job in a forked child."""


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
    """RQ job: process one outbox message. Safe to run twice."""
    with get_app().app_context():
        return service.process(message_id)


def scheduled_tick() -> dict[str, int] | None:
    """RQ job (RQ's cron, see deploy/rq_cron.py): one pass of every periodic job; None
    when another host is running one."""
    return tick_if_leader(get_app())
