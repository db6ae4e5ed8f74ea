"""Stripe webhook events: record each once, then apply it in a job.

`receive_event` runs in the request: it stores the event under its unique id (a redelivery is
acknowledged and ignored) and queues `apply_event` through the outbox, so the answer to
Stripe is fast and the work survives a crash. `apply_event` matches refunds to our rows (by
Stripe id, else by the metadata we sent), records refunds made in the Stripe dashboard against
their return by payment intent, and flags returns whose payment is disputed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from returns_service.common.clock import utcnow
from returns_service.common.money import format_money
from returns_service.db import db, is_row_id
from returns_service.db.insert_once import insert_once
from returns_service.orders.models import Order
from returns_service.outbox.service import emit
from returns_service.payments.models import StripeEvent
from returns_service.payments.stripe import (
    ProviderRefund,
    event_problem,
    from_stripe_amount,
    to_provider_refund,
)
from returns_service.refunds.models import Refund
from returns_service.refunds.outcomes import (
    STRIPE_ACTOR,
    apply_provider_answer,
    apply_refund_status,
    lock_with_return,
)
from returns_service.refunds.services import gateway, next_attempt
from returns_service.returns.models import Return
from returns_service.returns.review import flag_for_review
from returns_service.returns.services import lock_return

REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed",
                           "charge.refund.updated"})
HANDLED_EVENTS = REFUND_EVENTS | {"charge.refunded", "charge.dispute.created"}
log = logging.getLogger(__name__)


def receive_event(event: dict[str, Any]) -> str:
    """Record a verified event once; queue the ones we handle. The caller commits.

    Returns "duplicate" for a redelivery, "ignored" for a type we do not handle, "rejected"
    for one whose content this service cannot use (recorded with the reason, never applied),
    else "queued".
    """
    values: dict[str, Any] = {"event_id": event["id"], "type": event["type"], "payload": event}
    handled = event["type"] in HANDLED_EVENTS
    problem = event_problem(event) if handled else None
    if not handled:
        values.update(result="ignored", processed_at=utcnow(),
                      detail="Event type not handled by this service.")
    elif problem:
        values.update(result="rejected", processed_at=utcnow(), detail=problem)
    row_id = insert_once(StripeEvent, values, unique="event_id")
    if row_id is None:  # unique event_id: Stripe sent it again (or twice at once)
        return "duplicate"
    if not handled or problem:
        return "ignored" if not handled else "rejected"
    emit("stripe.event", {"stripe_event_id": row_id}, dedupe_key=f"stripe.event:{event['id']}")
    return "queued"


def reject_event(event_id: str, event_type: str, reason: str, body: bytes) -> str:
    """Record once a verified event that cannot be used: as rejected, with the reason and a
    digest of its body (the body itself may be what cannot be stored). The caller commits.
    Returns "rejected", or "duplicate" for a redelivery."""
    payload = {"unusable": True, "bytes": len(body),
               "sha256": hashlib.sha256(body).hexdigest()}
    row_id = insert_once(StripeEvent, {"event_id": event_id, "type": event_type,
                                       "payload": payload, "result": "rejected",
                                       "processed_at": utcnow(), "detail": reason[:2000]},
                         unique="event_id")
    return "rejected" if row_id is not None else "duplicate"


def apply_event(stripe_event_id: int) -> str:
    """Job: apply one stored event (safe to run twice: a processed event is left alone)."""
    row = db.session.scalar(select(StripeEvent).where(StripeEvent.id == stripe_event_id)
                            .with_for_update())
    if row is None or row.processed_at is not None:
        db.session.rollback()
        return "nothing to do"
    problem = event_problem(row.payload) if row.type in HANDLED_EVENTS else None
    if problem:  # stored before its shape was checked: settle it rather than fail forever
        row.processed_at, row.result, row.detail = utcnow(), "rejected", problem
        db.session.commit()
        return f"rejected: {problem}"
    event_type, obj = row.type, dict(row.payload["data"]["object"])
    if event_type in REFUND_EVENTS:
        results = [record_provider_refund(to_provider_refund(obj))]
    elif event_type == "charge.refunded":
        results = [record_provider_refund(refund) for refund in _charge_refunds(obj)]
    elif event_type == "charge.dispute.created":
        results = [flag_dispute(obj.get("payment_intent"), obj.get("id", "?"),
                                obj.get("reason"),
                                from_stripe_amount(int(obj.get("amount") or 0),
                                                   obj.get("currency") or ""),
                                obj.get("currency") or "")]
    else:
        results = ["ignored"]
    detail = "; ".join(results) or "no refunds in the event"
    row = db.session.get(StripeEvent, stripe_event_id)
    assert row is not None
    row.processed_at = utcnow()
    row.result = "unmatched" if detail.startswith("unmatched") else "applied"
    row.detail = detail[:2000]
    db.session.commit()
    return detail


def _charge_refunds(charge: dict[str, Any]) -> list[ProviderRefund]:
    """The refunds of a charge.refunded event. Newer API versions leave them out, and older
    ones embed only the first page (`has_more`): the rest is fetched from Stripe, page after
    page (this runs in a job, not in the request). Each refund carries the charge's payment
    intent when it names none itself."""
    embedded = charge.get("refunds") or {}
    listed = embedded.get("data")
    payment_intent, charge_id = charge.get("payment_intent"), charge.get("id")
    if listed is None:
        refunds = gateway().list_refunds(payment_intent) if payment_intent else []
    else:
        refunds = [to_provider_refund(item) for item in listed]
        if embedded.get("has_more") and charge_id:
            refunds += gateway().list_refunds(
                charge=charge_id, starting_after=refunds[-1].id if refunds else None)
    return [replace(refund, payment_intent=payment_intent)
            if refund.payment_intent is None and payment_intent else refund
            for refund in refunds]




def our_refund_id(value: str | None) -> int | None:
    """The refund row id we put in a refund's metadata, or None when the value cannot be one
    of ours (another integration's ids, too large for the column, not plain digits)."""
    if not value or not re.fullmatch(r"[0-9]{1,10}", value):
        return None
    number = int(value)
    return number if is_row_id(number) else None


def find_refund_for_provider(provider: ProviderRefund) -> Refund | None:
    """Our row for a Stripe refund: by its id, else by the refund_id we put in metadata."""
    refund = db.session.scalar(select(Refund).where(Refund.provider_refund_id == provider.id))
    if refund is not None:
        return refund
    row_id = our_refund_id(provider.metadata.get("refund_id"))
    if row_id is not None:
        candidate = db.session.get(Refund, row_id)
        if candidate is not None and candidate.origin == "service" \
                and candidate.payment_intent == provider.payment_intent \
                and candidate.provider_refund_id in (None, provider.id):
            return candidate
    return None


def returns_for_payment(payment_intent: str) -> tuple[Order | None, list[Return]]:
    """The order paid with this payment intent and its returns, oldest first."""
    order = db.session.scalar(select(Order).where(Order.payment_intent == payment_intent))
    if order is None:
        return None, []
    returns = db.session.scalars(select(Return).where(Return.order_id == order.id)
                                 .order_by(Return.id)).all()
    return order, list(returns)


def _pick_return_for_external(returns: list[Return], amount: int) -> Return | None:
    """Oldest return waiting for money (same amount first), else the latest refunded one."""
    waiting = [r for r in returns if r.status in ("received", "refund_pending",
                                                  "refund_failed")]
    exact = [r for r in waiting if r.refund_amount == amount]
    if exact or waiting:
        return (exact or waiting)[0]
    done = [r for r in returns if r.status == "refunded"]
    return done[-1] if done else None


def record_provider_refund(provider: ProviderRefund) -> str:
    """Apply news about a Stripe refund: ours (by id or metadata) moves forward; one made in
    the dashboard is matched to its return by payment intent and recorded once."""
    refund = find_refund_for_provider(provider)
    if refund is None:
        return _record_external(provider)
    ret = lock_with_return(refund)
    if refund.origin == "service":
        return apply_provider_answer(refund, ret, provider)
    # A dashboard refund in another currency than the order's does not count towards it
    # (flagged when it was recorded): its news moves the refund, never the return.
    other_currency = ret is not None and refund.currency != ret.order.currency
    return apply_refund_status(refund, None if other_currency else ret, provider.status,
                               failure_reason=provider.failure_reason)


def _record_external(provider: ProviderRefund) -> str:
    if not provider.payment_intent:
        return "unmatched (no payment intent)"
    order, returns = returns_for_payment(provider.payment_intent)
    if order is None:
        return "unmatched (no order with this payment)"
    picked = _pick_return_for_external(returns, provider.amount)
    ret = lock_return(picked.rma) if picked is not None else None
    # Re-check under the lock: another event about the same refund may have recorded it.
    existing = db.session.scalar(select(Refund).where(
        Refund.provider_refund_id == provider.id).execution_options(populate_existing=True))
    if existing is not None:
        counts = existing.return_id and existing.currency == order.currency
        return apply_refund_status(existing, ret if counts else None,
                                   provider.status, failure_reason=provider.failure_reason)
    currency = provider.currency or order.currency
    refund = Refund(return_id=ret.id if ret else None,
                    attempt=next_attempt(ret) if ret else 1,
                    amount=provider.amount, currency=currency,
                    status="pending", origin="external", provider="stripe",
                    provider_refund_id=provider.id, payment_intent=provider.payment_intent,
                    idempotency_key=f"external-{provider.id}")
    db.session.add(refund)
    db.session.flush()
    if currency != order.currency:
        # Not the order's money: it is kept, but counts towards neither the order nor the
        # return (refunds.amounts); a person has to look.
        money = format_money(provider.amount, currency)
        if ret is not None:
            flag_for_review(ret, f"A refund of {money} ({provider.id}, {provider.status}) was "
                            "made on this payment in the Stripe dashboard in another currency "
                            f"than the order's ({order.currency}). It is not counted towards "
                            "what the return is owed or the order has left: check the payment "
                            "in the Stripe dashboard.", STRIPE_ACTOR)
        if provider.status != "pending":
            apply_refund_status(refund, None, provider.status,
                                failure_reason=provider.failure_reason)
        where = f"return {ret.rma}, flagged" if ret else \
            f"order {order.number}, not counted: a person should look"
        log.warning("dashboard refund %s is in %s, order %s is in %s: not counted",
                    provider.id, currency, order.number, order.currency)
        return (f"recorded dashboard refund {provider.id} ({refund.status}) in {currency}, "
                f"not the order's {order.currency}, on {where}")
    if provider.status != "pending":
        apply_refund_status(refund, ret, provider.status,
                            failure_reason=provider.failure_reason)
    where = f"return {ret.rma}" if ret else "no return (counted against the order)"
    return f"recorded dashboard refund {provider.id} ({refund.status}) on {where}"


def flag_dispute(payment_intent: str | None, dispute_id: str, reason: str | None,
                 amount: int, currency: str) -> str:
    """A chargeback on the payment: every return of that order needs a person."""
    if not payment_intent:
        return "unmatched (no payment intent)"
    order, returns = returns_for_payment(payment_intent)
    if order is None or not returns:
        return "unmatched (no return for this payment)"
    money = format_money(amount, (currency or order.currency).upper())
    for listed in returns:
        ret = lock_return(listed.rma)
        flag_for_review(ret, f"The customer disputed the payment with their bank ({dispute_id}, "
                        f"{reason or 'no reason given'}, {money}). Stripe will not refund a "
                        "disputed payment: handle the dispute in the Stripe dashboard.",
                        STRIPE_ACTOR)
    return f"flagged {len(returns)} return(s) for review"
