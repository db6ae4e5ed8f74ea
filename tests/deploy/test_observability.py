"""What an operator reads: JSON log lines that carry the request id (into the jobs the
request queued), and errors reported to a Sentry server."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from flask import g

from returns_service import create_app
from returns_service.common.logs import current_request_id
from tests.support.loopback import LoopbackServer, read_body, send_json

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import logging, sys
from returns_service import create_app
from returns_service.common.errors import RetryLater
app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})

@app.get("/log-something")
def log_something():
    logging.getLogger("returns_service.test").warning("parcel scanned")
    return "ok"

@app.get("/break")
def broken():
    raise RuntimeError("boom in a view")

@app.get("/wait")
def wait():
    logging.getLogger("returns_service.test").exception("waiting", exc_info=RetryLater("smtp"))
    return "ok"

client = app.test_client()
for path in sys.argv[1:]:
    answer = client.get(path, headers={"X-Request-ID": "trace-42"})
    print(path, answer.status_code, answer.headers.get("X-Request-ID"), file=sys.stdout)
import sentry_sdk
sentry_sdk.flush(5)
"""


def run_app(env: dict[str, str], *paths: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY", "LOG_"))}
    return subprocess.run([sys.executable, "-c", SCRIPT, *paths], cwd=ROOT, text=True,
                          capture_output=True, timeout=60, env={**environ, **env})


def test_json_logs_carry_the_request_id_the_proxy_sent() -> None:
    done = run_app({"LOG_FORMAT": "json"}, "/log-something")
    assert "/log-something 200 trace-42" in done.stdout, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    scanned = [r for r in records if r["message"] == "parcel scanned"]
    assert scanned and scanned[0]["request_id"] == "trace-42"
    assert scanned[0]["level"] == "WARNING" and scanned[0]["logger"] == "returns_service.test"
    assert all("time" in r for r in records)  # every line is a record a collector can parse


def test_a_request_without_an_id_gets_one_and_a_forged_one_is_replaced(client: Any) -> None:
    new = client.get("/healthz/live").headers["X-Request-ID"]
    assert len(new) == 32
    forged = client.get("/healthz/live", headers={"X-Request-ID": "x\u2028" * 3})
    assert forged.headers["X-Request-ID"] != "x\u2028" * 3


def test_an_unknown_log_format_stops_the_app() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT='xml'"):
        create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "LOG_FORMAT": "xml"})


def test_an_in_process_job_logs_with_the_id_of_its_request(app: Any) -> None:
    """Without Redis the job runs right after the commit, in a context of its own."""
    from returns_service.db import db
    from returns_service.outbox.registry import HANDLERS, register_handler
    from returns_service.outbox.service import emit

    seen: list[str | None] = []
    register_handler("test.request_id", lambda payload: seen.append(current_request_id()))
    try:
        with app.test_request_context("/"):
            g.request_id = "trace-66"
            emit("test.request_id", {})
            db.session.commit()
    finally:
        HANDLERS.pop("test.request_id", None)
    assert seen == ["trace-66"]


@pytest.mark.redis
def test_a_job_logs_with_the_id_of_the_request_that_queued_it(build_app: Any) -> None:
    from rq import get_current_job

    from returns_service import worker
    from returns_service.db import db
    from returns_service.outbox.registry import HANDLERS, register_handler
    from returns_service.outbox.service import emit
    from returns_service.worker import SimpleWorker
    from tests.conftest import TEST_REDIS_URL

    app = build_app(REDIS_URL=TEST_REDIS_URL, RQ_QUEUE=f"request-id-{os.getpid()}")
    queue = app.extensions["rq_queue"]
    seen: list[tuple[bool, str | None]] = []
    register_handler("test.request_id", lambda payload: seen.append(
        (get_current_job() is not None, current_request_id())))
    try:
        with app.test_request_context("/"):
            g.request_id = "trace-77"
            emit("test.request_id", {})
            db.session.commit()  # after the commit the message goes to Redis, not run here
        assert seen == [] and queue.count == 1
        worker.set_app(app)
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    finally:
        HANDLERS.pop("test.request_id", None)
        queue.delete(delete_jobs=True)
    assert seen == [(True, "trace-77")]


class _Sentry(LoopbackServer):
    """Sentry's envelope endpoint: keeps what the SDK sends, as text."""
    methods = ("POST",)

    def __init__(self) -> None:
        super().__init__()
        self.received: list[str] = []

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        body = read_body(request)
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body.decode("utf-8", "replace"))
        send_json(request, 200, {})


@pytest.fixture
def sentry_server() -> Iterator[tuple[str, list[str]]]:
    with _Sentry() as sentry:
        yield f"http://publickey@127.0.0.1:{sentry.port}/1", sentry.received


def test_an_error_on_a_page_reaches_sentry_with_its_request_id_and_a_wait_does_not(
        sentry_server: tuple[str, list[str]]) -> None:
    dsn, received = sentry_server
    done = run_app({"SENTRY_DSN": dsn, "SENTRY_ENVIRONMENT": "staging"}, "/break", "/wait")
    assert "/break 500 trace-42" in done.stdout, done.stderr
    events = "\n".join(received)
    assert "boom in a view" in events and "RuntimeError" in events
    assert '"request_id":"trace-42"' in events.replace(" ", "")
    assert '"environment":"staging"' in events.replace(" ", "")
    assert "RetryLater" not in events  # a job waiting to be retried is not an error
