"""Background job runtime: the RQ entry point and the app a worker process runs jobs in.

Jobs take ids, not objects; the app is created once per worker process from the
environment (or handed over by `flask worker`), and DB connections inherited across a
fork are discarded before use.
"""

from __future__ import annotations

import os

from flask import Flask

from returns_service.db import db

_app: Flask | None = None
_pid: int | None = None


def set_app(app: Flask) -> None:
    global _app, _pid
    _app, _pid = app, os.getpid()


def get_app() -> Flask:
    """The worker's app; after a fork, drop pooled connections the parent opened."""
    global _app, _pid
    if _app is None:
        from returns_service import create_app

        _app, _pid = create_app(), os.getpid()
    elif _pid != os.getpid():
        with _app.app_context():
            db.engine.dispose(close=False)
        _pid = os.getpid()
    return _app


def run_outbox_message(message_id: int) -> str:
    """RQ job: process one outbox message. Safe to run twice."""
    from returns_service.outbox import service

    with get_app().app_context():
        return service.process(message_id)
