"""Refund use cases: start a refund (record first), execute it once, record the outcome.

Money moves exactly once because:
- the refund row (with a stable idempotency key) is written in the same transaction that
  moves the return to refund_pending, and a partial unique index allows one live refund per
  return, so no second attempt can exist while one may still move money;
- the Stripe call is claimed with a committed lease (submitted_at, under a row lock), so a
  concurrent job backs off instead of calling; the lease outlives the longest possible call;
- a job that finds an expired lease (a worker died mid-call) first looks the refund up at
  Stripe by our metadata, and only calls again (with the same idempotency key) if it is not
  there;
- refund statuses only move forward, and final ones never change (refunds/outcomes.py);
  anything surprising flags the return for a person instead of moving money.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from returns_service.common.clock import utcnow
from returns_service.common.errors import ValidationFailed
from returns_service.common.money import format_money
from returns_service.db import db
from returns_service.db.loaded import read_rows
from returns_service.orders.services import lock_order
from returns_service.outbox.registry import RetryLater
from returns_service.outbox.service import emit
from returns_service.payments.stripe import (
    PermanentPaymentError,
    ProviderRefund,
    StripeRefundGateway,
    TransientPaymentError,
)
from returns_service.refunds.amounts import (
    before_submit,
    refunded_on_return,
    refunds_of_return,
    remaining_on_order,
    remember_for_answer,
    remembered_for_answer,
)
from returns_service.refunds.models import Refund
from returns_service.refunds.outcomes import (
    PENDING_STATUSES,
    STRIPE_ACTOR,
    apply_provider_answer,
    apply_refund_status,
    lock_refund_of_return,
    lock_with_return,
)
from returns_service.refunds.signals import refund_outcome
from returns_service.returns.models import Return
from returns_service.returns.review import note_for_staff
from returns_service.returns.services import lock_return, transition
from workflows.returns import Actor, InvalidTransition, allowed_triggers, can_fire

log = logging.getLogger(__name__)


def submit_lease() -> timedelta:
    seconds = current_app.config.get("REFUND_SUBMIT_LEASE_SECONDS")
    return timedelta(seconds=120 if seconds is None else int(seconds))


def gateway() -> StripeRefundGateway:
    cfg = current_app.config
    if not cfg.get("STRIPE_API_KEY"):
        raise RetryLater("STRIPE_API_KEY is not configured; refunds wait until it is")
    return _gateway(cfg["STRIPE_API_KEY"], cfg.get("STRIPE_API_BASE"), threading.get_ident())


@lru_cache(maxsize=64)
def _gateway(api_key: str, api_base: str | None, _thread: int) -> StripeRefundGateway:
    # One per thread and account: its HTTP session keeps its connection open, so a worker's
    # refunds do not each open (and TLS-handshake) a new one, and no two threads share a
    # session (jobs run in web threads when there is no Redis). A connection the server
    # dropped meanwhile is retried by the client; every create carries its idempotency key.
    return StripeRefundGateway(api_key, api_base)


_LAST_ATTEMPT = select(func.max(Refund.attempt)).where(Refund.return_id == bindparam("id"))


def next_attempt(ret: Return) -> int:
    # Attempts are flushed rows; the return's pending changes (its refund amounts, on
    # receipt) then go out with the status change in one UPDATE, under its version guard.
    with db.session.no_autoflush:
        return 1 + (db.session.scalar(_LAST_ATTEMPT, {"id": ret.id}) or 0)


def _require(ret: Return, trigger: str) -> None:
    if not can_fire(ret.status, trigger):
        raise InvalidTransition(trigger, ret.status, allowed_triggers(ret.status))


# --- staff and workflow use cases --------------------------------------------------------

# The trigger that moves a return to refund_pending from where it is.
REFUND_TRIGGER = {"received": "start_refund", "refund_failed": "retry_refund",
                   "credited": "convert_credit_to_refund"}


def refund_trigger(ret: Return) -> str:
    """From approved: kept items are refunded at approval, a parcel at its first scan."""
    if ret.status == "approved":
        return "refund_kept_item" if ret.keep_item else "refund_on_first_scan"
    return REFUND_TRIGGER[ret.status]


def start_refund(ret: Return, actor: Actor, *, amount: int | None = None,
                 note: str | None = None) -> Refund:
    """Move a received (or failed) return to refund_pending with a new attempt row.

    The caller holds the return's lock. The row, the status change and the outbox message
    that will execute it are one transaction: all of them or none.
    """
    figures = remembered_for_answer(ret).get("figures")  # read under the order's lock
    if figures is not None and not figures.has_refunds:
        existing: list[Refund] = []
    else:
        with db.session.no_autoflush:  # attempts are flushed rows (see next_attempt)
            existing = refunds_of_return(ret)
    attempt = 1 + max((r.attempt for r in existing), default=0)
    amount = (ret.refund_amount or 0) if amount is None else amount
    trigger = refund_trigger(ret)
    transition(ret, trigger, actor, note=note, data={"amount": amount, "attempt": attempt})
    refund = insert_refund(ret, return_id=ret.id, attempt=attempt, amount=amount,
                           currency=ret.order.currency, status="pending", origin="service",
                           provider="stripe", payment_intent=ret.order.payment_intent,
                           idempotency_key=f"refund-{ret.rma}-{attempt}")
    emit("refund.execute", {"refund_id": refund.id}, dedupe_key=f"refund.execute:{refund.id}")
    remember_for_answer(ret, refunds=[*existing, refund])  # the answer lists them all
    return refund


_REFUND_COLUMNS = tuple(c.key for c in Refund.__table__.columns if c.key != "id")
_INSERT_REFUND = insert(Refund.__table__).returning(Refund.__table__.c.id)


def insert_refund(ret: Return | None, **values: Any) -> Refund:
    """Write a new refund row of `ret` with one Core INSERT (no unit-of-work flush); the
    answer is a Refund holding exactly what was written (and `ret` as its return: None for
    an exchange's price difference, which is paid back on its own), kept out of the
    session: to change it, load it."""
    now = utcnow()
    row = {key: values.get(key) for key in _REFUND_COLUMNS}
    row.update(created_at=now, updated_at=now)
    refund_id = db.session.connection().execute(_INSERT_REFUND, row).scalar_one()
    refund = Refund()
    for key, value in {**row, "id": refund_id, "return_": ret}.items():
        set_committed_value(refund, key, value)
    return refund


def retry_refund(rma: str, actor: Actor, *, note: str | None = None,
                 expected_version: int | None = None) -> Refund:
    """Staff retry after refund_failed: a new attempt with a new idempotency key.

    The amount is what the return is owed less what reached the customer meanwhile (a
    partial refund in the Stripe dashboard), capped again by what the order still has
    refundable.
    """
    ret = lock_return(rma, expected_version)
    _require(ret, "retry_refund")
    lock_order(ret.order_id)
    owed = (ret.refund_amount or 0) - refunded_on_return(ret)
    if owed <= 0:
        raise ValidationFailed(
            {"amount": ["Refunds made on this return in the Stripe dashboard cover what it "
                        "is owed; it moves to refunded when Stripe confirms them."]},
            detail="Nothing left to refund.")
    amount = min(owed, remaining_on_order(ret.order))
    if amount <= 0:
        raise ValidationFailed(
            {"amount": ["Nothing is left to refund on this order; record the refund made "
                         "outside Stripe instead."]}, detail="Nothing left to refund.")
    return start_refund(ret, actor, amount=amount, note=note)


def still_owed(ret: Return) -> int:
    """What a return is owed and not yet refunded or on its way (live refunds of any origin
    count), never below zero."""
    return max(0, (ret.refund_amount or 0) - refunded_on_return(ret))


def record_manual_refund(rma: str, actor: Actor, *, amount: int, reference: str,
                         note: str | None = None, over_refund_reason: str | None = None,
                         expected_version: int | None = None) -> Refund:
    """Staff record money paid back outside Stripe (bank transfer, voucher…): refunded.

    At most what the return is still owed, unless `over_refund_reason` says why more was
    paid (the caller checks that its user may: `refund.over_refund`); that reason goes into
    the return's staff-only trail. Never more than the order still has refundable.
    """
    ret = lock_return(rma, expected_version)
    _require(ret, "record_manual_refund")
    lock_order(ret.order_id)
    remaining = remaining_on_order(ret.order)
    owed = still_owed(ret)
    over_refund_reason = (over_refund_reason or "").strip() or None
    currency = ret.order.currency
    errors: dict[str, list[str]] = {}
    if amount <= 0:
        errors["amount"] = ["Must be more than zero."]
    elif amount > remaining:
        errors["amount"] = [f"At most {format_money(remaining, currency)} is left "
                            "to refund on this order."]
    elif amount > owed and over_refund_reason is None:
        errors["amount"] = [f"This return is still owed {format_money(owed, currency)}. "
                            "To record more, an admin must give the reason for the "
                            "over-refund."]
    if not reference.strip():
        errors["reference"] = ["Say where the money went (transfer or voucher reference)."]
    if errors:
        raise ValidationFailed(errors)
    if amount > owed:
        assert over_refund_reason is not None
        note_for_staff(ret, f"Over-refund: {format_money(amount, currency)} recorded where "
                       f"{format_money(owed, currency)} was owed. Reason: {over_refund_reason}",
                       actor, kind="over_refund",
                       data={"amount": amount, "owed": owed, "reason": over_refund_reason})
    attempt = next_attempt(ret)
    refund = Refund(return_id=ret.id, attempt=attempt, amount=amount,
                    currency=ret.order.currency, status="succeeded", origin="manual",
                    provider="manual", reference=reference.strip(),
                    payment_intent=ret.order.payment_intent, succeeded_at=utcnow(),
                    idempotency_key=f"manual-{ret.rma}-{attempt}")
    db.session.add(refund)
    db.session.flush()
    refund_outcome.send(refund, ret=ret)
    transition(ret, "record_manual_refund", actor, note=note,
               data={"refund_id": refund.id, "amount": amount, "reference": refund.reference})
    return refund


# --- the job -----------------------------------------------------------------------------

_REFUNDS = Refund.__table__
# Built once: every refund job runs them. Core statements: the job needs a few columns of the
# refund and its return, not ORM objects (the outcome is recorded from a fresh read).
_TO_SUBMIT = select(_REFUNDS).where(_REFUNDS.c.id == bindparam("refund_id")).with_for_update()
_CLAIM = update(_REFUNDS).values(submitted_at=bindparam("now"))
_CLAIM_FIRST = _CLAIM.where(_REFUNDS.c.id == bindparam("refund_id"),
                            _REFUNDS.c.status == "pending", _REFUNDS.c.submitted_at.is_(None))
_CLAIM_AGAIN = _CLAIM.where(_REFUNDS.c.id == bindparam("refund_id"),
                            _REFUNDS.c.status == "pending",
                            _REFUNDS.c.submitted_at == bindparam("previous"))


def execute_refund(refund_id: int, *, commit_outcome: bool = True) -> str:
    """Ask Stripe for the money, once. Commits the lease before the call, then the outcome
    (with `commit_outcome=False` the caller commits it: the outbox job, with its processed
    mark). Safe to run twice at once."""
    rows = read_rows(db.session, _TO_SUBMIT, {"refund_id": refund_id})
    refund = rows[0] if rows else None
    if refund is None or refund.origin != "service" or refund.status != "pending" \
            or refund.provider_refund_id:
        db.session.rollback()
        return "nothing to do"
    try:
        client = gateway()  # before the lease: without a key nothing is claimed
    except RetryLater:
        db.session.rollback()
        raise
    now = utcnow()
    if refund.submitted_at and now - refund.submitted_at < submit_lease():
        db.session.rollback()
        raise RetryLater(f"refund {refund_id} is being submitted by another worker")
    if not refund.payment_intent:
        db.session.rollback()
        return record_outcome(refund_id, error=PermanentPaymentError(
            "no_payment_intent", "The order has no payment intent."), commit=commit_outcome)
    return_id = refund.return_id
    # After the refund's lock, in a statement of its own: it sees what committed meanwhile.
    rma, owed, live = before_submit(return_id) if return_id is not None else ("", None, 0)
    # Ours is pending, so it is one of the return's live refunds: the rest are the others.
    outside = live - refund.amount if return_id is not None and refund.submitted_at is None \
        else 0
    if outside and owed is not None and outside + refund.amount > owed:
        # Refunded in the Stripe dashboard (made or still pending) beyond what our amount
        # allowed for: sending ours too would pay more than is owed. Withdrawn unsent; a
        # retry sends what is still owed. (A retry's amount already leaves those out.)
        db.session.rollback()
        return withhold(refund_id, outside)
    previous = refund.submitted_at
    reconcile = previous is not None  # an earlier call may have reached Stripe
    payment_intent, amount, key = refund.payment_intent, refund.amount, refund.idempotency_key
    currency = refund.currency
    # Claim by compare-and-set as well as the row lock, so the claim is atomic on any
    # database (SQLite has no FOR UPDATE): of two runs that read the same lease, one wins.
    claimed = db.session.connection().execute(
        _CLAIM_FIRST if previous is None else _CLAIM_AGAIN,
        {"refund_id": refund_id, "now": now, "previous": previous}).rowcount
    db.session.commit()  # the lease is visible before we call out; no lock held during the call
    if claimed != 1:
        raise RetryLater(f"refund {refund_id} was claimed by another worker")

    try:
        found = (client.find_refund(payment_intent=payment_intent, refund_row_id=refund_id)
                 if reconcile else None)
        result = found or client.create_refund(
            payment_intent=payment_intent, amount=amount, currency=currency,
            idempotency_key=key,
            metadata={"rma": rma, "refund_id": str(refund_id)})
    except TransientPaymentError as exc:
        _release_lease(refund_id)
        raise RetryLater(str(exc)) from exc
    except PermanentPaymentError as exc:
        return record_outcome(refund_id, error=exc, commit=commit_outcome,
                              return_id=return_id)
    # The outbox job commits the outcome with its processed mark, one transaction instead of
    # two. Were that commit lost, the lease runs out and the next run finds the refund at
    # Stripe by its metadata: recorded once, never sent twice.
    return record_outcome(refund_id, provider=result, commit=commit_outcome,
                          return_id=return_id)


# Stripe tells us by webhook when a pending refund settles; past this, we ask (a webhook may
# have been lost: a wrong signing secret, an endpoint down longer than Stripe retries).
PENDING_POLL_AFTER = timedelta(hours=1)


def poll_pending_refunds(now: datetime | None = None, *, limit: int = 50) -> int:
    """Ask Stripe about our refunds still pending after PENDING_POLL_AFTER (the oldest-asked
    first, at most `limit`, each at most once per interval) and record what it says. Returns
    how many changed. Without STRIPE_API_KEY nothing is asked."""
    try:
        client = gateway()
    except RetryLater:
        return 0
    now = now or utcnow()
    due = db.session.execute(
        select(Refund.id, Refund.provider_refund_id)
        .where(Refund.origin == "service", Refund.status.in_(PENDING_STATUSES),
               Refund.provider_refund_id.is_not(None),
               Refund.updated_at <= now - PENDING_POLL_AFTER)
        .order_by(Refund.updated_at).limit(limit)).all()
    db.session.rollback()  # no transaction held open across Stripe calls
    changed = 0
    for refund_id, provider_refund_id in due:
        try:
            record_outcome(refund_id, provider=client.retrieve_refund(str(provider_refund_id)))
        except TransientPaymentError as exc:  # Stripe unreachable: the next tick tries again
            log.warning("could not ask Stripe about pending refunds: %s", exc)
            break
        except PermanentPaymentError as exc:
            log.warning("Stripe refused to show refund %s (%s): %s", refund_id,
                        provider_refund_id, exc)
            db.session.rollback()
        # Still pending: asked, so not again before the next interval. Otherwise it moved.
        still_pending = db.session.scalar(
            update(Refund).where(Refund.id == refund_id,
                                 Refund.status.in_(PENDING_STATUSES))
            .values(updated_at=now).returning(Refund.id))
        db.session.commit()
        changed += still_pending is None
    return changed


def _release_lease(refund_id: int) -> None:
    """Did the call reach Stripe? We cannot know: keep submitted_at (so the next run looks
    the refund up first) but let the next run go at once."""
    db.session.rollback()
    refund = db.session.get(Refund, refund_id)
    if refund is not None and refund.submitted_at is not None:
        refund.submitted_at = utcnow() - submit_lease()
        db.session.commit()


def withhold(refund_id: int, outside: int) -> str:
    """Cancel our unsent refund because money went back another way meanwhile; the return
    moves to refund_failed with a note for staff, or to refunded if that money covers it."""
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        return "missing"
    ret = lock_with_return(refund)
    if refund.status != "pending" or refund.submitted_at is not None:
        db.session.rollback()
        return f"unchanged ({refund.status})"
    money = format_money(outside, refund.currency)
    result = apply_refund_status(
        refund, ret, "canceled", failure_reason="refunded_outside", actor=STRIPE_ACTOR,
        message=f"Not sent: {money} was refunded on this return in the Stripe dashboard "
                "meanwhile. Once that has gone through, retrying sends only what is still "
                "owed.")
    db.session.commit()
    return result


def record_outcome(refund_id: int, *, provider: ProviderRefund | None = None,
                   error: PermanentPaymentError | None = None,
                   actor: Actor | None = None, commit: bool = True,
                   return_id: int | None = None) -> str:
    """Write what Stripe said (under the return's lock), move the return, commit (unless
    the caller commits it with its own bookkeeping: `commit=False`). `return_id`: the
    refund's return, when the caller knows it (the job): the refund is then read once,
    under its lock, instead of once to learn it and again under the lock."""
    if return_id is not None:
        refund, ret = lock_refund_of_return(refund_id, return_id)
    else:
        refund = db.session.get(Refund, refund_id)
        ret = lock_with_return(refund) if refund is not None else None
    if refund is None:
        return "missing"
    if provider is not None:
        result = apply_provider_answer(refund, ret, provider, actor=actor or STRIPE_ACTOR)
    else:
        assert error is not None
        result = apply_refund_status(refund, ret, "failed", failure_reason=error.code,
                                     message=error.message, actor=actor or STRIPE_ACTOR)
    if commit:
        db.session.commit()
    return result
