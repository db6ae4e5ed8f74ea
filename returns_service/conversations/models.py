"""Tables of the agents' workspace: the customer conversation of each return, the staff's
internal notes (a table of their own, so no query for the customer can ever reach them),
who works on a return and who it waits on, the admins' canned responses (macros), and the
round robin that hands new work to agents who are not away."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.types import JSONType, UTCDateTime

CHANNELS = ("email", "sms", "web")
DIRECTIONS = ("inbound", "outbound")  # inbound: from the customer; outbound: to them


class ConversationMessage(db.Model):
    """One message between the customer and the store about a return. Everything in this
    table may be shown to the customer: staff-only text goes to `InternalNote`."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        Index("ix_conversation_messages_return_id_id", "return_id", "id"),
        Index("ix_conversation_messages_direction_created_at", "direction", "created_at"),
        Index("ix_conversation_messages_request_key", "request_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))  # email, sms, web
    direction: Mapped[str] = mapped_column(String(8))  # inbound, outbound
    author_type: Mapped[str] = mapped_column(String(16))  # customer, staff
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    author_label: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    # Names, sizes and types of what came attached (the content is not stored yet).
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    # The provider's id of an inbound message (Message-ID, Twilio SID): a redelivery of the
    # same message is recorded once.
    external_id: Mapped[str | None] = mapped_column(String(300), unique=True)
    # An agent's reply sent through the API: "<staff user id>:<Idempotency-Key>", so the
    # same request retried records (and sends) the reply once.
    request_key: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InternalNote(db.Model):
    """A staff-only note on a return: never shown, sent or exported to the customer."""

    __tablename__ = "internal_notes"
    __table_args__ = (Index("ix_internal_notes_return_id_id", "return_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    author_label: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[int] | None] = mapped_column(JSONType)  # staff user ids
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkState(db.Model):
    """Who works on a return and whom it waits on: one row per return that has either."""

    __tablename__ = "return_work_states"
    __table_args__ = (Index("ix_return_work_states_waiting_on_since", "waiting_on",
                            "waiting_since"),)

    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"),
                                           primary_key=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    # "us" (the customer wrote last, nobody answered yet) or "customer" (we answered last)
    waiting_on: Mapped[str | None] = mapped_column(String(16))
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Macro(db.Model):
    """A canned response an admin wrote, with placeholders; it may also approve the return."""

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    body: Mapped[str] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(16))  # None or "approve"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SmsPhone(db.Model):
    """The phone number a customer opted in with for a return's SMS. STOP from that number
    stops every return's SMS to it (`stopped_at`), START lifts it."""

    __tablename__ = "sms_phones"

    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"),
                                           primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SmsMessage(db.Model):
    """One SMS to send, written with the change that caused it, sent at most once by a job;
    Twilio's delivery callbacks move its status forward."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"),
                                           index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    to_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    # pending, sending, sent (Twilio has it), delivered, undelivered, failed, stopped
    status: Mapped[str] = mapped_column(String(16), default="pending")
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AgentAvailability(db.Model):
    """Whether an agent is away (skipped by the round robin); no row: available."""

    __tablename__ = "agent_availability"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"),
                                         primary_key=True)
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AgentAvailabilityChange(db.Model):
    """The audit trail of availability: who marked whom away or back, and when."""

    __tablename__ = "agent_availability_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"),
                                         index=True)
    away: Mapped[bool] = mapped_column(Boolean)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoundRobinCursor(db.Model):
    """The one row of the round robin: the agent who got the last return. Locked by each
    auto-assignment, so concurrent ones take turns and none hands out the same turn."""

    __tablename__ = "round_robin_cursor"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    last_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
