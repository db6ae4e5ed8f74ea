"""Scheduled work, one `tick`: expire, remind, escalate, settle overdue pending refunds, and
pick up stuck work.

Every step is idempotent (dedupe keys, status re-checked under the row lock), so ticks may
overlap or run twice. Run it every few minutes: `flask notify tick --every 300`, cron, or
RQ's cron scheduler (see returns_service/notifications/cron.py).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from returns_service.clock import utcnow
from returns_service.errors import EditConflict
from returns_service.extensions import db
from returns_service.notifications import services
from returns_service.returns.links import public_url
from returns_service.returns.models import Return, ReturnEvent
from returns_service.staff.models import StaffUser
from workflows.returns import Actor, InvalidTransition

log = logging.getLogger(__name__)


def tick(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Run every scheduled step once; returns how much each one did."""
    from returns_service.outbox.relay import relay_pending
    from returns_service.refunds.services import poll_pending_refunds

    result: dict[str, int] = {}
    with app.app_context():
        now = now or utcnow()
        result["expired"] = expire_overdue(now)
        result["reminded"] = remind_unshipped(now)
        result["escalated"] = escalate_waiting(now)
        result["requeued_notifications"] = services.resend_stuck()
    result["relayed"] = relay_pending(app)
    with app.app_context():  # last: it waits on Stripe, the steps above do not
        result["refunds_settled"] = poll_pending_refunds(now)
    return result


def _days(name: str) -> timedelta:
    return timedelta(days=int(current_app.config[name]))


def expire_overdue(now: datetime) -> int:
    """Expire approved returns whose parcel has not arrived within RETURN_EXPIRY_DAYS."""
    from returns_service.returns.services import lock_return, transition

    cutoff = now - _days("RETURN_EXPIRY_DAYS")
    rmas = list(db.session.scalars(select(Return.rma).where(
        Return.status == "approved", Return.status_changed_at <= cutoff).order_by(Return.id)))
    count = 0
    for rma in rmas:
        try:
            ret = lock_return(rma)
            if ret.status != "approved" or ret.status_changed_at > cutoff:
                db.session.rollback()
                continue  # received or cancelled meanwhile
            transition(ret, "expire", Actor.system("expiry"),
                       note=f"No parcel within {current_app.config['RETURN_EXPIRY_DAYS']} days.")
            db.session.commit()  # the expired email is queued in this same transaction
            count += 1
        except (EditConflict, InvalidTransition):
            db.session.rollback()
    return count


def remind_unshipped(now: datetime) -> int:
    """One reminder per return approved RETURN_REMINDER_DAYS ago whose parcel is not here."""
    cutoff = now - _days("RETURN_REMINDER_DAYS")
    rows = db.session.scalars(select(Return).where(
        Return.status == "approved", Return.status_changed_at <= cutoff).order_by(Return.id))
    count = 0
    for ret in rows:
        expires_on = ret.status_changed_at + _days("RETURN_EXPIRY_DAYS")
        if services.queue_for_return(ret, "reminder",
                                     {"expires_on": f"{expires_on:%-d %B %Y}"}) is not None:
            count += 1
    db.session.commit()
    return count


def escalate_waiting(now: datetime) -> int:
    """Email active agents one digest of requests waiting past FIRST_RESPONSE_TARGET_HOURS.

    Each return is escalated once (an `escalation` event on its timeline marks it). Ticks
    running at once take disjoint returns: each row is locked until its mark is committed,
    and a tick skips the rows another one holds (PostgreSQL; SQLite runs one writer).
    """
    hours = int(current_app.config["FIRST_RESPONSE_TARGET_HOURS"])
    escalated = select(ReturnEvent.return_id).where(ReturnEvent.kind == "escalation")
    rows = list(db.session.scalars(select(Return).where(
        # Past the target, as the queue's "overdue" and the report's SLA count it: strictly.
        Return.status == "requested", Return.created_at < now - timedelta(hours=hours),
        Return.id.not_in(escalated)).order_by(Return.created_at)
        .with_for_update(skip_locked=True, of=Return)))
    if not rows:
        return 0
    agents = list(db.session.scalars(select(StaffUser).where(
        StaffUser.role == "agent", StaffUser.active.is_(True)).order_by(StaffUser.email)))
    if not agents:
        log.warning("%d return(s) wait past the first-response target but there is no active "
                    "agent to tell; create one with `flask users create`.", len(rows))
        db.session.rollback()  # let go of the rows' locks
        return 0
    summary: list[dict[str, Any]] = [{
        "rma": r.rma, "order_number": r.order.number, "customer": r.order.customer_name,
        "waiting_hours": int((now - r.created_at).total_seconds() // 3600),
        "url": public_url(f"/staff/returns/{r.rma}")} for r in rows]
    batch = hashlib.sha256(",".join(r.rma for r in rows).encode()).hexdigest()[:16]
    subject = services.SUBJECTS["escalation_digest"].format(count=len(rows))
    for agent in agents:
        services.queue_email(agent.email, "escalation_digest",
                             {"returns": summary, "target_hours": hours},
                             key=f"digest:{batch}:{agent.email}", subject=subject)
    for r in rows:
        db.session.add(ReturnEvent(
            return_id=r.id, kind="escalation", actor_type="system", actor_label="escalation",
            note=f"Waiting for a decision for more than {hours} h; "
                 f"{len(agents)} agent(s) alerted by email.",
            customer_visible=False, created_at=now,
            data={"agents": [a.email for a in agents], "batch": batch}))
    db.session.commit()
    return len(rows)
