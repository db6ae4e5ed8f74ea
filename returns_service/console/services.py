"""Console use cases that are not plain return transitions: the decision queue with its
first-response clock, a customer's history, eligibility notes, refund problems, refund retry,
ordering a return on a customer's behalf, and staff user management."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from returns_service.common.clock import utcnow
from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.conversations import work
from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.orders.services import find_customer_order, get_order
from returns_service.refunds import services as refunds
from returns_service.refunds.models import Refund
from returns_service.returns import services as returns
from returns_service.returns.models import Return
from returns_service.staff.models import ApiToken, StaffUser
from returns_service.staff.permissions import TRIGGER_ACTIONS, user_may
from returns_service.staff.services import end_access
from workflows.returns import Actor, Status, allowed_triggers

ASSISTED_CHANNELS = ("phone", "email", "chat")


# --- the decision queue ------------------------------------------------------------------

@dataclass(frozen=True)
class QueueRow:
    ret: Return
    age: timedelta
    breached: bool  # waiting for a decision longer than the first-response target

    @property
    def age_text(self) -> str:
        return format_age(self.age)


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    per_page: int
    target_hours: int
    view: str = "all"
    counts: dict[str, int] | None = None  # returns in each workspace view
    states: dict[int, Any] | None = None  # return id -> its work state (assignee, waiting)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def breached_count(self) -> int:
        return sum(1 for row in self.rows if row.breached)


def format_age(age: timedelta) -> str:
    """A waiting time as staff say it: '3 d 4 h', '5 h 12 min', '7 min'."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def first_response_breached(ret: Return, now: datetime, target_hours: int) -> bool:
    """A return still waiting for a decision after the target has breached it."""
    return ret.status == Status.REQUESTED and now - ret.created_at > timedelta(hours=target_hours)


def decision_queue(*, status: str | None = Status.REQUESTED.value, channel: str | None = None,
                   reason: str | None = None, q: str | None = None, page: int = 1,
                   per_page: int = 25, now: datetime | None = None, view: str = "all",
                   user_id: int | None = None) -> QueuePage:
    """Returns matching the filters, those a customer waits on first, then oldest first,
    each with its age and breach flag; `view` narrows to a workspace view (Mine…)."""
    now = now or utcnow()
    target = int(current_app.config["FIRST_RESPONSE_TARGET_HOURS"])
    page = max(1, page)
    view = view if view in work.VIEWS else "all"
    rows, total = returns.list_returns(
        status=[status] if status else None, channel=channel or None, reason=reason or None,
        q=q or None, page=page, per_page=per_page, oldest_first=True,
        where=work.view_conditions(view, user_id or 0), first=work.waiting_on_us_first())
    base = (Return.status == status,) if status else ()
    return QueuePage(
        rows=[QueueRow(r, now - r.created_at, first_response_breached(r, now, target))
              for r in rows],
        total=total, page=page, per_page=per_page, target_hours=target, view=view,
        counts=work.view_counts(base, user_id or 0),
        states=work.states_of([r.id for r in rows]))


# --- what the detail page shows ----------------------------------------------------------

@dataclass(frozen=True)
class CustomerHistory:
    returns: list[Return]  # the customer's other returns, newest first
    refunded: dict[str, int]  # currency -> minor units refunded (succeeded refunds)

    @property
    def count(self) -> int:
        return len(self.returns)


def customer_history(ret: Return) -> CustomerHistory:
    """The same customer's (order email's) other returns and what was refunded on them."""
    others = list(db.session.scalars(
        select(Return).join(Order, Order.id == Return.order_id)
        .where(Order.email == ret.order.email, Return.id != ret.id)
        .order_by(Return.created_at.desc(), Return.id.desc())))
    refunded: dict[str, int] = {}
    if others:
        rows = db.session.execute(
            select(Refund.currency, func.sum(Refund.amount))
            .where(Refund.return_id.in_([r.id for r in others]), Refund.status == "succeeded")
            .group_by(Refund.currency))
        refunded = {currency: int(amount) for currency, amount in rows}
    return CustomerHistory(others, refunded)


def eligibility_notes(ret: Return) -> list[str]:
    """Plain-language facts an agent weighs before deciding."""
    policy = returns.current_policy()
    order = ret.order
    deadline = policy.return_deadline(order.channel, order.placed_at, order.delivered_at)
    notes = []
    if ret.created_at <= deadline:
        notes.append(f"Requested within the {policy.window_for(order.channel)}-day window "
                     f"(deadline {deadline:%-d %B %Y}).")
    else:
        notes.append(f"Requested after the return deadline of {deadline:%-d %B %Y}.")
    if order.delivered_at is None:
        notes.append("The order has no delivery date; the window counts from the order date.")
    faults = [i for i in ret.items if (r := policy.reason(i.reason)) and r.merchant_fault]
    if faults:
        notes.append("The customer reports a problem on our side: no restocking fee, and "
                     "shipping is refunded.")
    elif policy.restocking_fee_percent:
        notes.append(f"Restocking fee of {policy.restocking_fee_percent}% applies.")
    if any(i.order_line.final_sale for i in ret.items):
        notes.append("Includes a final-sale item.")
    if ret.needs_review:
        notes.append(f"Flagged for review: {ret.review_reason or 'no reason given'}.")
    return notes


def reason_label(code: str) -> str:
    reason = returns.current_policy().reason(code)
    return reason.label if reason else code


def rejection_reason_label(code: str | None) -> str:
    if not code:
        return ""
    reason = returns.current_policy().rejection_reason(code)
    return reason.label if reason else code


def actions_for(ret: Return, user: StaffUser) -> list[str]:
    """Console actions the state machine allows now and the user's role permits."""
    return [t for t in allowed_triggers(ret.status)
            if t in TRIGGER_ACTIONS and user_may(user, TRIGGER_ACTIONS[t])]


# --- refund problems ---------------------------------------------------------------------

@dataclass(frozen=True)
class RefundProblem:
    ret: Return
    refund: Refund | None  # our latest attempt that failed: what Stripe said about it


def refund_problems() -> list[RefundProblem]:
    """Returns whose refund failed, longest-waiting first, with our latest failed attempt
    (not a dashboard refund recorded after it, which says nothing about the failure)."""
    rows = db.session.scalars(select(Return).where(Return.status == Status.REFUND_FAILED.value)
                              .order_by(Return.status_changed_at, Return.id)).all()
    latest: dict[int, Refund] = {}
    for refund in db.session.scalars(select(Refund).where(
            Refund.return_id.in_([r.id for r in rows]), Refund.origin == "service",
            Refund.status.in_(("failed", "canceled"))).order_by(Refund.attempt)):
        latest[refund.return_id] = refund  # ascending attempts: the last one wins
    return [RefundProblem(ret, latest.get(ret.id)) for ret in rows]


def retry_refund(rma: str, actor: Actor, *, expected_version: int | None = None) -> Return:
    """Start a new refund attempt for a return whose refund failed: the refunds service
    decides the amount (what is still owed) and uses a new idempotency key."""

    refund = refunds.retry_refund(rma, actor, expected_version=expected_version)
    assert refund.return_ is not None
    return refund.return_


# --- returns on a customer's behalf ------------------------------------------------------

def find_order(number: str, email: str | None) -> Order:
    """The order by number (and email, when the agent checked it with the customer)."""
    number = (number or "").strip()
    if not number:
        raise ValidationFailed({"order_number": ["Enter the order number."]})
    try:
        return find_customer_order(number, email) if email else get_order(number)
    except NotFound as exc:
        raise ValidationFailed({"order_number": [
            "No order with this number and email." if email else f"No order {number}."]}
        ) from exc


def create_assisted_return(order: Order, items: list[dict[str, Any]], *, channel: str,
                           actor: Actor, request_key: str | None = None) -> Return:
    """A return an agent files for a customer; the same policy checks as the public form."""
    if channel not in ASSISTED_CHANNELS:
        raise ValidationFailed({"channel": [f"Must be one of: {', '.join(ASSISTED_CHANNELS)}."]})
    return returns.create_return(order, items, channel=channel, actor=actor,
                                 request_key=request_key)


# --- staff users -------------------------------------------------------------------------

def list_staff() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.email)))


def live_tokens_by_user() -> dict[int, list[ApiToken]]:
    """API tokens not revoked, per user id, newest first: for the admins' users page (their
    last use and expiry)."""
    tokens: dict[int, list[ApiToken]] = {}
    for row in db.session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None))
                                  .order_by(ApiToken.created_at.desc())):
        tokens.setdefault(row.user_id, []).append(row)
    return tokens


def set_user_active(user_id: int, active: bool, *, by: StaffUser) -> StaffUser:
    """Disable or re-enable a staff user; nobody can lock themselves out."""
    user = db.session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"No staff user {user_id}.")
    if user.id == by.id and not active:
        raise ValidationFailed({"user": ["You cannot disable your own account."]})
    user.active = active
    if not active:  # for good: re-enabling brings back no session and no token
        end_access(user)
    db.session.flush()
    return user
