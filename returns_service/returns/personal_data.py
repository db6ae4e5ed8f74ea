"""Personal data on returns: which returns the retention setting anonymises and when, whose
data a customer's request covers, and the returns' own eraser (the customer's message and
comments, every note of the audit trail), exporter and hold. Amounts, reasons, statuses and
timings stay, so every report keeps its figures.

Registered by `returns.init_app`; the other domains register their own erasers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, insert, select, update

from returns_service.common.clock import utcnow
from returns_service.common.errors import DomainError, NotFound, ValidationFailed
from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.privacy import Hold, Scope
from returns_service.privacy import services as privacy
from returns_service.returns.models import Return, ReturnAdjustment, ReturnEvent, ReturnItem
from workflows.returns import TERMINAL

# Returns anonymised per transaction by the retention job.
BATCH = 200
ERASED_NOTE = "Personal data erased"
CLOSED = tuple(status.value for status in TERMINAL)


class PersonalDataHeld(DomainError):
    """Part of the customer's data is still needed: nothing was erased."""

    status, type, title = 409, "personal-data-held", "Personal data still needed"


def _now() -> datetime:
    return utcnow()


# --- the returns' own eraser, exporter and hold --------------------------------------------

def erase_returns(scope: Scope) -> int:
    """Blank what the customer and staff wrote on each return of the scope, once: the return
    is stamped and its trail gets a "personal data erased" event (without the data). A few
    statements per scope, not per return; the stamp decides which returns this pass erases
    (a concurrent pass waits on the rows, then finds them stamped)."""
    if not scope.return_ids:
        return 0
    now = _now()
    ids = list(db.session.scalars(
        update(Return).where(Return.id.in_(scope.return_ids),
                             Return.personal_data_erased_at.is_(None))
        .values(customer_message=None, review_reason=None, personal_data_erased_at=now,
                version=Return.version + 1, updated_at=now)
        .returning(Return.id).execution_options(synchronize_session=False)))
    if not ids:
        return 0  # erased before (or by a concurrent pass)
    options = {"synchronize_session": False}
    db.session.execute(update(ReturnItem).where(ReturnItem.return_id.in_(ids))
                       .values(comment=None, inspection_note=None).execution_options(**options))
    db.session.execute(update(ReturnEvent).where(ReturnEvent.return_id.in_(ids))
                       .values(note=None).execution_options(**options))
    db.session.execute(update(ReturnEvent).where(ReturnEvent.return_id.in_(ids),
                                                 ReturnEvent.actor_type == "customer")
                       .values(actor_label=None).execution_options(**options))
    db.session.execute(update(ReturnAdjustment).where(ReturnAdjustment.return_id.in_(ids))
                       .values(note=None).execution_options(**options))
    actor_type = "system" if scope.reason == "retention" else "staff"
    db.session.execute(insert(ReturnEvent), [{
        "return_id": return_id, "kind": "privacy", "actor_type": actor_type,
        "note": ERASED_NOTE, "data": {"reason": scope.reason}, "customer_visible": False,
        "created_at": now} for return_id in sorted(ids)])
    return len(ids)


def export_returns(scope: Scope) -> list[dict[str, Any]]:
    returns = db.session.scalars(select(Return).where(Return.id.in_(scope.return_ids))
                                 .order_by(Return.id)).all()
    return [{
        "rma": ret.rma, "order_number": ret.order.number, "status": ret.status,
        "channel": ret.channel, "created_at": ret.created_at.isoformat(),
        "customer_message": ret.customer_message, "resolution": ret.resolution,
        "refund_amount": ret.refund_amount, "currency": ret.order.currency,
        "rejection_reason": ret.rejection_reason, "locale": ret.locale,
        "items": [{"sku": item.order_line.sku, "quantity": item.quantity,
                   "reason": item.reason, "comment": item.comment,
                   "received_quantity": item.received_quantity, "condition": item.condition}
                  for item in ret.items],
        "history": [{"at": event.created_at.isoformat(), "kind": event.kind,
                     "status": event.to_status, "note": event.note}
                    for event in ret.events if event.customer_visible]} for ret in returns]


def open_returns(scope: Scope) -> list[Hold]:
    """A return still in progress keeps its data until it is closed."""
    rows = db.session.execute(select(Return.id, Return.rma, Return.status).where(
        Return.id.in_(scope.return_ids), Return.status.not_in(CLOSED))).all()
    return [Hold(f"Return {rma} is still {status.replace('_', ' ')}: erase its data once "
                 "it is closed.", return_id) for return_id, rma, status in rows]


# --- retention -----------------------------------------------------------------------------

def _due(cutoff: datetime) -> Any:
    """Returns whose data the retention setting lets go: closed before `cutoff`."""
    return and_(Return.status.in_(CLOSED), Return.status_changed_at < cutoff)


def _retention_scope(return_ids: list[int], cutoff: datetime) -> Scope:
    """The returns, and those of their orders every return of which is erased or due."""
    order_ids = set(db.session.scalars(select(Return.order_id)
                                       .where(Return.id.in_(return_ids))))
    kept = set(db.session.scalars(select(Return.order_id).where(
        Return.order_id.in_(order_ids), Return.personal_data_erased_at.is_(None),
        ~_due(cutoff))))
    return Scope(tuple(return_ids), tuple(sorted(order_ids - kept)), reason="retention")


def anonymise_due(now: datetime) -> int:
    """Anonymise the returns closed more than PERSONAL_DATA_RETENTION_DAYS ago (none when it
    is 0), BATCH per transaction, oldest id first; returns held back (a refund still pending)
    wait for a later pass. How many returns were anonymised."""
    days = int(current_app.config.get("PERSONAL_DATA_RETENTION_DAYS") or 0)
    if days <= 0:
        return 0
    cutoff, after, done = now - timedelta(days=days), 0, 0
    while True:
        # Locked (on PostgreSQL) for this transaction; a concurrent pass skips them and
        # takes the next ones, so each return is erased by one pass.
        ids = list(db.session.scalars(
            select(Return.id).where(_due(cutoff), Return.personal_data_erased_at.is_(None),
                                    Return.id > after).order_by(Return.id).limit(BATCH)
            .with_for_update(skip_locked=True)))
        if not ids:
            return done
        after = ids[-1]
        held = {hold.return_id for hold in privacy.holds(_retention_scope(ids, cutoff))}
        ids = [return_id for return_id in ids if return_id not in held]
        if ids:
            scope = _retention_scope(ids, cutoff)
            done += privacy.erase(scope)["returns"]
        db.session.commit()


# --- one customer's request ----------------------------------------------------------------

def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254 or not email.isprintable() or " " in email:
        raise ValidationFailed({"email": ["Give the customer's email address "
                                          "(name@example.com)."]})
    return email


def customer_scope(email: str) -> Scope:
    """Every order placed with `email` and every return of those orders."""
    email = normalise_email(email)
    order_ids = tuple(db.session.scalars(select(Order.id).where(
        Order.email == email).order_by(Order.id)))  # stored lower-cased: the index serves
    return_ids = tuple(db.session.scalars(select(Return.id).where(
        Return.order_id.in_(order_ids)).order_by(Return.id))) if order_ids else ()
    return Scope(return_ids, order_ids, (email,), reason="request")


def preview(email: str) -> dict[str, Any]:
    """What an erasure of `email` would cover, and what would hold it back (the console's
    confirmation step)."""
    scope = customer_scope(email)
    return {"email": scope.emails[0], "orders": len(scope.order_ids),
            "returns": len(scope.return_ids),
            "holds": [hold.message for hold in privacy.holds(scope)]}


def export_customer(email: str) -> dict[str, Any]:
    """Every domain's data about the customer (404 when no order was placed with `email`)."""
    scope = customer_scope(email)
    if not scope.order_ids:
        raise NotFound("No order was placed with this email address (or its data was "
                       "erased).")
    return {"email": scope.emails[0], "exported_at": _now().isoformat(),
            **privacy.export(scope)}


def erase_customer(email: str, *, actor_id: int | None, actor_label: str | None
                   ) -> dict[str, Any]:
    """Erase the customer's personal data in every domain, or nothing when some of it is
    still needed (409, with each reason). Asked again, nothing is left to erase: a no-op.
    The caller commits."""
    scope = customer_scope(email)
    # The customer's orders, locked in id order: a second request at the same time waits,
    # then finds everything erased (and records nothing).
    db.session.execute(select(Order.id).where(Order.id.in_(scope.order_ids))
                       .order_by(Order.id).with_for_update())
    held = privacy.holds(scope)
    if held:
        raise PersonalDataHeld(
            "Nothing was erased: " + " ".join(hold.message for hold in held),
            reasons=[hold.message for hold in held])
    counts = privacy.erase(scope, actor_type="staff", actor_id=actor_id,
                           actor_label=actor_label)
    return {"erased": bool(any(counts.values())), "returns": counts.get("returns", 0),
            "orders": counts.get("orders", 0), "counts": counts}


__all__ = ["BATCH", "PersonalDataHeld", "anonymise_due", "customer_scope", "erase_customer",
           "erase_returns", "export_customer", "export_returns", "open_returns", "preview"]
