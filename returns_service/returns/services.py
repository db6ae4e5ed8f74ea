"""Return use cases: request, decide (approve/reject/cancel), receive, list and read.

Every status change goes through workflows.returns.fire under a row lock and the version
guard, and is written by returns.writes.save; the caller (request or job) commits once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, union
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from returns_service.common.clock import utcnow
from returns_service.common.errors import EditConflict, NotFound, ValidationFailed
from returns_service.common.i18n import N_
from returns_service.db import db
from returns_service.db.insert_once import insert_once
from returns_service.orders.models import Order
from returns_service.orders.services import lock_order
from returns_service.returns.eligibility import keep_item_applies, line_eligibility
from returns_service.returns.locking import read_locked
from returns_service.returns.models import (
    Return,
    ReturnEvent,
    ReturnItem,
    watch_unsaved,
)
from returns_service.returns.policy import CONDITIONS, ReturnPolicy
from returns_service.returns.rma import new_rma, normalise_rma
from returns_service.returns.signals import return_approved, return_received, status_changed
from returns_service.returns.writes import save, written_once
from workflows.returns import (
    Actor,
    InvalidTransition,
    Status,
    allowed_triggers,
    can_fire,
    fire,
)

CHANNELS = ("web", "api", "phone", "email", "chat")
RETURN_NOT_FOUND = N_("We could not find a return with that code and email address.")


def current_policy() -> ReturnPolicy:
    return current_app.extensions["return_policy"]


# --- reading -----------------------------------------------------------------------------

def get_return(rma: str) -> Return:
    ret = db.session.scalar(select(Return).where(Return.rma == normalise_rma(rma)))
    if ret is None:
        raise NotFound(f"No return {rma}.")
    return ret


def find_customer_return(rma: str, email: str) -> Return:
    """The return when RMA and order email match; one identical 404 otherwise."""
    ret = db.session.scalar(select(Return).where(Return.rma == normalise_rma(rma)))
    if ret is None or ret.order.email != email.strip().lower():
        raise NotFound(RETURN_NOT_FOUND)
    return ret


def list_returns(*, status: list[str] | None = None, q: str | None = None,
                 channel: str | None = None, reason: str | None = None,
                 page: int = 1, per_page: int = 25, oldest_first: bool = False,
                 count_limit: int | None = None, where: tuple[Any, ...] = (),
                 first: tuple[Any, ...] = ()) -> tuple[list[Return], int]:
    """Staff search: filter by status/channel/reason, q matches RMA, order number or email.

    Every filter is on `returns` itself (q looks orders up in a subquery) so the count and
    the page both run on indexes, with no join, even with millions of returns. Counting all
    of a million rows is what costs (100+ ms), so with `count_limit` the count stops there:
    the total is then at most count_limit + 1, meaning "more than count_limit".
    `where` adds conditions and `first` leading sort keys from the layers above (the
    workspace's queue views: "Mine", "Waiting on us" first…).
    """
    conditions = list(where)
    if status:
        conditions.append(Return.status.in_(status))
    if channel:
        conditions.append(Return.channel == channel)
    if reason:
        conditions.append(Return.id.in_(
            select(ReturnItem.return_id).where(ReturnItem.reason == reason)))
    if q:
        term = q.strip()
        orders = select(Order.id).where(or_(Order.number == term, Order.email == term.lower()))
        # A UNION of two index lookups: an OR across them would scan every return.
        conditions.append(Return.id.in_(union(
            select(Return.id).where(Return.rma == normalise_rma(term)),
            select(Return.id).where(Return.order_id.in_(orders)))))
    matching = select(Return.id).where(*conditions)
    if count_limit is not None:
        matching = matching.limit(count_limit + 1)
    total = db.session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    direction = "asc" if oldest_first else "desc"
    order = (*first, getattr(Return.created_at, direction)(), getattr(Return.id, direction)())
    rows = db.session.scalars(
        select(Return).where(*conditions).order_by(*order)
        .offset((page - 1) * per_page).limit(per_page)
        # Orders by id after the page is cut (a join would run for every row OFFSET skips);
        # items find their order line among the order's lines, already loaded: no query.
        .options(selectinload(Return.order).selectinload(Order.lines),
                 selectinload(Return.items))).all()
    return list(rows), total


def events_of(ret: Return, *, customer_visible_only: bool = False) -> list[ReturnEvent]:
    return [e for e in ret.events if e.customer_visible or not customer_visible_only]


# --- changing ----------------------------------------------------------------------------

def lock_return(rma: str, expected_version: int | None = None) -> Return:
    """Load a return for change (returns.locking: with its order, items and their lines):
    row lock on PostgreSQL, version check everywhere."""
    ret = read_locked(rma=normalise_rma(rma))
    if ret is None:
        raise NotFound(f"No return {rma}.")
    if expected_version is not None and ret.version != expected_version:
        raise EditConflict(
            f"{ret.rma} is now at version {ret.version} ({ret.status}); you acted on version "
            f"{expected_version}. Reload and try again.", current_status=ret.status,
            current_version=ret.version)
    return ret


def lock_return_by_id(return_id: int) -> Return:
    """lock_return for code that holds the id (a refund's return), without reading the
    return once more just to learn its RMA."""
    ret = read_locked(return_id=return_id)
    if ret is None:
        raise NotFound(f"No return with id {return_id}.")
    return ret


def transition(ret: Return, trigger: str, actor: Actor, *, note: str | None = None,
               reason: str | None = None, data: dict[str, Any] | None = None) -> ReturnEvent:
    """The one way services move a return: fire the workflow on the object, tell
    subscribers (they may queue more on it: the email's timeline line), then write it all
    with Core statements under the version guard (returns.writes.save)."""
    event: ReturnEvent = fire(ret, trigger, actor, note=note, reason=reason, data=data)
    status_changed.send(ret, event=event)
    save(ret)
    return event


def _require_trigger(ret: Return, trigger: str) -> None:
    """Refuse before anything is changed on the object (the workflow would refuse anyway)."""
    if not can_fire(ret.status, trigger):
        raise InvalidTransition(trigger, ret.status, allowed_triggers(ret.status))


def create_return(order: Order, items: list[dict[str, Any]], *, channel: str, actor: Actor,
                  now: datetime | None = None, request_key: str | None = None,
                  claimed: dict[int, int] | None = None, resolution: str = "refund",
                  locale: str | None = None) -> Return:
    """Validate the request against the policy and record it (auto-approving if it may).

    `resolution`: how the customer chose to be made whole (the policy's offer). A return
    whose every line qualifies for keep-the-item is marked so: nothing is sent back.

    `request_key`: the one-time key of the form sent; the same key sent again (a double
    click) answers the return it created instead of creating a second one. `claimed`: the
    order's claimed quantities (eligibility.claimed_quantities), when the caller read them
    under the order's lock. `locale`: the language the customer asked in (their emails)."""
    policy = current_policy()
    if channel not in CHANNELS:
        raise ValidationFailed({"channel": [f"Must be one of: {', '.join(CHANNELS)}."]})
    _check_resolution(policy, resolution)
    lock_order(order.id)  # two tabs cannot over-claim a line
    if request_key:  # under the order's lock: a twin sent at the same time waits, then finds it
        sent = find_by_request_key(order.id, request_key)
        if sent is not None:
            return sent
    lines = _validated_lines(order, items, policy, now, claimed)
    keep_item = policy.keep_item.enabled and keep_item_applies(
        order, [(line, item["reason"]) for line, item in lines], policy, now)
    now = now or utcnow()
    ret = _insert_with_unique_rma({
        "order_id": order.id, "channel": channel, "status": Status.REQUESTED.value,
        "version": 1, "created_at": now, "updated_at": now, "status_changed_at": now,
        "rejection_reason": None, "customer_message": None, "needs_review": False,
        "review_reason": None, "refund_items_amount": None, "restocking_fee_amount": None,
        "refund_shipping_amount": None, "refund_amount": None, "request_key": request_key,
        "refund_discount_amount": None, "refund_tax_amount": None, "refund_tax_added": None,
        "refund_tax_by_rate": None,
        "resolution": resolution, "keep_item": keep_item, "adjustment_amount": 0,
        "credit_bonus_amount": None, "locale": locale})
    # A new row has no events yet and these items only: say so, so nothing is loaded.
    set_committed_value(ret, "order", order)
    set_committed_value(ret, "events", [])
    set_committed_value(ret, "items", [
        ReturnItem(order_line=line, quantity=item["quantity"], reason=item["reason"],
                   comment=item.get("comment") or None) for line, item in lines])
    event = ret.add_event(ReturnEvent(
        kind="status", from_status=None, to_status="requested", trigger="request",
        actor_type=actor.type, actor_id=actor.id, actor_label=actor.label, created_at=now,
        data={"channel": channel, "resolution": resolution, "keep_item": keep_item}))
    status_changed.send(ret, event=event)
    if policy.auto_approve.applies(order.currency, order.total, [i["reason"] for _, i in lines]):
        policy_actor = Actor.system("auto-approve policy")
        transition(ret, "approve", policy_actor,
                   note="Approved automatically by the return policy.")
        return_approved.send(ret, actor=policy_actor)
    else:
        save(ret)  # the items, the request's event and its email's timeline line
    return ret


def find_by_request_key(order_id: int, request_key: str) -> Return | None:
    """The return a form with this one-time key already created on this order, if any."""
    return db.session.scalar(select(Return).where(Return.order_id == order_id,
                                                  Return.request_key == request_key))


def _insert_with_unique_rma(values: dict[str, Any], attempts: int = 5) -> Return:
    """Insert the return under a fresh random RMA; a code already taken (by another return,
    or concurrently) is skipped by the INSERT itself, and another code is drawn.

    The answer is a Return object holding exactly what was written, kept out of the
    session: its changes are written by returns.writes, never flushed by the ORM."""
    for _ in range(attempts):
        rma = new_rma()
        return_id = insert_once(Return, {**values, "rma": rma}, unique="rma")
        if return_id is not None:
            ret = Return()
            for key, value in {**values, "rma": rma, "id": return_id}.items():
                set_committed_value(ret, key, value)
            watch_unsaved(ret)
            return ret
    raise RuntimeError("could not allocate a unique RMA code")


def _validated_lines(order: Order, items: list[dict[str, Any]], policy: ReturnPolicy,
                     now: datetime | None, claimed: dict[int, int] | None = None,
                     ) -> list[tuple[Any, dict[str, Any]]]:
    errors: dict[str, list[str]] = {}
    if not items:
        raise ValidationFailed({"items": ["Choose at least one item to return."]})
    eligibility = {e.line.sku: e for e in line_eligibility(order, policy, now, claimed)}
    seen: set[str] = set()
    result = []
    for index, item in enumerate(items):
        where = f"items.{index}"
        elig = eligibility.get(item["sku"])
        if elig is None:
            errors[f"{where}.sku"] = ["This item is not part of the order."]
            continue
        if item["sku"] in seen:
            errors[f"{where}.sku"] = ["This item is listed twice."]
            continue
        seen.add(item["sku"])
        if not elig.eligible:
            errors[f"{where}.sku"] = [elig.reason or "This item cannot be returned."]
        elif not 1 <= item["quantity"] <= elig.returnable_quantity:
            errors[f"{where}.quantity"] = [
                f"You can return between 1 and {elig.returnable_quantity} of this item."]
        if policy.reason(item.get("reason") or "") is None:
            errors[f"{where}.reason"] = ["Choose a reason from the list."]
        result.append((elig.line, item))
    if errors:
        raise ValidationFailed(errors)
    return result


def approve_return(rma: str, actor: Actor, *, note: str | None = None,
                   expected_version: int | None = None) -> Return:
    ret = lock_return(rma, expected_version)
    with written_once(ret):  # a keep-the-item return is settled at once, in the same write
        transition(ret, "approve", actor, note=note)
        return_approved.send(ret, actor=actor)
    return ret


# Until then the customer may change how they are made whole: afterwards the refund or the
# credit has started.
RESOLUTION_CHANGEABLE = frozenset({Status.REQUESTED, Status.APPROVED})


def _check_resolution(policy: ReturnPolicy, resolution: str) -> None:
    offered = policy.resolutions()
    if resolution not in offered:
        raise ValidationFailed({"resolution": [f"Must be one of: {', '.join(offered)}."]})


def choose_resolution(rma: str, resolution: str, actor: Actor, *,
                      expected_version: int | None = None) -> Return:
    """The customer (or an agent for them) changes refund ↔ store credit, until the refund or
    the credit starts; recorded in the audit trail the customer sees."""
    _check_resolution(current_policy(), resolution)
    ret = lock_return(rma, expected_version)
    if ret.status not in RESOLUTION_CHANGEABLE:
        raise EditConflict(f"{ret.rma} is {ret.status}: the refund or credit has started, so "
                           "it can no longer be changed.", current_status=ret.status,
                           current_version=ret.version)
    if ret.resolution != resolution:
        ret.add_event(ReturnEvent(
            kind="resolution", trigger="choose_resolution", actor_type=actor.type,
            actor_id=actor.id, actor_label=actor.label, customer_visible=True,
            data={"from": ret.resolution, "to": resolution}, created_at=utcnow()))
        ret.resolution = resolution
        save(ret)
    return ret


def reject_return(rma: str, actor: Actor, *, reason: str, note: str | None = None,
                  expected_version: int | None = None) -> Return:
    policy = current_policy()
    if policy.rejection_reason(reason) is None:
        codes = [r.code for r in policy.rejection_reasons]
        raise ValidationFailed({"reason": [f"Must be one of: {', '.join(codes)}."]})
    ret = lock_return(rma, expected_version)
    _require_trigger(ret, "reject")
    ret.rejection_reason = reason  # written with the status change, in its one UPDATE
    ret.customer_message = note
    transition(ret, "reject", actor, note=note, reason=reason, data={"reason": reason})
    return ret


def cancel_return(rma: str, actor: Actor, *, note: str | None = None,
                  expected_version: int | None = None) -> Return:
    ret = lock_return(rma, expected_version)
    transition(ret, "cancel", actor, note=note)
    return ret


def receive_return(rma: str, received: list[dict[str, Any]], actor: Actor, *,
                   note: str | None = None, expected_version: int | None = None) -> Return:
    """Record what arrived and move the return to received; the refunds domain, told by the
    `return_received` signal in the same transaction, works out the refund and starts it (or
    closes the return when nothing in the parcel qualifies)."""
    ret = lock_return(rma, expected_version)
    by_sku = {item.order_line.sku: item for item in ret.items}
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, entry in enumerate(received):
        item = by_sku.get(entry["sku"])
        if item is None:
            errors[f"items.{index}.sku"] = ["This item is not part of the return."]
            continue
        if entry["sku"] in seen:
            errors[f"items.{index}.sku"] = ["This item is listed twice."]
        seen.add(entry["sku"])
        if entry["quantity"] > item.quantity:
            were = "was" if item.quantity == 1 else "were"
            errors[f"items.{index}.quantity"] = [f"At most {item.quantity} {were} requested."]
        if entry["condition"] not in CONDITIONS:
            errors[f"items.{index}.condition"] = [f"Must be one of: {', '.join(CONDITIONS)}."]
    if errors:
        raise ValidationFailed(errors)
    _require_trigger(ret, "receive")
    for sku, item in by_sku.items():  # written with the status change (returns.writes)
        entry = next((e for e in received if e["sku"] == sku), None)
        if entry is None:  # not in the parcel
            item.received_quantity, item.condition, item.restock = 0, "missing", False
        else:
            item.received_quantity, item.condition = entry["quantity"], entry["condition"]
            restock = entry.get("restock")
            item.restock = entry["condition"] == "resellable" if restock is None else restock
            item.inspection_note = entry.get("note") or None
            if entry["quantity"] == 0:
                item.condition = "missing"
    with written_once(ret):  # received, then refunding (or credited, closed): one write
        transition(ret, "receive", actor, note=note, data={"items": [
            {k: e.get(k) for k in ("sku", "quantity", "condition", "restock")}
            for e in received]})
        return_received.send(ret, actor=actor)
    return ret
