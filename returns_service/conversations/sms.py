"""SMS as a second channel: the customer opts in with a phone number on the status page;
status updates and agents' replies go out by SMS through Twilio, at most once each;
Twilio's delivery callbacks move a message's status forward; the customer's texts join the
conversation; STOP (and its synonyms) stops every SMS to the number, START lifts it.

Twilio has no idempotency key, so a message is claimed (pending -> sending, committed)
before the call: a job run twice, or after a crash mid-call, never sends it again. A call
whose outcome is unknown is recorded `failed` with the reason, for a person to look at.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import select, update

from returns_service.common.clock import utcnow
from returns_service.common.errors import RetryLater, ValidationFailed
from returns_service.conversations.models import SmsMessage, SmsPhone
from returns_service.conversations.services import post_customer_message
from returns_service.conversations.twilio_sms import (
    SmsNotConfigured,
    SmsRefused,
    SmsUnavailable,
    configured,
    send_sms,
)
from returns_service.db import db
from returns_service.db.insert_once import insert_once
from returns_service.outbox.service import emit
from returns_service.returns.links import public_url, status_url
from returns_service.returns.models import Return

log = logging.getLogger(__name__)
TOPIC = "sms.send"
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}
# Twilio's statuses, ranked: a callback never moves a message backwards.
RANK = {"pending": 0, "sending": 1, "accepted": 2, "queued": 2, "sent": 3, "delivered": 4,
        "undelivered": 4, "failed": 4, "stopped": 4}
STATUS_TEXTS = {
    "approved": "is approved. How to send it back",
    "rejected": "could not be accepted. Why",
    "received": "arrived at our warehouse. Details",
    "refunded": "is refunded. Details",
    "cancelled": "is cancelled. Details",
    "expired": "has expired. Details",
}


def normalise_phone(text: str | None) -> str:
    """E.164 (`+` and digits) from what a person types (spaces, dashes, brackets)."""
    phone = re.sub(r"[\s().-]", "", text or "")
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not E164.match(phone):
        raise ValidationFailed({"phone": ["Enter the number with its country code, "
                                          "e.g. +44 7700 900123."]})
    return phone


def opt_in(ret: Return, phone_text: str | None) -> str:
    """The customer asks for SMS about this return on `phone` (a new opt-in lifts an
    earlier STOP for this return)."""
    phone = normalise_phone(phone_text)
    row = db.session.get(SmsPhone, ret.id)
    if row is None:
        db.session.add(SmsPhone(return_id=ret.id, phone=phone, created_at=utcnow()))
    else:
        row.phone, row.stopped_at = phone, None
    db.session.flush()
    return phone


def active_phone(return_id: int) -> str | None:
    row = db.session.get(SmsPhone, return_id)
    return row.phone if row is not None and row.stopped_at is None else None


def queue_sms(ret: Return, body: str, *, key: str) -> int | None:
    """Write the SMS and its outbox message in the caller's transaction; None when the
    customer has no active number or it was queued already."""
    phone = active_phone(ret.id)
    if phone is None:
        return None
    sms_id = insert_once(SmsMessage, {
        "return_id": ret.id, "dedupe_key": key, "to_phone": phone, "body": body[:1500],
        "status": "pending", "created_at": utcnow()}, unique="dedupe_key")
    if sms_id is not None:
        emit(TOPIC, {"sms_id": sms_id}, dedupe_key=key)
    return sms_id


def on_status_changed(ret: Return, event: Any, **_: Any) -> None:
    """Signal receiver: a status update by SMS to a customer who opted in."""
    text = STATUS_TEXTS.get(str(event.to_status))
    if text is not None and configured():  # no query on every change while SMS is off
        queue_sms(ret, f"Return {ret.rma} {text}: {status_url(ret.rma)}",
                  key=f"sms:{ret.rma}:{event.to_status}")


def deliver(sms_id: int) -> str:
    """Send one SMS at most once (the job of the `sms.send` outbox message)."""
    table = SmsMessage.__table__
    claimed = db.session.execute(
        update(table).where(table.c.id == sms_id, table.c.status == "pending")
        .values(status="sending").returning(table.c.return_id, table.c.to_phone,
                                            table.c.body)).first()
    if claimed is None:
        return "already claimed"
    if active_phone(claimed.return_id) != claimed.to_phone:  # STOP since it was queued
        _record(sms_id, "stopped", error="The customer said STOP.")
        return "stopped"
    db.session.commit()  # the claim, before Twilio is called
    try:
        sid, status = send_sms(claimed.to_phone, claimed.body,
                               public_url("/webhooks/twilio/status"))
    except SmsNotConfigured as exc:
        _record(sms_id, "pending", error=str(exc))
        db.session.commit()
        raise RetryLater(f"sms {sms_id}: {exc}") from exc
    except (SmsRefused, SmsUnavailable) as exc:
        _record(sms_id, "failed", error=str(exc))
        log.error("sms %s not sent: %s", sms_id, exc)
        return "failed"
    _record(sms_id, status if RANK.get(status, 0) >= RANK["sent"] else "sent", sid=sid)
    return "sent"


def _record(sms_id: int, status: str, *, error: str | None = None,
            sid: str | None = None) -> None:
    values: dict[str, Any] = {"status": status, "error": error}
    if sid:
        values.update(provider_sid=sid, sent_at=utcnow())
    db.session.execute(update(SmsMessage.__table__)
                       .where(SmsMessage.__table__.c.id == sms_id).values(**values))


def apply_delivery_status(sid: str, status: str, error_code: str | None = None) -> str:
    """A delivery callback: the message's status, only ever forward."""
    sms = db.session.scalar(select(SmsMessage).where(SmsMessage.provider_sid == sid)
                            .with_for_update())
    if sms is None:
        return "unknown"
    if RANK.get(status, -1) <= RANK.get(sms.status, 0):
        return "ignored"
    sms.status = status
    if error_code:
        sms.error = f"Twilio error {error_code}"
    return "applied"


def receive_sms(from_phone: str, body: str, sid: str) -> str:
    """A text from a customer: STOP/START, or a message for their latest return."""
    word = body.strip().upper()
    rows = db.session.scalars(select(SmsPhone).where(SmsPhone.phone == from_phone)
                              .order_by(SmsPhone.created_at.desc())).all()
    if word in STOP_WORDS:
        for row in rows:
            row.stopped_at = row.stopped_at or utcnow()
        return "stopped"
    if word in START_WORDS and rows:
        for row in rows:
            row.stopped_at = None
        return "started"
    active = [row for row in rows if row.stopped_at is None]
    if not active:
        return "ignored"
    ret = db.session.get(Return, active[0].return_id)
    if ret is None:
        return "ignored"
    recorded = post_customer_message(ret, body, channel="sms", external_id=f"sms:{sid}")
    return "recorded" if recorded is not None else "duplicate"
