"""Customer and staff emails: queue them with the change that caused them, deliver them once.

Queueing happens inside the caller's transaction: a Notification row, an audit event on the
return's timeline and an outbox message, all committed (or rolled back) together. Delivery
claims the row with one conditional UPDATE before talking to SMTP, so two workers (or a job
run twice) never both send; SMTP trouble puts the row back to `pending` for a retry.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import Row, and_, bindparam, case, insert, or_, select, update

from returns_service.common.clock import utcnow
from returns_service.common.i18n import N_, customer_language
from returns_service.db import db
from returns_service.db.constants import one_of
from returns_service.db.insert_once import insert_once
from returns_service.db.loaded import object_from_row
from returns_service.notifications.mailer import (
    MailNotConfigured,
    PermanentMailError,
    TransientMailError,
    send_message,
)
from returns_service.notifications.models import Notification
from returns_service.notifications.render import build_message, envelope, return_locale
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.registry import RetryLater
from returns_service.outbox.service import emit
from returns_service.returns.links import public_url
from returns_service.returns.locking import read_return
from returns_service.returns.models import Return, ReturnEvent
from workflows.returns import CUSTOMER_NOTE_TRIGGERS

log = logging.getLogger(__name__)

TOPIC = "notification.send"
# A claim older than this is considered abandoned (the worker died mid-send) and retaken.
FINAL = ("sent", "failed", "skipped")  # a notification in one of these is never sent again
# A notification as loaded, or the fields of one that the claim's UPDATE answered.
NoteFields = Notification | Row[Any]

# Return status reached -> the customer email it triggers. `refund_pending` needs none (the
# "received" email already says the refund is on its way); `closed` follows `received` in
# the same transaction and the received email explains that nothing qualified.
STATUS_STEPS = {
    "requested": "requested",
    "approved": "approved",
    "rejected": "rejected",
    "cancelled": "cancelled",
    "expired": "expired",
    "received": "received",
    "refunded": "refunded",
    "refund_failed": "refund_failed",
    "credited": "credited",
}

# The decisions on a request: each makes a "we have your request" email not sent yet
# superfluous. (Which notes reach the customer is the workflow's CUSTOMER_NOTE_TRIGGERS.)
DECISIONS = ("approved", "rejected", "cancelled")

# Customer subjects are translated when queued, in the return's language (escalation
# digests go to staff, in English).
SUBJECTS = {
    "requested": N_("We have your return request %(rma)s"),
    "approved": N_("Your return %(rma)s is approved: how to send it back"),
    "rejected": N_("About your return request %(rma)s"),
    "cancelled": N_("Your return %(rma)s has been cancelled"),
    "expired": N_("Your return %(rma)s has expired"),
    "received": N_("We received your parcel for return %(rma)s"),
    "refunded": N_("Your refund for return %(rma)s is on its way"),
    "refund_failed": N_("Your refund for return %(rma)s is delayed: we are on it"),
    "credited": N_("Your store credit for return %(rma)s is ready"),
    "reminder": N_("Reminder: please send back your return %(rma)s"),
    "exchange_instant_ordered": N_("Your exchange for return %(rma)s: the new item is on its way"),
    "exchange_shipped": N_("Your exchange for return %(rma)s is on its way"),
    "exchange_charged": N_("Your return %(rma)s did not arrive: your card was charged"),
    "label_ready": N_("Your prepaid return label for %(rma)s is ready"),
    "parcel_on_its_way": N_("Your return parcel %(rma)s is on its way to us"),
    "parcel_delivered": N_("Your return parcel %(rma)s has reached our warehouse"),
    "agent_reply": N_("About your return %(rma)s"),
    # To staff: the console and its emails speak English.
    "escalation_digest": "{count} return request(s) waiting for a decision",
    "mention": "{author} mentioned you on return {rma}",
}


def sending_stale() -> timedelta:
    """How long a claim on an email holds before another worker may take it over."""
    return timedelta(seconds=int(current_app.config["EMAIL_CLAIM_STALE_SECONDS"]))


def dedupe_key(rma: str, step: str) -> str:
    return f"notify:{rma}:{step}"


# --- queueing (inside the caller's transaction) --------------------------------------------

def on_status_changed(ret: Return, event: ReturnEvent, **_: Any) -> None:
    """Signal receiver: queue the customer email for a customer-visible step."""
    step = STATUS_STEPS.get(str(event.to_status))
    if step is None:
        return
    data = dict(event.data or {})
    # Only notes on the triggers the workflow writes to the customer (agents' decisions)
    # go in the email; the warehouse's and the payment provider's notes stay internal.
    context: dict[str, Any] = \
        {"note": event.note} if event.trigger in CUSTOMER_NOTE_TRIGGERS else {}
    if step == "rejected":
        context["reason"] = data.get("reason")
    if step in ("refunded", "refund_failed"):
        context["refund_id"] = data.get("refund_id")
        context["amount"] = data.get("amount")
    queue_for_return(ret, step, context)


# Shipment status reached -> the customer email it triggers (shipping.signals).
SHIPMENT_STEPS = {"label_ready": "label_ready", "in_transit": "parcel_on_its_way",
                  "delivered": "parcel_delivered"}


def on_shipment_changed(_shipment: Any, *, return_: Return, status: str, **_: Any) -> None:
    """Signal receiver: queue the customer email for a shipment step (label ready, on its
    way, delivered), in the transaction that moved the shipment."""
    step = SHIPMENT_STEPS.get(str(status))
    if step is not None:
        queue_for_return(return_, step)


def queue_for_return(ret: Return, step: str, context: dict[str, Any] | None = None,
                     *, key: str | None = None) -> int | None:
    """Queue `step`'s email to the customer of `ret`: the notification id, or None when it
    was already queued."""
    return queue_email(ret.order.email, step, context or {}, key=key or dedupe_key(ret.rma, step),
                       ret=ret, subject=customer_subject(ret, step))


def customer_subject(ret: Return, step: str) -> str:
    """The subject of `step`'s email in the customer's language (see return_locale)."""
    with customer_language(return_locale(ret)):
        return gettext(SUBJECTS[step], rma=ret.rma)


def queue_email(to_email: str, step: str, context: dict[str, Any], *, key: str, subject: str,
                ret: Return | None = None) -> int | None:
    """Write the notification, its timeline event and the outbox message; the notification's
    id, or None when it was already queued. The timeline event waits for the caller's next
    save, with whatever else the change added."""
    return_id = ret.id if ret is not None else None
    if ret is not None and return_id is None:
        raise ValueError("queue_email needs a return that is already in the database")
    with db.session.no_autoflush:  # these INSERTs need no pending row to be written first
        note_id = insert_once(Notification, {  # a concurrent transaction may queue it first
            "return_id": return_id, "step": step, "dedupe_key": key, "to_email": to_email,
            "subject": subject, "status": "pending", "context": context, "attempts": 0},
            unique="dedupe_key")
        if note_id is None:
            return None
        emit(TOPIC, {"notification_id": note_id}, dedupe_key=key)
    if ret is not None:  # written with the rest of the change (returns.writes)
        ret.add_event(ReturnEvent(**_timeline_values(
            ret.id, f"Email queued: {subject}", notification_id=note_id, step=step,
            delivery="queued", to=to_email, attempts=0)))
    return note_id


def on_agent_replied(ret: Return, message: Any, **_: Any) -> None:
    """Signal receiver: an agent's reply goes to the customer by email, once (its dedupe
    key is the message's id)."""
    if message.channel != "email":
        return
    queue_for_return(ret, "agent_reply", {"body": message.body, "author": message.author_label,
                                          "message_id": message.id},
                     key=f"notify:{ret.rma}:message:{message.id}")


def on_staff_mentioned(ret: Return, note: Any, users: list[Any], **_: Any) -> None:
    """Signal receiver: each colleague an internal note @mentions gets an email (staff
    only: no return attached, so no customer reply address and nothing on the timeline)."""
    for user in users:
        queue_email(user.email, "mention", {
            "rma": ret.rma, "author": note.author_label, "body": note.body,
            "url": public_url(f"/staff/returns/{ret.rma}")},
            key=f"mention:{note.id}:{user.id}",
            subject=SUBJECTS["mention"].format(author=note.author_label, rma=ret.rma))


def _timeline_values(return_id: int, text: str, **data: Any) -> dict[str, Any]:
    """The columns of a notification line on the staff timeline (never shown to the
    customer)."""
    return {"return_id": return_id, "kind": "notification", "actor_type": "system",
            "actor_label": "notifications", "note": text, "customer_visible": False,
            "created_at": utcnow(), "data": data}


# --- delivery (in a job; commits its claim, leaves the "sent" record to the job) ----------

def deliver(notification_id: int) -> str:
    """Send one notification at most once. Raises RetryLater on transient SMTP trouble.

    Claims the row before anything else, so that a job run twice, or two workers at once,
    learn from one UPDATE that it is not theirs; a superseded email is skipped in that same
    transaction, any other has its claim committed before SMTP is spoken to. The "sent" or
    "skipped" record is only written, for the caller (the outbox job) to commit with its own
    bookkeeping: were that commit lost, the job runs again and decides again."""

    url = current_app.config.get("SMTP_URL")
    if not url:
        return _hold(db.session.get(Notification, notification_id))
    taken = _take(notification_id)
    if taken is None:
        return _not_claimed(notification_id)
    if taken.superseded_by is not None:
        return _skip(taken, taken.superseded_by)
    db.session.commit()
    try:
        note = _load_for_rendering(taken)
        message = build_message(note)
        send_message(url, message, timeout=float(current_app.config["SMTP_TIMEOUT_SECONDS"]),
                     envelope=envelope(note))
    except PermanentMailError as exc:
        _finish(taken, "failed", error=str(exc))
        log.error("notification %s refused by the mail server: %s", taken.id, exc)
        return "failed"
    except (TransientMailError, MailNotConfigured) as exc:
        _finish(taken, "pending", error=str(exc))
        raise RetryLater(f"notification {taken.id}: {exc}") from exc
    except Exception as exc:  # a rendering bug: keep the row, let the job retry and alert
        db.session.rollback()
        # From the claimed row: whatever failed (loading included) must not stop the claim
        # from being handed back.
        _finish(taken, "pending", error=f"{type(exc).__name__}: {exc}")
        raise
    # Left for the caller's commit: the outbox commits it with the job's processed mark, one
    # transaction instead of two. Were that commit lost, the claim runs out and the email is
    # sent again: at least once, never silently dropped.
    _finish(note, "sent", message_id=message["Message-ID"], commit=False)
    return "sent"


def _hold(note: Notification | None) -> str:
    """SMTP_URL is not set: the notification stays pending, with a word why."""
    if note is None:
        return "missing"
    if note.status in FINAL:
        return f"already {note.status}"
    note.last_error = "SMTP_URL is not set; kept pending"
    db.session.commit()
    log.warning("SMTP_URL is not set: notification %s (%s) kept pending. Configure "
                "SMTP_URL; `flask notify tick` then sends it.", note.id, note.step)
    return "held: SMTP_URL is not set"


def _not_claimed(notification_id: int) -> str:
    """Why the claim found nothing to take: sent, refused or skipped already, or another
    worker is sending it right now."""
    status = db.session.scalar(select(Notification.status)
                               .where(Notification.id == notification_id))
    if status is None:
        return "missing"
    if status in FINAL:
        return f"already {status}"
    return "claimed by another worker or already sent"


def _load_for_rendering(taken: Row[Any]) -> Notification:
    """The notification with everything its email shows (its return, order, items and
    their order lines), read with Core statements (db.loaded: a fraction of the ORM's
    joined-load query). `taken`: the row our claim answered (it holds every column, and
    nobody else changes a claimed row), so only the return is read."""
    return_id = taken.return_id
    ret = read_return(return_id) if return_id is not None else None
    columns = taken[:len(_NOTIFICATIONS.c)]  # the claim's answer ends with superseded_by
    return object_from_row(db.session, Notification, columns, {"return_": ret})


def _skip(note: NoteFields, superseded_by: str) -> str:
    """Mark our claim on `note` skipped, for the caller to commit: the decision email says
    it all."""
    _record(note, "skipped", f"Email not sent: the {superseded_by} email already tells "
            "the customer.")
    return "skipped"


_NOTIFICATIONS = Notification.__table__
_DECIDED = _NOTIFICATIONS.alias("decided")
# A "we have your request" email not sent yet when the decision is already out (the policy
# approved it at once, or an agent was quicker than the queue) would only confuse: the
# decision email says everything. The step of that decision email, if there is one, read by
# the claim itself (one statement fewer for every such email).
_SUPERSEDED_BY = case(
    (_NOTIFICATIONS.c.step == "requested",
     select(_DECIDED.c.step).where(_DECIDED.c.return_id == _NOTIFICATIONS.c.return_id,
                                   one_of(_DECIDED.c.step, DECISIONS))
     .limit(1).scalar_subquery()),
    else_=None).label("superseded_by")
# Built once: every email job runs them. Core statements: the job has read what it needs.
_CLAIM = (
    update(_NOTIFICATIONS)
    .where(_NOTIFICATIONS.c.id == bindparam("note_id"),
           or_(_NOTIFICATIONS.c.status == "pending",
               and_(_NOTIFICATIONS.c.status == "sending",
                    _NOTIFICATIONS.c.claimed_at < bindparam("stale_before"))))
    .values(status="sending", claimed_at=bindparam("now"),
            attempts=_NOTIFICATIONS.c.attempts + 1)
    .returning(*_NOTIFICATIONS.c, _SUPERSEDED_BY))  # every column: the email is built from them
_OUTCOME = update(_NOTIFICATIONS).where(_NOTIFICATIONS.c.id == bindparam("note_id"))
_RECORD = _OUTCOME.values(status=bindparam("new_status"), last_error=bindparam("error"))
_RECORD_SENT = _OUTCOME.values(status="sent", last_error=None, sent_at=bindparam("sent_at"),
                               message_id=bindparam("sent_as"))
_TIMELINE = insert(ReturnEvent.__table__)


def _take(notification_id: int) -> Row[Any] | None:
    """Move pending (or abandoned sending) -> sending, not committed yet: the claimed row
    and its `superseded_by`, or None when it is not ours to send."""
    now = utcnow()
    return db.session.connection().execute(_CLAIM, {
        "note_id": notification_id, "now": now, "stale_before": now - sending_stale()}).first()


def _finish(note: NoteFields, status: str, *, error: str | None = None,
            message_id: str | None = None, commit: bool = True) -> None:
    """Record the outcome of our claim on `note` (loaded after the claim)."""
    text = {"sent": f"Email sent to {note.to_email}: {note.subject}",
            "failed": f"Email refused by the mail server: {error}",
            "pending": f"Email delivery failed (attempt {note.attempts}), will retry: "
                       f"{error}"}[status]
    _record(note, status, text, error=error, message_id=message_id)
    if commit:
        db.session.commit()


def _record(note: NoteFields, status: str, text: str, *, error: str | None = None,
            message_id: str | None = None) -> None:
    """The row's new status and its line on the timeline, in the current transaction."""
    connection = db.session.connection()  # Core statements: no ORM work around them
    if status == "sent":
        connection.execute(_RECORD_SENT, {"note_id": note.id, "sent_at": utcnow(),
                                          "sent_as": message_id})
    else:
        connection.execute(_RECORD, {"note_id": note.id, "new_status": status,
                                     "error": error})
    if note.return_id is not None:
        state = "retrying" if status == "pending" else status
        connection.execute(_TIMELINE, _timeline_values(
            note.return_id, text, notification_id=note.id, step=note.step, delivery=state,
            to=note.to_email, attempts=note.attempts))


# --- held or abandoned notifications ---------------------------------------------------------

def resend_stuck(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Queue again notifications still pending (SMTP was unset, retries ran out) or stuck
    in `sending`, unless an outbox message for them is still waiting. Commits. Without
    SMTP_URL nothing could go out: they wait, untouched, until it is set."""
    if not current_app.config.get("SMTP_URL"):
        return 0
    now = utcnow()
    rows = db.session.scalars(
        select(Notification).where(
            or_(and_(Notification.status == "pending", Notification.created_at <= now - older_than),
                and_(Notification.status == "sending",
                     Notification.claimed_at < now - sending_stale())))
        .order_by(Notification.id).limit(500)).all()
    count = 0
    for note in rows:
        prefix = note.dedupe_key
        keys = list(db.session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.like(f"{prefix}%"), OutboxMessage.processed_at.is_(None))))
        if keys:
            continue  # still on its way (the outbox relay handles those)
        sent_before = db.session.scalar(
            select(db.func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like(f"{prefix}%"))) or 0
        if emit(TOPIC, {"notification_id": note.id},
                dedupe_key=f"{prefix}#resend{sent_before}") is not None:
            count += 1
    db.session.commit()
    return count
