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
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import joinedload

from returns_service.clock import utcnow
from returns_service.db_insert import insert_once
from returns_service.extensions import db
from returns_service.notifications.mailer import (
    MailNotConfigured,
    PermanentMailError,
    TransientMailError,
    send_message,
)
from returns_service.notifications.models import Notification
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.registry import RetryLater
from returns_service.outbox.service import emit
from returns_service.returns.models import Return, ReturnEvent, with_order_and_items

log = logging.getLogger(__name__)

TOPIC = "notification.send"
# A claim older than this is considered abandoned (the worker died mid-send) and retaken.
SENDING_STALE = timedelta(minutes=10)

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
}

CUSTOMER_NOTES = ("approved", "rejected", "cancelled")

SUBJECTS = {
    "requested": "We have your return request {rma}",
    "approved": "Your return {rma} is approved: how to send it back",
    "rejected": "About your return request {rma}",
    "cancelled": "Your return {rma} has been cancelled",
    "expired": "Your return {rma} has expired",
    "received": "We received your parcel for return {rma}",
    "refunded": "Your refund for return {rma} is on its way",
    "refund_failed": "Your refund for return {rma} is delayed: we are on it",
    "reminder": "Reminder: please send back your return {rma}",
    "escalation_digest": "{count} return request(s) waiting for a decision",
}


def dedupe_key(rma: str, step: str) -> str:
    return f"notify:{rma}:{step}"


# --- queueing (inside the caller's transaction) --------------------------------------------

def on_status_changed(ret: Return, event: ReturnEvent, **_: Any) -> None:
    """Signal receiver: queue the customer email for a customer-visible step."""
    step = STATUS_STEPS.get(str(event.to_status))
    if step is None:
        return
    data = dict(event.data or {})
    # Only agents' notes on decisions are meant for the customer; the warehouse's and the
    # payment provider's notes (refund failures) stay internal.
    context: dict[str, Any] = {"note": event.note} if step in CUSTOMER_NOTES else {}
    if step == "rejected":
        context["reason"] = data.get("reason")
    if step in ("refunded", "refund_failed"):
        context["refund_id"] = data.get("refund_id")
        context["amount"] = data.get("amount")
    queue_for_return(ret, step, context)


def queue_for_return(ret: Return, step: str, context: dict[str, Any] | None = None,
                     *, key: str | None = None) -> int | None:
    """Queue `step`'s email to the customer of `ret`: the notification id, or None when it
    was already queued."""
    return queue_email(ret.order.email, step, context or {}, key=key or dedupe_key(ret.rma, step),
                       ret=ret, subject=SUBJECTS[step].format(rma=ret.rma))


def queue_email(to_email: str, step: str, context: dict[str, Any], *, key: str, subject: str,
                ret: Return | None = None) -> int | None:
    """Write the notification, its timeline event and the outbox message; the notification's
    id, or None when it was already queued. The timeline event waits for the caller's next
    flush, with whatever else the change added."""
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
    if return_id is not None:
        _timeline(return_id, f"Email queued: {subject}", notification_id=note_id, step=step,
                  delivery="queued", to=to_email, attempts=0)
    return note_id


def _timeline(return_id: int, text: str, **data: Any) -> None:
    """One line on the staff timeline (never shown to the customer)."""
    db.session.add(ReturnEvent(
        return_id=return_id, kind="notification", actor_type="system",
        actor_label="notifications", note=text, customer_visible=False, created_at=utcnow(),
        data=data))


def _note_timeline(note: Notification, state: str, text: str) -> None:
    if note.return_id is not None:
        _timeline(note.return_id, text, notification_id=note.id, step=note.step,
                  delivery=state, to=note.to_email, attempts=note.attempts)


# --- delivery (in a job; commits its claim, leaves the "sent" record to the job) ----------

def deliver(notification_id: int) -> str:
    """Send one notification at most once. Raises RetryLater on transient SMTP trouble.

    Commits the claim before sending; the "sent" record is only flushed, for the caller
    (the outbox job) to commit together with its own bookkeeping."""
    from returns_service.notifications.render import build_message

    note = db.session.get(Notification, notification_id)
    if note is None:
        return "missing"
    if note.status in ("sent", "failed", "skipped"):
        return f"already {note.status}"
    superseded_by = _superseded_by(note)
    if superseded_by is not None:
        return _skip(note, superseded_by)
    url = current_app.config.get("SMTP_URL")
    if not url:
        note.last_error = "SMTP_URL is not set; kept pending"
        db.session.commit()
        log.warning("SMTP_URL is not set: notification %s (%s to %s) kept pending. Configure "
                    "SMTP_URL; `flask notify tick` then sends it.", note.id, note.step,
                    note.to_email)
        return "held: SMTP_URL is not set"
    if not claim(notification_id):
        db.session.rollback()
        return "claimed by another worker or already sent"
    note = _load_for_rendering(notification_id)
    try:
        message = build_message(note)
        send_message(url, message, timeout=float(current_app.config["SMTP_TIMEOUT_SECONDS"]))
    except PermanentMailError as exc:
        _finish(note, "failed", error=str(exc))
        log.error("notification %s refused by the mail server: %s", note.id, exc)
        return "failed"
    except (TransientMailError, MailNotConfigured) as exc:
        _finish(note, "pending", error=str(exc))
        raise RetryLater(f"notification {note.id}: {exc}") from exc
    except Exception as exc:  # a rendering bug: keep the row, let the job retry and alert
        db.session.rollback()
        _finish(db.session.get(Notification, notification_id), "pending",
                error=f"{type(exc).__name__}: {exc}")
        raise
    # Left for the caller's commit: the outbox commits it with the job's processed mark, one
    # transaction instead of two. Were that commit lost, the claim runs out and the email is
    # sent again: at least once, never silently dropped.
    _finish(note, "sent", message_id=message["Message-ID"], commit=False)
    return "sent"


_FOR_RENDERING = (  # built once: every email job runs it
    select(Notification).where(Notification.id == bindparam("id"))
    .options(joinedload(Notification.return_).options(*with_order_and_items())))


def _load_for_rendering(notification_id: int) -> Notification:
    """The notification with everything its email shows (return, order, items and their
    order lines) in one query: one row per item."""
    return db.session.execute(_FOR_RENDERING, {"id": notification_id}).unique().scalar_one()


def _superseded_by(note: Notification) -> Notification | None:
    """A "we have your request" email not sent yet when the decision is already out (the
    policy approved it at once, or an agent was quicker than the queue) would only confuse:
    the decision email says everything."""
    if note.step != "requested" or note.return_ is None or note.return_.status == "requested":
        return None
    return db.session.scalar(select(Notification).where(
        Notification.return_id == note.return_id, Notification.id != note.id,
        Notification.step.in_(("approved", "rejected", "cancelled"))).limit(1))


def _skip(note: Notification, superseded_by: Notification) -> str:
    result = db.session.execute(
        update(Notification).where(Notification.id == note.id,
                                   Notification.status == "pending")
        .values(status="skipped", last_error=None)
        .execution_options(synchronize_session=False))
    if result.rowcount == 1:  # type: ignore[attr-defined]
        db.session.refresh(note)
        _note_timeline(note, "skipped", f"Email not sent: the {superseded_by.step} email "
                       "already tells the customer.")
    db.session.commit()
    return "skipped"


def claim(notification_id: int) -> bool:
    """Atomically move pending (or abandoned sending) -> sending, and commit. True if ours."""
    now = utcnow()
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id,
               or_(Notification.status == "pending",
                   and_(Notification.status == "sending",
                        Notification.claimed_at < now - SENDING_STALE)))
        .values(status="sending", claimed_at=now, attempts=Notification.attempts + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    db.session.commit()
    return True


def _finish(note: Notification | None, status: str, *, error: str | None = None,
            message_id: str | None = None, commit: bool = True) -> None:
    """Record the outcome on `note` (loaded after the claim, in this transaction)."""
    if note is None:
        return
    note.status = status
    note.last_error = error
    if status == "sent":
        note.sent_at = utcnow()
        note.message_id = message_id
    text = {"sent": f"Email sent to {note.to_email}: {note.subject}",
            "failed": f"Email refused by the mail server: {error}",
            "pending": f"Email delivery failed (attempt {note.attempts}), will retry: "
                       f"{error}"}[status]
    _note_timeline(note, status if status != "pending" else "retrying", text)
    if commit:
        db.session.commit()
    else:
        db.session.flush()


# --- held or abandoned notifications ---------------------------------------------------------

def resend_stuck(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Queue again notifications still pending (SMTP was unset, retries ran out) or stuck
    in `sending`, unless an outbox message for them is still waiting. Commits."""
    now = utcnow()
    rows = db.session.scalars(
        select(Notification).where(
            or_(and_(Notification.status == "pending", Notification.created_at <= now - older_than),
                and_(Notification.status == "sending",
                     Notification.claimed_at < now - SENDING_STALE)))
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
