"""The conversation of a return: customer messages in (status page, email, SMS), agents'
replies out, internal notes kept apart, and whom the return waits on.

Services flush; the request or job commits once. An agent's reply is sent by notifications
(the `agent_replied` signal queues the email with its outbox message in this transaction),
so it goes out once, after commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from returns_service.common.clock import utcnow
from returns_service.common.errors import DomainError, ValidationFailed
from returns_service.conversations.models import (
    CHANNELS,
    ConversationMessage,
    InternalNote,
    WorkState,
)
from returns_service.conversations.signals import agent_replied, customer_wrote, staff_mentioned
from returns_service.db import db
from returns_service.db.insert_once import insert_once
from returns_service.returns.models import Return
from returns_service.staff.models import StaffUser

MAX_BODY = 10_000  # characters kept of one message; the rest of a long email is its quote
WAITING_ON_US = "us"
WAITING_ON_CUSTOMER = "customer"
_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?)")


def _clean_body(body: str | None, field: str = "body") -> str:
    text = (body or "").replace("\x00", "").strip()
    if not text:
        raise ValidationFailed({field: ["Write a message."]}, "Write a message first.")
    return text[:MAX_BODY]


# --- reading ------------------------------------------------------------------------------

def messages_of(return_id: int) -> list[ConversationMessage]:
    """The conversation, oldest first. Only customer-visible rows live in this table."""
    return list(db.session.scalars(
        select(ConversationMessage).where(ConversationMessage.return_id == return_id)
        .order_by(ConversationMessage.id)))


def notes_of(return_id: int) -> list[InternalNote]:
    """Staff-only notes, oldest first (never call this for a customer page)."""
    return list(db.session.scalars(
        select(InternalNote).where(InternalNote.return_id == return_id)
        .order_by(InternalNote.id)))


def work_state(return_id: int) -> WorkState | None:
    return db.session.get(WorkState, return_id)


# --- whom a return waits on, who works on it ---------------------------------------------

def locked_state(return_id: int) -> WorkState:
    """The return's work state row, created when missing, locked for this transaction."""
    table = WorkState.__table__
    connection = db.session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(insert(table).values(return_id=return_id)
                       .on_conflict_do_nothing(index_elements=["return_id"]))
    state = db.session.get(WorkState, return_id, populate_existing=True, with_for_update=True)
    assert state is not None
    return state


def _waiting(return_id: int, on: str) -> None:
    state = locked_state(return_id)
    if state.waiting_on != on:  # a second customer message keeps its place in the queue
        state.waiting_on, state.waiting_since = on, utcnow()


# --- writing ------------------------------------------------------------------------------

def post_customer_message(ret: Return, body: str | None, *, channel: str,
                          external_id: str | None = None,
                          attachments: Iterable[dict[str, Any]] = ()) -> int | None:
    """Record a message from the customer; the return now waits on us (top of the queue).
    The message id, or None when this external id was recorded already (a redelivery)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    files = [dict(a) for a in attachments]
    text = (body or "").replace("\x00", "").strip()[:MAX_BODY]
    if not text and not files:
        raise ValidationFailed({"body": ["Write a message."]}, "Write a message first.")
    values = {"return_id": ret.id, "channel": channel, "direction": "inbound",
              "author_type": "customer", "author_id": None,
              "author_label": ret.order.customer_name or ret.order.email,
              "body": text, "attachments": files or None, "external_id": external_id,
              "created_at": utcnow()}
    if external_id:
        message_id = insert_once(ConversationMessage, values, unique="external_id")
        if message_id is None:
            return None
    else:
        message = ConversationMessage(**values)
        db.session.add(message)
        db.session.flush()
        message_id = message.id
    _waiting(ret.id, WAITING_ON_US)
    customer_wrote.send(ret, message_id=message_id)
    return message_id


class IdempotencyKeyReused(DomainError):
    status, type, title = 422, "idempotency-key-reused", "Idempotency-Key used for another reply"


def post_agent_reply(ret: Return, user: StaffUser, body: str | None, *,
                     channel: str = "email") -> ConversationMessage:
    """Record an agent's reply and have it sent (after commit, once): the return now waits
    on the customer."""
    message, _ = send_agent_reply(ret, user, body, channel=channel)
    return message


def send_agent_reply(ret: Return, user: StaffUser, body: str | None, *, channel: str = "email",
                     request_key: str | None = None) -> tuple[ConversationMessage, bool]:
    """post_agent_reply, recorded once per `request_key` (the caller's Idempotency-Key):
    the same key again answers the first reply, sends nothing, and says it replayed
    (IdempotencyKeyReused if it came with another text or channel)."""
    if channel not in ("email", "sms"):
        raise ValidationFailed({"channel": ["Choose email or SMS."]})
    text = _clean_body(body)
    values = {"return_id": ret.id, "channel": channel, "direction": "outbound",
              "author_type": "staff", "author_id": user.id,
              "author_label": user.name or user.email, "body": text, "attachments": None,
              "external_id": None, "created_at": utcnow()}
    if request_key is None:
        message = ConversationMessage(**values)
        db.session.add(message)
        db.session.flush()
    else:
        key = f"{user.id}:{request_key}"[:300]
        # A twin request running now waits on the unique index, then finds the first reply.
        message_id = insert_once(ConversationMessage, {**values, "request_key": key},
                                 unique="request_key")
        if message_id is None:
            first = db.session.scalar(select(ConversationMessage)
                                      .where(ConversationMessage.request_key == key))
            assert first is not None
            if (first.return_id, first.body, first.channel) != (ret.id, text, channel):
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was used for another reply: use a new key for "
                    "each reply, and the same one only to retry it.")
            return first, True
        found = db.session.get(ConversationMessage, message_id)
        assert found is not None
        message = found
    _waiting(ret.id, WAITING_ON_CUSTOMER)
    if channel == "sms":
        from returns_service.conversations.sms import queue_sms  # sms imports this module

        if queue_sms(ret, message.body, key=f"sms:{ret.rma}:message:{message.id}") is None:
            raise ValidationFailed({"channel": [
                "The customer has no SMS number for this return (or texted STOP)."]})
    agent_replied.send(ret, message=message)
    return message, False


def add_note(ret: Return, user: StaffUser, body: str | None) -> InternalNote:
    """A staff-only note; colleagues it @mentions (by email, or the part before the @) are
    told by email."""
    text = _clean_body(body)
    mentioned = mentioned_users(text, exclude=user.id)
    note = InternalNote(return_id=ret.id, author_id=user.id,
                        author_label=user.name or user.email, body=text,
                        mentions=[u.id for u in mentioned] or None, created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    if mentioned:
        staff_mentioned.send(ret, note=note, users=mentioned)
    return note


def mentioned_users(text: str, *, exclude: int | None = None) -> list[StaffUser]:
    """Active staff named by `@jane@shop.test` or `@jane` (the part of the email before
    the @) in `text`."""
    handles = {h.lower().rstrip(".") for h in _MENTION.findall(text)}
    if not handles:
        return []
    users = db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True))
                               .order_by(StaffUser.id)).all()
    found = [u for u in users if u.id != exclude and (
        u.email.lower() in handles or u.email.lower().partition("@")[0] in handles)]
    return found


def message_counts(return_ids: list[int]) -> dict[int, int]:
    """How many conversation messages each return has (for lists)."""
    if not return_ids:
        return {}
    rows = db.session.execute(
        select(ConversationMessage.return_id, func.count())
        .where(ConversationMessage.return_id.in_(return_ids))
        .group_by(ConversationMessage.return_id))
    return {rid: int(n) for rid, n in rows}
