"""Refund use cases: start a refund (record first), execute it once, record the outcome.

Money moves exactly once because:
- the refund row (with a stable idempotency key) is written in the same transaction that
  moves the return to refund_pending, and a partial unique index allows one live refund;
- the Stripe call is claimed with a committed lease (submitted_at), so a concurrent job
  backs off instead of calling;
- after a crash, the job first looks the refund up at Stripe by our metadata before calling;
- outcomes only move forward (see STATUS_RANK).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from returns_service.clock import utcnow
from returns_service.extensions import db
from returns_service.orders.models import Order
from returns_service.outbox.registry import RetryLater
from returns_service.outbox.service import emit
from returns_service.payments.stripe import (
    PermanentPaymentError,
    ProviderRefund,
    StripeRefundGateway,
    TransientPaymentError,
)
from returns_service.refunds.models import Refund
from returns_service.returns.models import Return
from workflows.returns import Actor

SUBMIT_LEASE = timedelta(minutes=2)
# Outcomes only move forward: a late "pending" never undoes "succeeded".
STATUS_RANK = {"pending": 0, "requires_action": 1, "failed": 2, "canceled": 2, "succeeded": 3}


def gateway() -> StripeRefundGateway:
    cfg = current_app.config
    if not cfg.get("STRIPE_API_KEY"):
        raise RetryLater("STRIPE_API_KEY is not configured; refunds wait until it is")
    return StripeRefundGateway(cfg["STRIPE_API_KEY"], cfg.get("STRIPE_API_BASE"))


def refunded_on_order(order: Order, *, exclude_return_id: int | None = None) -> int:
    """Money already refunded or on its way for this order (live refunds of other returns)."""
    query = (select(func.coalesce(func.sum(Refund.amount), 0))
             .join(Return, Return.id == Refund.return_id)
             .where(Return.order_id == order.id,
                    Refund.status.in_(("pending", "requires_action", "succeeded"))))
    if exclude_return_id is not None:
        query = query.where(Refund.return_id != exclude_return_id)
    return int(db.session.scalar(query) or 0)


def shipping_refunded_on_order(order: Order, *, exclude_return_id: int | None = None) -> bool:
    query = select(Return.id).where(Return.order_id == order.id,
                                    Return.refund_shipping_amount > 0,
                                    Return.status.in_(("refund_pending", "refunded")))
    if exclude_return_id is not None:
        query = query.where(Return.id != exclude_return_id)
    return db.session.scalar(query.limit(1)) is not None


def refund_context(order_ids: list[int]) -> dict[int, dict[int, tuple[int, bool]]]:
    """For many returns at once (staff lists): per order id, per return id, the live refund
    amount and whether that return's refund includes shipping. Two queries for any page."""
    if not order_ids:
        return {}
    amounts = db.session.execute(
        select(Return.order_id, Refund.return_id, func.sum(Refund.amount))
        .join(Return, Return.id == Refund.return_id)
        .where(Return.order_id.in_(order_ids),
               Refund.status.in_(("pending", "requires_action", "succeeded")))
        .group_by(Return.order_id, Refund.return_id)).all()
    shipped = db.session.execute(
        select(Return.order_id, Return.id).where(
            Return.order_id.in_(order_ids), Return.refund_shipping_amount > 0,
            Return.status.in_(("refund_pending", "refunded")))).all()
    context: dict[int, dict[int, tuple[int, bool]]] = {}
    for order_id, return_id, amount in amounts:
        context.setdefault(order_id, {})[return_id] = (int(amount or 0), False)
    for order_id, return_id in shipped:
        amount, _ = context.setdefault(order_id, {}).get(return_id, (0, False))
        context[order_id][return_id] = (amount, True)
    return context


def start_refund(ret: Return, actor: Actor) -> Refund:
    """Move a received (or failed) return to refund_pending with a new attempt row."""
    from returns_service.returns.services import transition

    attempt = 1 + (db.session.scalar(
        select(func.max(Refund.attempt)).where(Refund.return_id == ret.id)) or 0)
    trigger = "start_refund" if ret.status == "received" else "retry_refund"
    transition(ret, trigger, actor, data={"amount": ret.refund_amount, "attempt": attempt})
    refund = Refund(return_id=ret.id, attempt=attempt, amount=ret.refund_amount or 0,
                    currency=ret.order.currency, status="pending", provider="stripe",
                    payment_intent=ret.order.payment_intent,
                    idempotency_key=f"refund-{ret.rma}-{attempt}")
    db.session.add(refund)
    db.session.flush()
    emit("refund.execute", {"refund_id": refund.id}, dedupe_key=f"refund.execute:{refund.id}")
    return refund


def execute_refund(refund_id: int) -> str:
    """Ask Stripe for the money, once. Commits its own steps; safe to run twice at once."""
    refund = db.session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update())
    if refund is None or refund.status != "pending" or refund.provider_refund_id:
        db.session.rollback()
        return "nothing to do"
    now = utcnow()
    if refund.submitted_at and now - refund.submitted_at < SUBMIT_LEASE:
        db.session.rollback()
        raise RetryLater(f"refund {refund_id} is being submitted by another worker")
    if not refund.payment_intent:
        db.session.rollback()
        return record_outcome(refund_id, error=PermanentPaymentError(
            "no_payment_intent", "The order has no Stripe payment to refund."))
    crashed_before = refund.submitted_at is not None
    refund.submitted_at = now
    payment_intent, amount, key = refund.payment_intent, refund.amount, refund.idempotency_key
    rma = refund.return_.rma if refund.return_ else ""
    db.session.commit()  # the lease is visible before we call out; no lock held during the call

    client = gateway()
    try:
        found = (client.find_refund(payment_intent=payment_intent, refund_row_id=refund_id)
                 if crashed_before else None)
        result = found or client.create_refund(
            payment_intent=payment_intent, amount=amount, idempotency_key=key,
            metadata={"rma": rma, "refund_id": str(refund_id)})
    except TransientPaymentError as exc:
        _release_lease(refund_id)
        raise RetryLater(str(exc)) from exc
    except PermanentPaymentError as exc:
        return record_outcome(refund_id, error=exc)
    return record_outcome(refund_id, provider=result)


def _release_lease(refund_id: int) -> None:
    """Nothing reached Stripe for certain? We cannot know: keep submitted_at, shorten lease."""
    refund = db.session.get(Refund, refund_id)
    if refund is not None and refund.submitted_at is not None:
        refund.submitted_at = utcnow() - SUBMIT_LEASE  # next run may go, after reconciling
        db.session.commit()


def record_outcome(refund_id: int, *, provider: ProviderRefund | None = None,
                   error: PermanentPaymentError | None = None,
                   actor: Actor | None = None) -> str:
    """Write what Stripe said and move the return; never moves a refund backwards."""
    from returns_service.returns.services import lock_return, transition

    actor = actor or Actor("stripe", None, "stripe")
    refund = db.session.get(Refund, refund_id)
    assert refund is not None
    ret = lock_return(refund.return_.rma) if refund.return_ else None
    db.session.refresh(refund, with_for_update=True)
    if provider is not None:
        if refund.provider_refund_id is None:
            refund.provider_refund_id = provider.id
        new_status = provider.status
        failure_reason = provider.failure_reason
        message = None
    else:
        assert error is not None
        new_status, failure_reason, message = "failed", error.code, error.message
    if STATUS_RANK.get(new_status, 0) < STATUS_RANK.get(refund.status, 0) or \
            new_status == refund.status:
        db.session.commit()
        return f"unchanged ({refund.status})"
    refund.status = new_status
    refund.failure_reason = failure_reason if new_status in ("failed", "canceled") else None
    refund.failure_message = message
    if new_status == "succeeded":
        refund.succeeded_at = utcnow()
    if ret is not None:
        if new_status == "succeeded" and ret.status in ("refund_pending", "refund_failed"):
            transition(ret, "refund_succeeded", actor,
                       data={"refund_id": refund.id, "amount": refund.amount})
        elif new_status in ("failed", "canceled") and ret.status == "refund_pending":
            transition(ret, "refund_failed", actor,
                       note=message or f"Stripe reported the refund as {failure_reason}.",
                       data={"refund_id": refund.id, "reason": failure_reason})
    db.session.commit()
    return new_status
