"""Writing outbox messages inside the caller's transaction, and processing one message."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from returns_service.clock import utcnow
from returns_service.extensions import db
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.registry import HANDLERS

log = logging.getLogger(__name__)


def emit(topic: str, payload: dict[str, Any], *, dedupe_key: str | None = None,
         available_at: datetime | None = None) -> OutboxMessage | None:
    """Queue work for after commit. With a dedupe_key, a second emit is a no-op (returns None)."""
    if topic not in HANDLERS:
        raise LookupError(f"no outbox handler registered for {topic!r}")
    if dedupe_key and db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    message = OutboxMessage(topic=topic, payload=payload, dedupe_key=dedupe_key,
                            available_at=available_at or utcnow())
    if dedupe_key:
        try:
            with db.session.begin_nested():
                db.session.add(message)
        except IntegrityError:  # a concurrent transaction emitted it first
            return None
    else:
        db.session.add(message)
    return message


def process(message_id: int) -> str:
    """Run one message's handler (in the current app context) and mark it processed.

    Handlers are idempotent and may commit on their own (money-moving code records its
    intent before calling out). Exceptions propagate after the attempt is recorded, so the
    queue's retry (or the relay) tries again.
    """
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return "missing"
    if message.processed_at is not None:
        return "already-processed"
    topic, payload = message.topic, dict(message.payload)
    try:
        result = HANDLERS[topic](payload)
    except Exception as exc:
        from returns_service.reports import metrics  # local: outbox stays independent

        metrics.job_failed(topic)
        db.session.rollback()
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(
                attempts=OutboxMessage.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"))
        db.session.commit()
        log.warning("outbox message %s (%s) failed: %s", message_id, topic, exc)
        raise
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(
            attempts=OutboxMessage.attempts + 1, processed_at=utcnow(), last_error=None))
    db.session.commit()
    return str(result) if result is not None else "done"


def pending_ids(*, stale_after_seconds: int = 300, limit: int = 500) -> list[int]:
    """Unprocessed, due messages never enqueued, or enqueued long ago and still not done."""
    now = utcnow()
    from datetime import timedelta

    stale = now - timedelta(seconds=stale_after_seconds)
    rows = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.processed_at.is_(None), OutboxMessage.available_at <= now,
               (OutboxMessage.enqueued_at.is_(None)) | (OutboxMessage.enqueued_at < stale))
        .order_by(OutboxMessage.id).limit(limit))
    return list(rows)
