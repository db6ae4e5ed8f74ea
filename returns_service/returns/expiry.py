"""When an approved return expires: no parcel within RETURN_EXPIRY_DAYS of approval. A
periodic job, registered with the scheduler by `returns_service.returns.init_app`."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from returns_service.common.errors import EditConflict
from returns_service.db import db
from returns_service.returns.models import Return
from returns_service.returns.services import lock_return, transition
from workflows.returns import Actor, InvalidTransition


def expire_overdue(now: datetime) -> int:
    """Expire approved returns whose parcel has not arrived within RETURN_EXPIRY_DAYS."""
    cutoff = now - timedelta(days=int(current_app.config["RETURN_EXPIRY_DAYS"]))
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
