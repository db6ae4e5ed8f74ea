"""Log lines of every process, as text or as JSON (LOG_FORMAT), each carrying the id of the
request that caused it: a web request's own id (its X-Request-ID header, or a new one), and in
a background job the id of the request whose change queued the job. So one grep follows a
return from the form to the refund across the web process and the workers."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
# The request on whose behalf a background job runs (set around each outbox message).
_JOB_REQUEST_ID: ContextVar[str | None] = ContextVar("job_request_id", default=None)
# An id from outside is kept only if it is short and plain (it ends up in every log line).
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def request_id_from_header() -> str:
    """The id for this request: a well-formed X-Request-ID (set by nginx, a load balancer or
    the client), else a new one."""
    given = request.headers.get("X-Request-ID", "")
    return given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex


def current_request_id() -> str | None:
    """The request id of the work at hand: the request whose change queued the job being
    run, else the web request's own, else None."""
    job_request = _JOB_REQUEST_ID.get()
    if job_request:
        return job_request
    return g.get("request_id") if has_request_context() else None


@contextmanager
def working_for(request_id: str | None) -> Iterator[None]:
    """Run a job on behalf of the request that queued it: its log lines carry that id."""
    token = _JOB_REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        _JOB_REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" when there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


def configure_logging(level: int, log_format: str) -> None:
    """Send the process's logs to stderr in `log_format`, once per process (the first app
    built decides; tests build many)."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT={log_format!r}: use one of {', '.join(LOG_FORMATS)}")
    root = logging.getLogger()
    if not any(isinstance(f, RequestIdFilter) for h in root.handlers for f in h.filters):
        if not root.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(
                JsonFormatter("%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                              rename_fields={"levelname": "level", "name": "logger",
                                             "asctime": "time"})
                if log_format == "json" else logging.Formatter(TEXT_FORMAT))
            root.addHandler(handler)
            root.setLevel(level)
        for handler in root.handlers:
            handler.addFilter(RequestIdFilter())
