"""Working the queue: who a return is assigned to (claim, assign, unassign) and the queue's
views ("Mine", "Unassigned", "Waiting on us", "Waiting on customer") with their counts.

Each assignment is written on the return's staff timeline (not shown to the customer).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select

from returns_service.common.clock import utcnow
from returns_service.common.errors import ValidationFailed
from returns_service.conversations.models import WorkState
from returns_service.conversations.services import (
    WAITING_ON_CUSTOMER,
    WAITING_ON_US,
    locked_state,
)
from returns_service.db import db
from returns_service.returns.models import Return, ReturnEvent
from returns_service.staff.models import StaffUser
from returns_service.staff.permissions import user_may

# view code -> label, in the order the queue shows them
VIEWS = {"all": "All", "mine": "Mine", "unassigned": "Unassigned",
         "waiting_on_us": "Waiting on us", "waiting_on_customer": "Waiting on customer"}


def assignable_staff() -> list[StaffUser]:
    """Active staff who may work the queue, by name."""
    users = db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True))
                               .order_by(StaffUser.name, StaffUser.email)).all()
    return [u for u in users if user_may(u, "console.decide")]


def assign(ret: Return, to_user_id: int | None, *, by: StaffUser) -> StaffUser | None:
    """Give the return to a colleague (or to nobody); the assignee, written on the timeline."""
    assignee = None
    if to_user_id is not None:
        assignee = db.session.get(StaffUser, to_user_id)
        if assignee is None or not assignee.active or not user_may(assignee, "console.decide"):
            raise ValidationFailed({"assignee": ["Choose someone who works the queue."]},
                                   "That person cannot be assigned returns.")
    state = locked_state(ret.id)
    if state.assignee_id == to_user_id:
        return assignee
    state.assignee_id = to_user_id
    if assignee is None:
        text = "Unassigned"
    elif assignee.id == by.id:
        text = f"Claimed by {by.name or by.email}"
    else:
        text = f"Assigned to {assignee.name or assignee.email}"
    ret.add_event(ReturnEvent(
        return_id=ret.id, kind="assignment", actor_type="staff", actor_id=by.id,
        actor_label=by.email, note=text, customer_visible=False, created_at=utcnow(),
        data={"assignee_id": to_user_id}))
    db.session.flush()
    return assignee


def assignee_of(return_id: int) -> StaffUser | None:
    state = db.session.get(WorkState, return_id)
    if state is None or state.assignee_id is None:
        return None
    return db.session.get(StaffUser, state.assignee_id)


def _states(**where: Any) -> Any:
    return select(WorkState.return_id).filter_by(**where)


def view_conditions(view: str, user_id: int) -> tuple[Any, ...]:
    """The conditions on `returns` of a queue view."""
    if view == "mine":
        return (Return.id.in_(_states(assignee_id=user_id)),)
    if view == "unassigned":
        return (Return.id.not_in(select(WorkState.return_id)
                                 .where(WorkState.assignee_id.is_not(None))),)
    if view == "waiting_on_us":
        return (Return.id.in_(_states(waiting_on=WAITING_ON_US)),)
    if view == "waiting_on_customer":
        return (Return.id.in_(_states(waiting_on=WAITING_ON_CUSTOMER)),)
    return ()


def waiting_on_us_first() -> tuple[Any, ...]:
    """Ordering that puts the returns a customer is waiting on at the top of the queue."""
    return (case((Return.id.in_(_states(waiting_on=WAITING_ON_US)), 0), else_=1),)


def view_counts(base: tuple[Any, ...], user_id: int) -> dict[str, int]:
    """How many returns each view holds, under the queue's other filters (`base`)."""
    return {view: int(db.session.scalar(
        select(func.count()).select_from(Return)
        .where(*base, *view_conditions(view, user_id))) or 0) for view in VIEWS}


def states_of(return_ids: list[int]) -> dict[int, WorkState]:
    if not return_ids:
        return {}
    return {s.return_id: s for s in db.session.scalars(
        select(WorkState).where(WorkState.return_id.in_(return_ids)))}
