"""Writing outbox messages inside the caller's transaction, and processing one message."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import bindparam, select, update

from returns_service.common import metrics
from returns_service.common.clock import utcnow
from returns_service.common.logs import current_request_id, working_for
from returns_service.db import db
from returns_service.db.insert_once import insert_once
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.registry import HANDLERS, RetryLater

log = logging.getLogger(__name__)


# Ids of outbox rows written in the session's current transaction, dispatched after commit.
NEW_IDS_KEY = "outbox_new_ids"


def emit(topic: str, payload: dict[str, Any], *, dedupe_key: str | None = None,
         available_at: datetime | None = None) -> int | None:
    """Queue work for after commit; the message id. With a dedupe_key, a second emit (in this
    or a concurrent transaction) is a no-op and returns None."""
    if topic not in HANDLERS:
        raise LookupError(f"no outbox handler registered for {topic!r}")
    now = utcnow()
    values = {"topic": topic, "payload": payload, "dedupe_key": dedupe_key,
              "available_at": available_at or now,
              # With a queue, the message is marked as handed over in this same INSERT, which
              # saves a transaction per change; the relay clears the mark if Redis refuses
              # it after commit, and re-sends marked messages still unprocessed after
              # `stale_after_seconds` (a process that died between commit and hand-over).
              "enqueued_at": now if queue_configured() else None,
              "request_id": current_request_id()}
    if dedupe_key:
        message_id = insert_once(OutboxMessage, values, unique="dedupe_key")
    else:
        message = OutboxMessage(**values)
        db.session.add(message)
        db.session.flush()
        message_id = message.id
    if message_id is not None:
        db.session.info.setdefault(NEW_IDS_KEY, []).append(message_id)
    return message_id


def queue_configured() -> bool:
    """True when messages go to RQ after commit (REDIS_URL set), False when run in-process."""
    return has_app_context() and current_app.extensions.get("rq_queue") is not None


# Built once: every job runs them. Core statements on the table: the job needs three
# columns, not an ORM object, and no object in the session has to follow the UPDATEs.
_OUTBOX = OutboxMessage.__table__
_MESSAGE = select(_OUTBOX.c.id, _OUTBOX.c.topic, _OUTBOX.c.payload, _OUTBOX.c.processed_at,
                  _OUTBOX.c.request_id)
_ONE = _MESSAGE.where(_OUTBOX.c.id == bindparam("message_id"))  # cheaper than an IN of one
_SOME = _MESSAGE.where(_OUTBOX.c.id.in_(bindparam("message_ids", expanding=True)))
_ATTEMPTED = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("message_id"))
_DONE = _ATTEMPTED.values(attempts=_OUTBOX.c.attempts + 1, processed_at=bindparam("now"),
                          last_error=None)
_FAILED = _ATTEMPTED.values(attempts=_OUTBOX.c.attempts + 1, last_error=bindparam("error"))


def read_messages(message_ids: list[int]) -> dict[int, Any]:
    """These messages' rows (topic, payload, processed_at, request_id), by id: one
    statement for a batch."""
    rows = db.session.connection().execute(
        *((_ONE, {"message_id": message_ids[0]}) if len(message_ids) == 1
          else (_SOME, {"message_ids": message_ids})))
    return {row.id: row for row in rows}


def process(message_id: int, message: Any = None) -> str:
    """Run one message's handler (in the current app context) and mark it processed.
    `message`: its row, when the caller read it (`read_messages`); else it is read here.

    Handlers are idempotent and may commit on their own (money-moving code records its
    intent before calling out). Exceptions propagate after the attempt is recorded, so the
    queue's retry (or the relay) tries again. The processed mark read is a shortcut, not a
    lock: two runs of one message at once are both let through, and the handler's own claim
    (an email's, a refund's) lets one of them act.
    """
    if message is None:
        message = read_messages([message_id]).get(message_id)
    if message is None:
        return "missing"
    if message.processed_at is not None:
        return "already-processed"
    topic, payload = message.topic, dict(message.payload)
    try:
        with working_for(message.request_id):
            result = HANDLERS[topic](payload)
    except Exception as exc:

        metrics.job_failed(topic)
        db.session.rollback()
        db.session.connection().execute(_FAILED, {
            "message_id": message_id, "error": f"{type(exc).__name__}: {exc}"})
        db.session.commit()
        log.warning("outbox message %s (%s) %s: %s", message_id, topic,
                    "waits" if isinstance(exc, RetryLater) else "failed", exc)
        raise
    db.session.connection().execute(_DONE, {"message_id": message_id, "now": utcnow()})
    db.session.commit()
    return str(result) if result is not None else "done"


def process_batch(message_ids: list[int], *, failed: list[int] | None = None) -> list[str]:
    """Run several messages one after the other, each as `process` does: its own claim and
    its own commits, so a crash in the middle re-runs at most the message it was in (a
    re-sent email is at most that one). A failing message does not stop the others. With
    `failed`, the ids that failed are appended to it; without, the first failure is raised
    at the end, so the queue retries the batch, in which the messages already done are
    skipped ("already-processed")."""
    results: list[str] = []
    failure: Exception | None = None
    # Read together: a message another run finished meanwhile is still only run again to
    # find its work done (see `process`).
    messages = read_messages(message_ids)
    for message_id in message_ids:
        try:
            results.append(process(message_id, messages.get(message_id)))
        except Exception as exc:  # recorded on the row by process
            db.session.rollback()
            results.append(f"failed: {type(exc).__name__}")
            failure = failure or exc
            if failed is not None:
                failed.append(message_id)
    if failure is not None and failed is None:
        raise failure
    return results


def pending_ids(*, stale_after_seconds: int = 300, limit: int = 500) -> list[int]:
    """Unprocessed, due messages never enqueued, or enqueued long ago and still not done."""
    now = utcnow()

    stale = now - timedelta(seconds=stale_after_seconds)
    rows = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.processed_at.is_(None), OutboxMessage.available_at <= now,
               (OutboxMessage.enqueued_at.is_(None)) | (OutboxMessage.enqueued_at < stale))
        .order_by(OutboxMessage.id).limit(limit))
    return list(rows)
