"""Staff-only remarks on a return: a note in its audit trail the customer never sees, and the
"needs review" flag that asks a person to look (a possible double refund, a dispute)."""

from __future__ import annotations

from returns_service.common.clock import utcnow
from returns_service.returns.models import Return, ReturnEvent
from workflows.returns import Actor


def flag_for_review(ret: Return, reason: str, actor: Actor) -> None:
    """Ask a person to look at the return; noted in its (staff-only) audit trail."""
    ret.needs_review = True
    ret.review_reason = reason
    note_for_staff(ret, reason, actor, kind="flag")


def note_for_staff(ret: Return, note: str, actor: Actor, *, kind: str,
                   data: dict[str, object] | None = None) -> None:
    """Append an audit event customers do not see."""
    ret.add_event(ReturnEvent(kind=kind, actor_type=actor.type, actor_id=actor.id,
                              actor_label=actor.label, note=note, data=data,
                              customer_visible=False, created_at=utcnow()))
