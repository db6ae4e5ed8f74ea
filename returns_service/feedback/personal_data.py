"""What feedback keeps in the customer's words (the comment), its eraser and exporter: the
ratings stay, so the satisfaction figures do."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from returns_service.db import db
from returns_service.feedback.models import Feedback
from returns_service.privacy import Scope


def erase_comments(scope: Scope) -> int:
    return db.session.execute(update(Feedback).where(
        Feedback.return_id.in_(scope.return_ids), Feedback.comment.is_not(None))
        .values(comment=None).execution_options(synchronize_session=False)).rowcount


def export_feedback(scope: Scope) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(Feedback).where(Feedback.return_id.in_(scope.return_ids))
                              .order_by(Feedback.id))
    return [{"return_id": row.return_id, "rating": row.rating, "nps": row.nps,
             "comment": row.comment, "at": row.created_at.isoformat()} for row in rows]
