"""The notifications' periodic jobs: remind customers whose parcel has not arrived, send
agents the digest of requests waiting past the first-response target.

Registered with the scheduler by `returns_service.notifications.init_app`. Each is idempotent
(dedupe keys, status re-checked under the row lock), so ticks may overlap or run twice.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from returns_service.db import db
from returns_service.notifications import services
from returns_service.returns.links import public_url
from returns_service.returns.models import Return, ReturnEvent
from returns_service.staff.models import StaffUser

log = logging.getLogger(__name__)


def _days(name: str) -> timedelta:
    return timedelta(days=int(current_app.config[name]))


def remind_unshipped(now: datetime) -> int:
    """One reminder per return approved RETURN_REMINDER_DAYS ago whose parcel is not here."""
    cutoff = now - _days("RETURN_REMINDER_DAYS")
    rows = db.session.scalars(select(Return).where(
        Return.status == "approved", Return.status_changed_at <= cutoff).order_by(Return.id))
    count = 0
    for ret in rows:
        expires_on = ret.status_changed_at + _days("RETURN_EXPIRY_DAYS")
        if services.queue_for_return(ret, "reminder",
                                     {"expires_on": expires_on.isoformat()}) is not None:
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
