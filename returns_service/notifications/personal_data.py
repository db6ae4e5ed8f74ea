"""What notifications keep of the customer (the address each email went to, its subject and
the context it was written from), its eraser and exporter. When, which step and whether it
was sent stay."""

from __future__ import annotations

from typing import Any

from sqlalchemy import null, or_, select, update

from returns_service.db import db
from returns_service.notifications.models import Notification
from returns_service.privacy import Scope
from returns_service.returns.models import ReturnEvent

ERASED_TO = "erased@erased.invalid"


def _of(scope: Scope) -> Any:
    return or_(Notification.return_id.in_(scope.return_ids),
               Notification.to_email.in_(scope.emails))


def erase_notifications(scope: Scope) -> int:
    """Forget where each email went and what it said; the trail's notification events
    (which name the address too) keep their step and delivery only."""
    changed = db.session.execute(update(Notification).where(
        _of(scope), Notification.to_email != ERASED_TO)
        .values(to_email=ERASED_TO, subject=None, context=null(), last_error=None)
        .execution_options(synchronize_session=False)).rowcount
    events = db.session.execute(select(ReturnEvent.id, ReturnEvent.data).where(
        ReturnEvent.return_id.in_(scope.return_ids), ReturnEvent.kind == "notification")).all()
    for event_id, data in events:
        if data and data.get("to"):
            db.session.execute(update(ReturnEvent).where(ReturnEvent.id == event_id)
                               .values(data={**data, "to": None})
                               .execution_options(synchronize_session=False))
            changed += 1
    return changed


def export_notifications(scope: Scope) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(Notification).where(_of(scope)).order_by(Notification.id))
    return [{"step": row.step, "to": row.to_email, "subject": row.subject,
             "status": row.status, "at": row.created_at.isoformat(),
             "sent_at": row.sent_at.isoformat() if row.sent_at else None} for row in rows]
