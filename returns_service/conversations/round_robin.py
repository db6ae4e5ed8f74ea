"""Round-robin auto-assignment (`AUTO_ASSIGN`): a new return, or an unassigned one its
customer writes about, goes to the next agent in turn who is not away. Also owns the agents'
availability (away / available) and its audit trail.

Fair under concurrency: each assignment locks the one cursor row, so simultaneous ones take
turns in order, and the return's work state row, so a return is assigned once.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from returns_service.common.clock import utcnow
from returns_service.common.errors import ValidationFailed
from returns_service.conversations.models import (
    AgentAvailability,
    AgentAvailabilityChange,
    RoundRobinCursor,
)
from returns_service.conversations.services import locked_state
from returns_service.conversations.work import assignable_staff
from returns_service.db import db
from returns_service.returns.models import Return, ReturnEvent
from returns_service.staff.models import StaffUser
from returns_service.staff.permissions import user_may

ROUND_ROBIN = "round robin"  # the actor label of automatic assignments on the timeline


def enabled() -> bool:
    return bool(current_app.config.get("AUTO_ASSIGN"))


# --- availability -------------------------------------------------------------------------

def away_ids() -> set[int]:
    """Ids of the staff marked away."""
    return set(db.session.scalars(select(AgentAvailability.user_id)
                                  .where(AgentAvailability.away.is_(True))))


def may_change_availability(by: Any, user_id: int) -> bool:
    """Anyone who works the queue sets their own availability; admins set anyone's."""
    return by is not None and (user_may(by, "agents.availability") or (
        by.id == user_id and user_may(by, "return.assign")))


def set_away(user_id: int, away: bool, *, by: StaffUser) -> StaffUser:
    """Mark a colleague (or oneself) away or back; a change is written to the audit trail.
    The agent, who keeps the returns already assigned to them."""
    user = db.session.get(StaffUser, user_id)
    if user is None or not user.active or not user_may(user, "console.decide"):
        raise ValidationFailed({"user": ["Choose someone who works the queue."]},
                               "Only people who work the queue have an availability.")
    row = db.session.get(AgentAvailability, user_id, with_for_update=True)
    if row is not None and row.away == away:
        return user
    if row is None:
        if not away:
            return user  # no row: available already
        row = AgentAvailability(user_id=user_id)
        db.session.add(row)
    row.away, row.changed_at = away, utcnow()
    db.session.add(AgentAvailabilityChange(user_id=user_id, away=away, actor_id=by.id,
                                           actor_label=by.email, created_at=row.changed_at))
    db.session.flush()
    return user


def availability() -> list[tuple[StaffUser, bool]]:
    """Everyone who works the queue, by name, and whether they are away."""
    away = away_ids()
    return [(u, u.id in away) for u in assignable_staff()]


def changes_of(user_id: int, limit: int = 20) -> list[AgentAvailabilityChange]:
    """The latest availability changes of one person, newest first."""
    return list(db.session.scalars(
        select(AgentAvailabilityChange).where(AgentAvailabilityChange.user_id == user_id)
        .order_by(AgentAvailabilityChange.id.desc()).limit(limit)))


# --- the turn -----------------------------------------------------------------------------

def _locked_cursor() -> RoundRobinCursor:
    connection = db.session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(insert(RoundRobinCursor.__table__).values(id=1, last_user_id=None)
                       .on_conflict_do_nothing(index_elements=["id"]))
    cursor = db.session.get(RoundRobinCursor, 1, populate_existing=True, with_for_update=True)
    assert cursor is not None
    return cursor


def next_in_turn(last_user_id: int | None) -> StaffUser | None:
    """The first available agent after `last_user_id` in id order, wrapping round."""
    away = away_ids()
    agents = sorted((u for u in assignable_staff() if u.id not in away), key=lambda u: u.id)
    if not agents:
        return None
    after = [u for u in agents if last_user_id is not None and u.id > last_user_id]
    return (after or agents)[0]


def auto_assign(ret: Return) -> StaffUser | None:
    """Give an unassigned return to the next agent in turn (when `AUTO_ASSIGN` is on); the
    agent, or None when it is off, the return has someone, or everyone is away."""
    if not enabled():
        return None
    state = locked_state(ret.id)  # first: two messages on one return assign it once
    if state.assignee_id is not None:
        return None
    cursor = _locked_cursor()
    agent = next_in_turn(cursor.last_user_id)
    if agent is None:
        return None
    state.assignee_id = cursor.last_user_id = agent.id
    ret.add_event(ReturnEvent(
        return_id=ret.id, kind="assignment", actor_type="system", actor_id=None,
        actor_label=ROUND_ROBIN, note=f"Assigned to {agent.name or agent.email} (round robin)",
        customer_visible=False, created_at=utcnow(),
        data={"assignee_id": agent.id, "round_robin": True}))
    return agent


def on_status_changed(ret: Return, event: Any, **_: Any) -> None:
    """Signal receiver: a new return joins the round robin."""
    if event.trigger == "request" and enabled():
        auto_assign(ret)


def on_customer_wrote(ret: Return, **_: Any) -> None:
    """Signal receiver: an unassigned return the customer writes about joins the round robin."""
    auto_assign(ret)
